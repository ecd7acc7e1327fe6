package naming

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/storage"
)

func newPeer() peer.ID { return keys.GeneratePrivateKey().Public().PeerID() }

// TestNamer: we are shown as the caller says; a contact by our name for it,
// with its verification, whatever it claims; a stranger by its claim,
// marked with the end of its peer ID when a contact, we or another peer go
// by the same name (case and spaces aside); no claim, the end of the ID.
func TestNamer(t *testing.T) {
	s, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	self, bob, carol, dave, eve, mallory, pending := newPeer(), newPeer(), newPeer(), newPeer(), newPeer(), newPeer(), newPeer()
	err = s.Update(func(tx *storage.Txn) error {
		for _, c := range []storage.Contact{
			{Peer: bob, State: storage.ContactAccepted, Name: "Bobby", ProfileName: "Bob", Verified: true},
			{Peer: carol, State: storage.ContactAccepted, ProfileName: "Carol"},
			{Peer: pending, State: storage.ContactUnknown, ProfileName: "Pat"},
		} {
			if err := tx.PutContact(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n *Namer
	if err := s.View(func(tx *storage.Txn) (err error) { n, err = New(tx, self, "you", "Alice"); return err }); err != nil {
		t.Fatal(err)
	}
	claims := map[peer.ID]string{bob: "Mallory", carol: "", dave: "Dave", eve: "  dave ", mallory: "bobby", pending: "Pat"}
	for p, name := range claims {
		n.Claim(name, p)
	}
	for _, tc := range []struct {
		p            peer.ID
		name         string
		want         string
		contact, ver bool
	}{
		{self, "Alice", "you", false, false},
		{bob, "Mallory", "Bobby", true, true},
		{carol, "", "Carol", true, false},
		{dave, "Dave", "Dave (" + Short(dave) + ")", false, false},
		{eve, "  dave ", "  dave  (" + Short(eve) + ")", false, false},
		{mallory, "bobby", "bobby (" + Short(mallory) + ")", false, false},
		{pending, "Pat", "Pat", false, false}, // a stranger with a request is no contact
	} {
		got := n.Person(tc.p, tc.name)
		if got.Display != tc.want || got.Contact != tc.contact || got.Verified != tc.ver || got.Me != (tc.p == self) || got.Name != tc.name || got.Peer != tc.p {
			t.Errorf("Person(%s, %q) = %+v, want %q contact %v verified %v", tc.p, tc.name, got, tc.want, tc.contact, tc.ver)
		}
	}
	// A claim of our own name, or none at all.
	other := newPeer()
	if got := n.Person(other, "ALICE").Display; got != "ALICE ("+Short(other)+")" {
		t.Errorf("a stranger claiming our name shows as %q", got)
	}
	if got := n.Person(other, "").Display; got != Short(other) || len([]rune(got)) != 9 {
		t.Errorf("a peer without a name shows as %q", got)
	}
}
