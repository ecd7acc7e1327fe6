package room

import (
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

// Limits of role grants.
const (
	// MaxGrantLifetime is the longest a grant may last from issue to expiry:
	// long enough for a recurring room's regulars, short enough that a grant
	// the host regrets (there is no revocation yet) does not last for ever.
	MaxGrantLifetime = 30 * 24 * time.Hour
	// MaxClockSkew is how far in the future a grant's issue time may be, to
	// allow for the host's clock running ahead of the verifier's.
	MaxClockSkew = 5 * time.Minute
	// MaxGrantSize is the largest encoded grant.
	MaxGrantSize = 256
)

const domainGrant = "room/grant/v1"

// RoleGrant gives Grantee a Role in Room from IssuedAt until ExpiresAt,
// signed by the room's host. The host is not in the grant: the verifier takes
// it from the room's verified Descriptor.
type RoleGrant struct {
	Room      ID
	Grantee   keys.PublicKey
	Role      Role
	IssuedAt  time.Time
	ExpiresAt time.Time
	Signature [keys.SignatureSize]byte
}

// Sign signs g with the host's key. Times are rounded to the millisecond. On
// error g is unchanged. Sign does not know the room's host: a grant signed by
// another key fails Verify.
func (g *RoleGrant) Sign(host keys.PrivateKey) error {
	if host.IsZero() {
		return fmt.Errorf("%w: sign role grant: zero private key: %w", ErrInvalid, keys.ErrZeroKey)
	}
	s := *g
	s.IssuedAt = roundMilli(s.IssuedAt)
	s.ExpiresAt = roundMilli(s.ExpiresAt)
	if err := s.check(); err != nil {
		return err
	}
	copy(s.Signature[:], host.Sign(domainGrant, s.signedBytes()))
	*g = s
	return nil
}

// Verify checks that g is well formed, is for room, holds at now (issued no
// later than now plus MaxClockSkew, not yet expired) and is signed by host.
// It checks the cheap conditions before the signature.
func (g RoleGrant) Verify(host keys.PublicKey, room ID, now time.Time) error {
	if host.IsZero() {
		return fmt.Errorf("%w: verify role grant with a zero host key: %w", ErrInvalid, keys.ErrZeroKey)
	}
	if now.IsZero() {
		return fmt.Errorf("%w: verify role grant at the zero time", ErrInvalid)
	}
	if err := g.check(); err != nil {
		return err
	}
	if g.Room != room {
		return fmt.Errorf("%w: role grant is for room %s, not %s", ErrWrongRoom, g.Room, room)
	}
	if !now.Before(g.ExpiresAt) {
		return fmt.Errorf("%w: %s grant to %s expired at %s", ErrExpired, g.Role, g.Grantee, formatTime(g.ExpiresAt))
	}
	if g.IssuedAt.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: %s grant to %s issued at %s, now is %s", ErrNotYetValid, g.Role, g.Grantee, formatTime(g.IssuedAt), formatTime(now))
	}
	if !host.Verify(domainGrant, g.signedBytes(), g.Signature[:]) {
		return fmt.Errorf("%w: %s grant to %s is not signed by host %s", ErrBadSignature, g.Role, g.Grantee, host)
	}
	return nil
}

// check checks every field but the signature.
func (g RoleGrant) check() error {
	if g.Room.IsZero() {
		return fmt.Errorf("%w: role grant has a zero room ID", ErrInvalid)
	}
	if g.Grantee.IsZero() {
		return fmt.Errorf("%w: role grant has a zero grantee: %w", ErrInvalid, keys.ErrZeroKey)
	}
	if !g.Role.Valid() {
		return fmt.Errorf("%w: %s", ErrUnknownRole, g.Role)
	}
	if err := checkTime("role grant issue time", g.IssuedAt); err != nil {
		return err
	}
	if err := checkTime("role grant expiry", g.ExpiresAt); err != nil {
		return err
	}
	// In milliseconds, as signed; both are positive, so no overflow.
	issued, expires := unixMilli(g.IssuedAt), unixMilli(g.ExpiresAt)
	if expires <= issued {
		return fmt.Errorf("%w: expires at %s, not after its issue at %s", ErrLifetime, formatTime(g.ExpiresAt), formatTime(g.IssuedAt))
	}
	if life := time.Duration(expires-issued) * time.Millisecond; expires-issued > MaxGrantLifetime.Milliseconds() {
		return fmt.Errorf("%w: lasts %s, max %s", ErrLifetime, life, MaxGrantLifetime)
	}
	return nil
}

func (g RoleGrant) signedBytes() []byte {
	var b canon.Builder
	return b.Fixed(g.Room[:]).
		Fixed(g.Grantee[:]).
		Uint64(uint64(g.Role)).
		Int64(unixMilli(g.IssuedAt)).
		Int64(unixMilli(g.ExpiresAt)).
		Build()
}
