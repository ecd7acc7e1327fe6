package group

import (
	"crypto/sha256"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group/internal/grouppb"
	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

// Limits on envelopes.
const (
	// MaxPlaintext is the largest message a sender may seal: one byte less
	// than the largest padded size (see padding.go).
	MaxPlaintext = maxPadded - 1
	// MaxCiphertext is the largest ciphertext an envelope may carry.
	MaxCiphertext = maxPadded + aead.Overhead
	// MaxSeq bounds sequence numbers: every envelope's Seq is below it. A
	// chain that reaches it is exhausted and the group needs a new epoch.
	MaxSeq = 1 << 32
)

const (
	// envelopeVersion is the stored form this code writes: its plaintext is
	// padded (padding.go). legacyEnvelopeVersion, from before padding, is
	// still read, so that history stored then can be served and opened.
	envelopeVersion       = 2
	legacyEnvelopeVersion = 1
	// maxEnvelopeBytes bounds an encoded envelope before it is parsed.
	maxEnvelopeBytes = MaxCiphertext + 256

	// The sender's signature: a version of its own per stored form, so
	// that no one can pass a padded envelope off as a legacy one or the
	// other way round.
	domainEnvelope       = "group/envelope/v2"
	domainLegacyEnvelope = "group/envelope/v1"

	labelAD           = "backchannel/group/message-ad/v1" // associated data
	labelMessage      = "backchannel/group/message/v1"    // AEAD key and nonce from the message key
	labelEnvelopeHash = "backchannel/group/envelope-hash/v1"
)

// Envelope is one group message: the header, the ciphertext and the sender's
// Ed25519 signature over all of them. It carries no nonce: the AEAD key and
// nonce are both derived from the message key, which is used only once.
//
// This is the form members store and exchange in history sync, where the
// header is in clear. On a topic an envelope travels as a Frame (frame.go),
// which hides the header from everyone without the epoch key.
type Envelope struct {
	Group      ID
	Epoch      uint64
	Sender     keys.PublicKey
	Seq        uint64 // per (group, epoch, sender), from 0
	Ciphertext []byte
	Signature  []byte

	// legacy marks an envelope of the stored form from before padding:
	// its plaintext is not padded and its signature has the old domain.
	legacy bool
}

// domain is the signature domain of the envelope's form.
func (e *Envelope) domain() string {
	if e.legacy {
		return domainLegacyEnvelope
	}
	return domainEnvelope
}

func (e *Envelope) header(b *canon.Builder) *canon.Builder {
	return b.Fixed(e.Group[:]).Uint64(e.Epoch).Fixed(e.Sender[:]).Uint64(e.Seq)
}

// associatedData binds the header to the ciphertext.
func (e *Envelope) associatedData() []byte {
	var b canon.Builder
	return e.header(b.String(labelAD)).Build()
}

// signedBytes is what the sender signs: the header and the ciphertext.
func (e *Envelope) signedBytes() []byte {
	var b canon.Builder
	return e.header(&b).Bytes(e.Ciphertext).Build()
}

// validate checks sizes and zero values, not the signature.
func (e *Envelope) validate() error {
	switch {
	case e.Group.IsZero():
		return fmt.Errorf("%w: envelope with zero group ID", ErrMalformed)
	case e.Sender.IsZero():
		return fmt.Errorf("%w: envelope with zero sender", ErrMalformed)
	case e.Seq >= MaxSeq:
		return fmt.Errorf("%w: envelope sequence %d beyond %d", ErrMalformed, e.Seq, uint64(MaxSeq))
	case len(e.Ciphertext) < aead.Overhead:
		return fmt.Errorf("%w: ciphertext of %d bytes is shorter than the tag", ErrMalformed, len(e.Ciphertext))
	case len(e.Ciphertext) > MaxCiphertext:
		return fmt.Errorf("%w: ciphertext is %d bytes, limit %d", ErrTooLarge, len(e.Ciphertext), MaxCiphertext)
	case len(e.Signature) != keys.SignatureSize:
		return fmt.Errorf("%w: envelope signature is %d bytes, want %d", ErrMalformed, len(e.Signature), keys.SignatureSize)
	}
	return nil
}

// VerifySignature checks that the envelope is well formed and signed by its
// Sender. It needs no key material and no roster, so the topic validator can
// run it first; it does not check that the sender is a member (see
// Roster.CheckSender).
func (e *Envelope) VerifySignature() error {
	if err := e.validate(); err != nil {
		return err
	}
	if !e.Sender.Verify(e.domain(), e.signedBytes(), e.Signature) {
		return fmt.Errorf("%w: envelope %d from %s in group %s epoch %d", ErrBadSignature, e.Seq, e.Sender, e.Group, e.Epoch)
	}
	return nil
}

// Hash names the envelope by its content: SHA-256 over the signed fields and
// the signature, independent of how the envelope was encoded on the wire.
// Ed25519 signatures as Go verifies them cannot be altered by anyone but the
// signer, so a valid envelope's hash cannot be forged either. It suits
// GossipSub's content-hash message ID.
func (e *Envelope) Hash() [32]byte {
	var b canon.Builder
	return sha256.Sum256(b.String(labelEnvelopeHash).Bytes(e.signedBytes()).Bytes(e.Signature).Build())
}

// MarshalBinary encodes the envelope for the wire.
func (e *Envelope) MarshalBinary() ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	version := uint32(envelopeVersion)
	if e.legacy {
		version = legacyEnvelopeVersion
	}
	return proto.Marshal(&grouppb.Envelope{
		Version:    version,
		Group:      e.Group.Bytes(),
		Epoch:      e.Epoch,
		Sender:     e.Sender.Bytes(),
		Seq:        e.Seq,
		Ciphertext: e.Ciphertext,
		Signature:  e.Signature,
	})
}

// UnmarshalEnvelope decodes an envelope and checks its form (version, sizes,
// zero keys), not its signature: call VerifySignature for that.
func UnmarshalEnvelope(b []byte) (*Envelope, error) {
	if len(b) > maxEnvelopeBytes {
		return nil, fmt.Errorf("%w: envelope is %d bytes, limit %d", ErrTooLarge, len(b), maxEnvelopeBytes)
	}
	var m grouppb.Envelope
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
	}
	if m.Version != envelopeVersion && m.Version != legacyEnvelopeVersion {
		return nil, fmt.Errorf("%w: envelope version %d", ErrVersion, m.Version)
	}
	id, err := IDFromBytes(m.Group)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	sender, err := keys.PublicKeyFromBytes(m.Sender)
	if err != nil {
		return nil, fmt.Errorf("%w: envelope sender: %w", ErrMalformed, err)
	}
	e := &Envelope{
		Group:      id,
		Epoch:      m.Epoch,
		Sender:     sender,
		Seq:        m.Seq,
		Ciphertext: m.Ciphertext,
		Signature:  m.Signature,
		legacy:     m.Version == legacyEnvelopeVersion,
	}
	if err := e.validate(); err != nil {
		return nil, err
	}
	return e, nil
}
