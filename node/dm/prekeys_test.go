package dm

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// openGate admits everything; oneTime says whether bundles carry a
// one-time prekey.
type openGate struct{ oneTime bool }

func (openGate) AllowPreKey(peer.ID) bool                             { return true }
func (g openGate) AllowOneTimePreKey(peer.ID) bool                    { return g.oneTime }
func (openGate) AdmitStranger(*storage.Txn, Stranger) (string, error) { return "", nil }

// preKeyService is a 1:1 service with a store, an identity and a clock the
// test moves: enough to mint bundles, sweep, and start sessions as responder.
func preKeyService(t *testing.T, now *time.Time) *Service {
	t.Helper()
	st, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Service{
		env: env.Env{Store: st, Identity: identity.New(), Log: slog.New(slog.DiscardHandler)},
		cfg: Config{Gate: openGate{oneTime: true}, Now: func() time.Time { return *now }},
	}
}

// firstMessage is a stranger's first message made from bundle b at time at.
func firstMessage(t *testing.T, b identity.Bundle, at time.Time) ratchet.Message {
	t.Helper()
	s, err := ratchet.Initiate(identity.New(), b, at)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Encrypt([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// respondAt starts a responder session from m at the service's clock.
func respondAt(t *testing.T, d *Service, m ratchet.Message) error {
	t.Helper()
	return d.env.Store.Update(func(tx *storage.Txn) error {
		_, err := (&receipt{d: d, tx: tx}).respond(m)
		return err
	})
}

func oneTimeCount(t *testing.T, d *Service) int {
	t.Helper()
	var n int
	if err := d.env.Store.View(func(tx *storage.Txn) (err error) { n, err = tx.CountOneTimePreKeys(); return err }); err != nil {
		t.Fatal(err)
	}
	return n
}

func signedIDs(t *testing.T, d *Service) []uint32 {
	t.Helper()
	var ids []uint32
	if err := d.env.Store.View(func(tx *storage.Txn) (err error) { ids, err = tx.SignedPreKeyIDs(); return err }); err != nil {
		t.Fatal(err)
	}
	return ids
}

const day = 24 * time.Hour

// TestPreKeyLifetimes: a first message is refused, with a clear error, when
// the signed prekey it names has expired or was deleted, or its one-time
// prekey is used, expired or unknown; within their lifetimes it starts a
// session and uses its one-time prekey up.
func TestPreKeyLifetimes(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	d := preKeyService(t, &now)
	p := peer.ID("someone")

	b1, err := d.mintBundle(now, p) // signed prekey s1, one-time prekey o1
	if err != nil || b1.OneTimePreKey == nil {
		t.Fatalf("bundle %+v, %v; want one with a one-time prekey", b1, err)
	}
	fresh := firstMessage(t, b1, now)
	now = t0.Add(time.Hour)
	if err := respondAt(t, d, fresh); err != nil {
		t.Fatalf("a first message within the lifetimes: %v", err)
	}
	if n := oneTimeCount(t, d); n != 0 {
		t.Fatalf("%d one-time prekeys left after use, want 0", n)
	}

	// Two more one-time prekeys under s1; a week on, s2 replaces s1. A
	// bundle pairing s2 with an old one-time prekey lets the test tell the
	// one-time prekey's expiry from s1's.
	b2, _ := d.mintBundle(now, p)
	b2old, _ := d.mintBundle(now, p)
	now = t0.Add(signedPreKeyRotate + time.Hour)
	b3, _ := d.mintBundle(now, p) // s2
	if b3.SignedPreKey.ID == b1.SignedPreKey.ID {
		t.Fatalf("signed prekey %d not rotated after %v", b1.SignedPreKey.ID, signedPreKeyRotate)
	}
	s1Only := d.env.Identity.NewBundle(b1.SignedPreKey, nil, 0)
	s2Only := d.env.Identity.NewBundle(b3.SignedPreKey, nil, 0)
	oldOPK := d.env.Identity.NewBundle(b3.SignedPreKey, b2old.OneTimePreKey, 0)
	unknownOPK := d.env.Identity.NewBundle(b3.SignedPreKey, &identity.OneTimePreKey{ID: 999999, Public: b3.OneTimePreKey.Public}, 0)

	s1Gone := b1.SignedPreKey.Expires
	tests := []struct {
		name  string
		msg   ratchet.Message
		at    time.Time
		sweep bool   // sweep the prekeys first
		want  string // in the refusal; "" for none
	}{
		{"one-time prekey used", fresh, now, false, fmt.Sprintf("one-time prekey %d unknown or used", b1.OneTimePreKey.ID)},
		{"one-time prekey unknown", firstMessage(t, unknownOPK, now), now, false, "one-time prekey 999999 unknown or used"},
		{"replaced signed prekey in its grace", firstMessage(t, b2, now), now, false, ""},
		{"current signed prekey, no one-time prekey", firstMessage(t, s2Only, now), s1Gone, false, ""},
		{"signed prekey expired, not yet deleted", firstMessage(t, s1Only, t0), s1Gone, false, "expired at"},
		{"one-time prekey expired, not yet deleted", firstMessage(t, oldOPK, now), b2old.SignedPreKey.Expires.Add(time.Hour), false, fmt.Sprintf("one-time prekey %d expired", b2old.OneTimePreKey.ID)},
		{"signed prekey deleted", firstMessage(t, s1Only, t0), s1Gone, true, "unknown or deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.at
			if tt.sweep {
				if _, _, err := d.sweepPreKeys(now); err != nil {
					t.Fatal(err)
				}
			}
			err := respondAt(t, d, tt.msg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "":
			case err == nil || !errors.Is(err, errs.ErrStalePreKey) || !errors.Is(err, errs.ErrProtocol) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("respond: %v; want a stale prekey refused: %q", err, tt.want)
			}
		})
	}
}

// TestPreKeySweep: the sweep rotates the signed prekey every week even when
// no one asks for a bundle, deletes a replaced one once its grace is over
// (never the current one), deletes one-time prekeys left unused for their
// lifetime, which frees room under the cap, and starts the lifetime of one
// stored without a time at the first sweep.
func TestPreKeySweep(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	d := preKeyService(t, &now)
	sweep := func(at time.Time) (signed, oneTime int) {
		t.Helper()
		now = at
		signed, oneTime, err := d.sweepPreKeys(at)
		if err != nil {
			t.Fatal(err)
		}
		return signed, oneTime
	}
	for _, p := range []peer.ID{"a", "b", "c"} {
		if _, err := d.mintBundle(now, p); err != nil {
			t.Fatal(err)
		}
	}
	// One stored before one-time prekeys had times.
	if err := d.env.Store.Update(func(tx *storage.Txn) error {
		pair := identity.NewOneTimePreKey(1000)
		b, _ := pair.MarshalBinary()
		return tx.PutOneTimePreKey(1000, time.Time{}, b)
	}); err != nil {
		t.Fatal(err)
	}
	legacyFrom := t0.Add(day)
	if s, o := sweep(legacyFrom); s != 0 || o != 0 || len(signedIDs(t, d)) != 1 || oneTimeCount(t, d) != 4 {
		t.Fatalf("day 1: deleted %d signed, %d one-time; hold %v, %d; want nothing deleted", s, o, signedIDs(t, d), oneTimeCount(t, d))
	}
	if s, o := sweep(t0.Add(signedPreKeyRotate)); s != 0 || o != 0 || len(signedIDs(t, d)) != 2 {
		t.Fatalf("a week on: deleted %d signed, %d one-time; hold signed %v; want a second signed prekey", s, o, signedIDs(t, d))
	}
	// Three weeks on: the first signed prekey's grace is over; the second,
	// replaced by a third, is in its own.
	if s, o := sweep(t0.Add(signedPreKeyLifetime)); s != 1 || o != 3 || len(signedIDs(t, d)) != 2 || oneTimeCount(t, d) != 1 {
		t.Fatalf("at the first signed prekey's expiry: deleted %d signed, %d one-time; hold %v, %d; want 1, 3 deleted", s, o, signedIDs(t, d), oneTimeCount(t, d))
	}
	if _, o := sweep(legacyFrom.Add(oneTimePreKeyLifetime)); o != 1 || oneTimeCount(t, d) != 0 {
		t.Fatalf("the untimed one-time prekey: %d deleted, %d left; want deleted a lifetime after the first sweep", o, oneTimeCount(t, d))
	}
	// Months without a bundle request: rotation goes on, the old ones go.
	end := now.Add(90 * day)
	for at := now; at.Before(end); at = at.Add(day) {
		sweep(at)
	}
	if ids := signedIDs(t, d); len(ids) > 3 {
		t.Fatalf("%d signed prekeys held after months of sweeps, want at most 3 (one current, two in grace)", len(ids))
	}
}

// TestBundleOneTimePreKeyAllowance: a bundle carries a one-time prekey only
// when the gate allows p one; otherwise it carries the signed prekey alone.
func TestBundleOneTimePreKeyAllowance(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := preKeyService(t, &now)
	d.cfg.Gate = openGate{oneTime: false}
	b, err := d.mintBundle(now, "greedy")
	if err != nil {
		t.Fatal(err)
	}
	if b.OneTimePreKey != nil || oneTimeCount(t, d) != 0 {
		t.Fatalf("bundle carries one-time prekey %+v (%d stored) though the gate refused it", b.OneTimePreKey, oneTimeCount(t, d))
	}
	if err := b.Verify(now); err != nil {
		t.Fatal(err)
	}
}
