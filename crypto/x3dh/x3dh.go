// Package x3dh implements the Extended Triple Diffie-Hellman key agreement
// (Signal's X3DH specification) that starts every Backchannel 1:1 session.
//
// The initiator fetches the responder's prekey bundle, verifies it, and
// computes a shared secret from up to four X25519 exchanges. It sends a Header
// with its first messages; the responder recomputes the same secret from it.
// Both sides bind their Ed25519 and X25519 identities into the associated
// data of every message of the session.
package x3dh

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/internal/sessionpb"
	"github.com/backchannel/backchannel/crypto/keys"
)

const (
	version  = 1
	infoKDF  = "backchannel/x3dh/v1"
	domainAD = "backchannel/x3dh/ad/v1"
)

// Errors returned by this package.
var (
	// ErrMalformed means an encoded header is not valid.
	ErrMalformed = errors.New("x3dh: malformed header")
	// ErrWrongPreKey means the header names a prekey other than the one given.
	ErrWrongPreKey = errors.New("x3dh: header names another prekey")
	// ErrSelf means both sides of the agreement are the same identity.
	ErrSelf = errors.New("x3dh: session with oneself")
)

// SharedSecret is the 32-byte secret both sides agree on. It seeds the
// Double Ratchet's root key.
type SharedSecret struct{ k kdf.Key }

// Key returns the secret for the ratchet package.
func (s SharedSecret) Key() kdf.Key { return s.k }

// String never prints the secret.
func (SharedSecret) String() string { return "x3dh.SharedSecret(redacted)" }

// GoString never prints the secret.
func (s SharedSecret) GoString() string { return s.String() }

// Result is what both sides take from the agreement into the Double Ratchet.
type Result struct {
	Secret SharedSecret
	// AssociatedData binds both parties' identities; every message of the
	// session authenticates it.
	AssociatedData []byte
	// Local and Remote are the two public identities.
	Local, Remote identity.PublicIdentity
	// ResponderRatchetKey is the responder's signed prekey: the initiator's
	// first ratchet public key, the responder's first ratchet key pair.
	ResponderRatchetKey keys.DHPublic
}

// Header is what the initiator sends so that the responder can compute the
// same secret.
type Header struct {
	Initiator        identity.PublicIdentity
	Ephemeral        keys.DHPublic
	SignedPreKeyID   uint32
	HasOneTimePreKey bool
	OneTimePreKeyID  uint32
}

// Initiate runs the initiator's side against a responder's bundle. It
// verifies the bundle first.
func Initiate(self identity.Identity, bundle identity.Bundle, now time.Time) (Result, Header, error) {
	if err := bundle.Verify(now); err != nil {
		return Result{}, Header{}, fmt.Errorf("x3dh: %w", err)
	}
	if bundle.Identity.Key == self.Public().Key {
		return Result{}, Header{}, ErrSelf
	}
	ek := keys.GenerateDH()
	spk := bundle.SignedPreKey.Public
	dhs := []dhPair{
		{self.DH(), spk},         // DH1 = DH(IK_A, SPK_B)
		{ek, bundle.Identity.DH}, // DH2 = DH(EK_A, IK_B)
		{ek, spk},                // DH3 = DH(EK_A, SPK_B)
	}
	h := Header{Initiator: self.Public(), Ephemeral: ek.Public(), SignedPreKeyID: bundle.SignedPreKey.ID}
	if bundle.OneTimePreKey != nil {
		dhs = append(dhs, dhPair{ek, bundle.OneTimePreKey.Public}) // DH4 = DH(EK_A, OPK_B)
		h.HasOneTimePreKey, h.OneTimePreKeyID = true, bundle.OneTimePreKey.ID
	}
	secret, err := agree(dhs)
	if err != nil {
		return Result{}, Header{}, err
	}
	return Result{
		Secret:              secret,
		AssociatedData:      associatedData(self.Public(), bundle.Identity),
		Local:               self.Public(),
		Remote:              bundle.Identity,
		ResponderRatchetKey: spk,
	}, h, nil
}

// Respond runs the responder's side. spk must be the signed prekey the header
// names, and opk the one-time prekey it names (nil when it names none). The
// caller deletes opk after the first message of the session decrypts, and
// must check that h.Initiator.Key is the peer the message came from.
func Respond(self identity.Identity, spk identity.SignedPreKeyPair, opk *identity.OneTimePreKeyPair, h Header) (Result, error) {
	if err := h.Initiator.Verify(); err != nil {
		return Result{}, fmt.Errorf("x3dh: %w", err)
	}
	if h.Initiator.Key == self.Public().Key {
		return Result{}, ErrSelf
	}
	if h.SignedPreKeyID != spk.ID {
		return Result{}, fmt.Errorf("%w: signed prekey %d, have %d", ErrWrongPreKey, h.SignedPreKeyID, spk.ID)
	}
	if h.HasOneTimePreKey != (opk != nil) || opk != nil && opk.ID != h.OneTimePreKeyID {
		return Result{}, fmt.Errorf("%w: one-time prekey", ErrWrongPreKey)
	}
	dhs := []dhPair{
		{spk.Private, h.Initiator.DH}, // DH1
		{self.DH(), h.Ephemeral},      // DH2
		{spk.Private, h.Ephemeral},    // DH3
	}
	if opk != nil {
		dhs = append(dhs, dhPair{opk.Private, h.Ephemeral}) // DH4
	}
	secret, err := agree(dhs)
	if err != nil {
		return Result{}, err
	}
	return Result{
		Secret:              secret,
		AssociatedData:      associatedData(h.Initiator, self.Public()),
		Local:               self.Public(),
		Remote:              h.Initiator,
		ResponderRatchetKey: spk.Public,
	}, nil
}

type dhPair struct {
	priv keys.DHPrivate
	pub  keys.DHPublic
}

// agree computes SK = HKDF(F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4]) with F = 32 0xFF bytes
// and a zero salt, per the specification's X25519 variant.
func agree(dhs []dhPair) (SharedSecret, error) {
	ikm := make([]byte, 32, 32+32*len(dhs))
	for i := range ikm {
		ikm[i] = 0xff
	}
	for _, d := range dhs {
		s, err := d.priv.DH(d.pub)
		if err != nil {
			return SharedSecret{}, fmt.Errorf("x3dh: %w", err)
		}
		ikm = append(ikm, s[:]...)
	}
	var s SharedSecret
	copy(s.k[:], kdf.HKDF(ikm, make([]byte, 32), infoKDF, 32))
	return s, nil
}

func associatedData(initiator, responder identity.PublicIdentity) []byte {
	var b canon.Builder
	return b.String(domainAD).
		Fixed(initiator.Key[:]).Fixed(initiator.DH[:]).
		Fixed(responder.Key[:]).Fixed(responder.DH[:]).Build()
}

// AppendCanonical appends the header's canonical encoding to b, for binding
// it into associated data.
func (h Header) AppendCanonical(b []byte) []byte {
	var w canon.Builder
	w.Fixed(b).Fixed(h.Initiator.Key[:]).Fixed(h.Initiator.DH[:]).Bytes(h.Initiator.Signature).
		Fixed(h.Ephemeral[:]).Uint64(uint64(h.SignedPreKeyID))
	if h.HasOneTimePreKey {
		w.Uint64(1).Uint64(uint64(h.OneTimePreKeyID))
	} else {
		w.Uint64(0)
	}
	return w.Build()
}

// ToProto converts to the wire type. For use by the crypto packages only.
func (h Header) ToProto() *sessionpb.X3DHHeader {
	return &sessionpb.X3DHHeader{
		Version:          version,
		Initiator:        h.Initiator.ToProto(),
		EphemeralKey:     h.Ephemeral.Bytes(),
		SignedPreKeyId:   h.SignedPreKeyID,
		HasOneTimePreKey: h.HasOneTimePreKey,
		OneTimePreKeyId:  h.OneTimePreKeyID,
	}
}

// HeaderFromProto converts from the wire type, checking its form; Respond
// verifies the initiator's identity. For use by the crypto packages only.
func HeaderFromProto(m *sessionpb.X3DHHeader) (Header, error) {
	if m == nil {
		return Header{}, fmt.Errorf("%w: missing", ErrMalformed)
	}
	if m.Version != version {
		return Header{}, fmt.Errorf("%w: version %d", ErrMalformed, m.Version)
	}
	id, err := identity.PublicIdentityFromProto(m.Initiator)
	if err != nil {
		return Header{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ek, err := keys.DHPublicFromBytes(m.EphemeralKey)
	if err != nil {
		return Header{}, fmt.Errorf("%w: ephemeral key: %w", ErrMalformed, err)
	}
	if !m.HasOneTimePreKey && m.OneTimePreKeyId != 0 {
		return Header{}, fmt.Errorf("%w: one-time prekey ID without a one-time prekey", ErrMalformed)
	}
	return Header{
		Initiator:        id,
		Ephemeral:        ek,
		SignedPreKeyID:   m.SignedPreKeyId,
		HasOneTimePreKey: m.HasOneTimePreKey,
		OneTimePreKeyID:  m.OneTimePreKeyId,
	}, nil
}

// MarshalBinary encodes the header.
func (h Header) MarshalBinary() ([]byte, error) { return proto.Marshal(h.ToProto()) }

// UnmarshalHeader decodes a header, checking its form; Respond verifies the
// initiator's identity.
func UnmarshalHeader(b []byte) (Header, error) {
	var m sessionpb.X3DHHeader
	if err := proto.Unmarshal(b, &m); err != nil {
		return Header{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return HeaderFromProto(&m)
}
