package requests

import (
	"encoding/hex"
	"testing"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func stranger() dm.Stranger {
	k := keys.GeneratePrivateKey().Public()
	return dm.Stranger{Peer: k.PeerID(), Key: k, RatchetMessage: []byte{1}}
}

func admit(t *testing.T, st *storage.Store, a *Admission, s dm.Stranger) string {
	t.Helper()
	var reason string
	if err := st.Update(func(tx *storage.Txn) error {
		var err error
		reason, err = a.AdmitStranger(tx, s)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return reason
}

// TestAdmissionStampAndToken: with a stamp asked, a stranger without one
// is told to retry; a one-time token admits its first user instead, and
// that peer from then on, but no second peer.
func TestAdmissionStampAndToken(t *testing.T) {
	st := openStore(t)
	a := NewAdmission(AdmissionConfig{Limits: DefaultLimits, Self: keys.GeneratePrivateKey().Public(), StampDifficulty: 8})
	if r := admit(t, st, a, stranger()); r != "proof-of-work stamp required" {
		t.Fatalf("no stamp: %q", r)
	}
	tok := make([]byte, contacts.TokenBytes)
	tok[0] = 1
	if err := st.Update(func(tx *storage.Txn) error {
		return tx.PutSetting(contacts.TokenKey(hex.EncodeToString(tok)), []byte{1})
	}); err != nil {
		t.Fatal(err)
	}
	first := stranger()
	first.InviteToken = tok
	if r := admit(t, st, a, first); r != "" {
		t.Fatalf("token: %q", r)
	}
	first.InviteToken = nil
	if r := admit(t, st, a, first); r != "" {
		t.Fatalf("admitted peer, later message: %q", r)
	}
	second := stranger()
	second.InviteToken = tok
	if r := admit(t, st, a, second); r != "proof-of-work stamp required" {
		t.Fatalf("used token: %q", r)
	}
}

// TestAdmissionCaps: the per-sender thread cap, the inbox cap and the rate
// limit each refuse with a reason.
func TestAdmissionCaps(t *testing.T) {
	st := openStore(t)
	l := DefaultLimits
	l.RequestMessagesPerSender, l.RequestThreads = 2, 1
	a := NewAdmission(AdmissionConfig{Limits: l, Self: keys.GeneratePrivateKey().Public()})
	s := stranger()
	s.Stored = 2
	if r := admit(t, st, a, s); r != "request thread full until accepted" {
		t.Fatalf("thread cap: %q", r)
	}
	if err := st.Update(func(tx *storage.Txn) error {
		return tx.PutContact(storage.Contact{Peer: stranger().Peer, State: storage.ContactUnknown})
	}); err != nil {
		t.Fatal(err)
	}
	if r := admit(t, st, a, stranger()); r != "requests inbox full" {
		t.Fatalf("inbox cap: %q", r)
	}
	l.RequestThreads, l.StrangerBurst = 100, 1
	a = NewAdmission(AdmissionConfig{Limits: l, Self: keys.GeneratePrivateKey().Public()})
	s = stranger()
	if r := admit(t, st, a, s); r != "" {
		t.Fatalf("first: %q", r)
	}
	if r := admit(t, st, a, s); r != "rate limited" {
		t.Fatalf("burst: %q", r)
	}
}

// TestOneTimePreKeyAllowance: by default a peer's bundles carry a one-time
// prekey three times in a row, then not (the signed prekey alone) while
// another peer still gets its own; bundles themselves come faster.
func TestOneTimePreKeyAllowance(t *testing.T) {
	for _, l := range []Limits{DefaultLimits, {PreKeyRate: 1, PreKeyBurst: 5}} { // zero: the defaults'
		a := NewAdmission(AdmissionConfig{Limits: l, Self: keys.GeneratePrivateKey().Public()})
		greedy, other := stranger().Peer, stranger().Peer
		got := 0
		for range 10 {
			if a.AllowOneTimePreKey(greedy) {
				got++
			}
		}
		if got != DefaultLimits.OneTimePreKeyBurst {
			t.Errorf("limits %+v: %d of 10 bundles in a row with a one-time prekey, want %d", l, got, DefaultLimits.OneTimePreKeyBurst)
		}
		if !a.AllowOneTimePreKey(other) {
			t.Errorf("limits %+v: another peer refused a one-time prekey", l)
		}
	}
}
