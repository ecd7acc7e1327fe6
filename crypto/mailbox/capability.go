package mailbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/internal/canon"
)

const (
	// CapabilitySize is the size of a Capability.
	CapabilitySize = 24
	// labelSize and macSize split a Capability.
	labelSize = 8
	macSize   = CapabilitySize - labelSize

	labelDepositor  = "backchannel mailbox depositor label v1"
	labelCapability = "backchannel mailbox capability v1"
)

// CapabilityKey is the key a mailbox checks capabilities with. The recipient
// makes one for each mailbox and gives it to that mailbox at appointment. The
// zero key checks nothing.
type CapabilityKey [32]byte

// LabelSecret is the recipient's own key for depositors' pseudonyms; it never
// leaves the recipient.
type LabelSecret [32]byte

// NewCapabilityKey makes a random CapabilityKey.
func NewCapabilityKey() CapabilityKey {
	var k CapabilityKey
	rand.Read(k[:]) // crypto/rand never fails
	return k
}

// NewLabelSecret makes a random LabelSecret.
func NewLabelSecret() LabelSecret {
	var s LabelSecret
	rand.Read(s[:])
	return s
}

// String never prints the key.
func (CapabilityKey) String() string { return "mailbox.CapabilityKey(redacted)" }

// GoString never prints the key either.
func (k CapabilityKey) GoString() string { return k.String() }

// String never prints the secret.
func (LabelSecret) String() string { return "mailbox.LabelSecret(redacted)" }

// GoString never prints the secret either.
func (s LabelSecret) GoString() string { return s.String() }

// Capability is what a depositor presents to a mailbox: an 8-byte label that
// names the depositor to the mailbox only as a pseudonym (HMAC-SHA256 of the
// depositor's peer ID under the recipient's LabelSecret, truncated), then a
// 16-byte MAC of the label under the mailbox's CapabilityKey.
//
// The label is the same for every deposit of one depositor, so a mailbox can
// count and limit per depositor, and refuse a label the recipient names,
// without learning who it is. A capability is a bearer token: whoever holds
// it may deposit, so it travels only over encrypted connections.
type Capability [CapabilitySize]byte

// MakeCapability makes depositor's capability for the mailbox that holds k.
func MakeCapability(k CapabilityKey, s LabelSecret, depositor peer.ID) Capability {
	var c Capability
	var msg canon.Builder
	h := hmac.New(sha256.New, s[:])
	h.Write(msg.String(labelDepositor).Bytes([]byte(depositor)).Build())
	copy(c[:labelSize], h.Sum(nil))
	copy(c[labelSize:], k.mac(c.Label()))
	return c
}

// CapabilityFromBytes decodes a capability; it fails with ErrInvalid unless b
// is CapabilitySize bytes.
func CapabilityFromBytes(b []byte) (Capability, error) {
	var c Capability
	if len(b) != CapabilitySize {
		return c, fmt.Errorf("%w: capability of %d bytes, want %d", ErrInvalid, len(b), CapabilitySize)
	}
	copy(c[:], b)
	return c, nil
}

// Label returns the depositor's pseudonym.
func (c Capability) Label() [8]byte {
	var l [labelSize]byte
	copy(l[:], c[:labelSize])
	return l
}

// mac is the MAC of a label under k.
func (k CapabilityKey) mac(label [labelSize]byte) []byte {
	var msg canon.Builder
	h := hmac.New(sha256.New, k[:])
	h.Write(msg.String(labelCapability).Fixed(label[:]).Build())
	return h.Sum(nil)[:macSize]
}

// Check reports whether c was made under k, comparing MACs in constant time.
// It is false for every capability under the zero key.
func (k CapabilityKey) Check(c Capability) bool {
	if k == (CapabilityKey{}) {
		return false
	}
	return hmac.Equal(k.mac(c.Label()), c[labelSize:])
}
