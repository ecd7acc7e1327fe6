package mailbox

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

const (
	appointmentVersion = 1
	domainAppointment  = "mailbox/appointment/v1"

	// appointmentFixed is an encoded appointment less its mailbox peer ID:
	// version, recipient, the ID's length byte, two times, signature.
	appointmentFixed = 1 + keys.PublicKeySize + 1 + 8 + 8 + keys.SignatureSize
)

// MaxAppointmentSize is the largest encoded appointment.
const MaxAppointmentSize = appointmentFixed + maxPeerIDSize

// Appointment is a recipient's signed statement that a peer holds mail for it
// until Expires.
//
// Its encoding (MarshalBinary) is version 1 ‖ recipient (32 bytes) ‖ the
// mailbox's peer ID, prefixed by its length in one byte ‖ Issued and Expires
// in Unix seconds, each int64 big-endian ‖ the signature (64 bytes). The
// signature covers canonical bytes of the same fields, not the encoding.
type Appointment struct {
	Recipient keys.PublicKey // who appointed (its Ed25519 identity key)
	Mailbox   peer.ID        // the peer that holds mail
	Issued    time.Time      // second precision, UTC
	Expires   time.Time      // second precision, UTC
	Signature []byte         // 64 bytes, by Recipient, domain "mailbox/appointment/v1"
}

// NewAppointment signs an appointment of mailbox by signer's identity, from
// issued until expires, both truncated to whole seconds in UTC. It fails with
// ErrInvalid if expires is not after issued, issued is not after 1970, the
// mailbox is not a peer ID, or signer is the zero key.
func NewAppointment(signer keys.PrivateKey, mailbox peer.ID, issued, expires time.Time) (Appointment, error) {
	if signer.IsZero() {
		return Appointment{}, fmt.Errorf("%w: zero signing key", ErrInvalid)
	}
	a := Appointment{
		Recipient: signer.Public(),
		Mailbox:   mailbox,
		Issued:    toSeconds(issued),
		Expires:   toSeconds(expires),
	}
	if err := a.checkFields(); err != nil {
		return Appointment{}, err
	}
	a.Signature = signer.Sign(domainAppointment, a.signedBytes())
	return a, nil
}

// toSeconds drops t's fraction of a second (toward the past) and its
// location and monotonic reading.
func toSeconds(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }

// checkFields checks the form of everything but the signature.
func (a Appointment) checkFields() error {
	if a.Recipient.IsZero() {
		return fmt.Errorf("%w: zero recipient key", ErrInvalid)
	}
	if err := checkPeerID("mailbox", a.Mailbox); err != nil {
		return err
	}
	if a.Issued.Nanosecond() != 0 || a.Expires.Nanosecond() != 0 {
		return fmt.Errorf("%w: appointment times are not whole seconds", ErrInvalid)
	}
	// Compare Unix seconds, not time.Time values: any int64 decodes, and
	// the seconds are what is signed.
	if a.Issued.Unix() <= 0 {
		return fmt.Errorf("%w: appointment issued at %d, not after 1970", ErrInvalid, a.Issued.Unix())
	}
	if a.Expires.Unix() <= a.Issued.Unix() {
		return fmt.Errorf("%w: appointment expires (%d) at or before it is issued (%d)", ErrInvalid, a.Expires.Unix(), a.Issued.Unix())
	}
	return nil
}

// check checks the form of the whole appointment.
func (a Appointment) check() error {
	if err := a.checkFields(); err != nil {
		return err
	}
	if len(a.Signature) != keys.SignatureSize {
		return fmt.Errorf("%w: appointment signature is %d bytes, want %d", ErrInvalid, len(a.Signature), keys.SignatureSize)
	}
	return nil
}

func (a Appointment) signedBytes() []byte {
	var w canon.Builder
	return w.String(domainAppointment).
		Fixed(a.Recipient[:]).
		Bytes([]byte(a.Mailbox)).
		Int64(a.Issued.Unix()).
		Int64(a.Expires.Unix()).
		Build()
}

// Verify checks the appointment's form (ErrInvalid), its signature by
// Recipient (ErrBadSignature) and that it has not expired at now
// (ErrExpired, once now reaches Expires). The caller must also check that
// Recipient is the peer it expects, and Mailbox the peer it talks to.
func (a Appointment) Verify(now time.Time) error {
	if err := a.check(); err != nil {
		return err
	}
	if !a.Recipient.Verify(domainAppointment, a.signedBytes(), a.Signature) {
		return fmt.Errorf("%w: appointment of %s by %s", ErrBadSignature, a.Mailbox, a.Recipient)
	}
	if now.Unix() >= a.Expires.Unix() {
		return fmt.Errorf("%w: appointment of %s by %s expired at %s", ErrExpired, a.Mailbox, a.Recipient, a.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// MarshalBinary encodes the appointment. It fails with ErrInvalid if the
// appointment is not well formed; it does not check the signature.
func (a Appointment) MarshalBinary() ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, appointmentFixed+len(a.Mailbox))
	b = append(b, appointmentVersion)
	b = append(b, a.Recipient[:]...)
	b = append(b, byte(len(a.Mailbox)))
	b = append(b, a.Mailbox...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Issued.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(a.Expires.Unix()))
	b = append(b, a.Signature...)
	return b, nil
}

// UnmarshalAppointment decodes an appointment and checks its form: the exact
// length, the version, a non-zero recipient, a peer ID, times in order. Every
// appointment it accepts encodes back to the same bytes. It does not check
// the signature or the expiry: call Verify.
func UnmarshalAppointment(b []byte) (Appointment, error) {
	if len(b) < appointmentFixed || len(b) > MaxAppointmentSize {
		return Appointment{}, fmt.Errorf("%w: appointment of %d bytes, want %d to %d", ErrInvalid, len(b), appointmentFixed, MaxAppointmentSize)
	}
	if b[0] != appointmentVersion {
		return Appointment{}, fmt.Errorf("%w: appointment version %d", ErrInvalid, b[0])
	}
	b = b[1:]
	var a Appointment
	copy(a.Recipient[:], b)
	b = b[keys.PublicKeySize:]
	n := int(b[0])
	b = b[1:]
	if len(b) != n+8+8+keys.SignatureSize {
		return Appointment{}, fmt.Errorf("%w: appointment length does not match its %d-byte mailbox ID", ErrInvalid, n)
	}
	a.Mailbox = peer.ID(b[:n])
	b = b[n:]
	a.Issued = time.Unix(int64(binary.BigEndian.Uint64(b)), 0).UTC()
	a.Expires = time.Unix(int64(binary.BigEndian.Uint64(b[8:])), 0).UTC()
	a.Signature = append([]byte(nil), b[16:]...)
	if err := a.check(); err != nil {
		return Appointment{}, err
	}
	return a, nil
}
