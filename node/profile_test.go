package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// TestProfileNamesFlow: two people who took each other's invites (so no
// request is accepted) and set their names before they wrote see each
// other's names once both have written, and a changed name reaches the
// other side.
func TestProfileNamesFlow(t *testing.T) {
	a, b := newTestNode(t, ""), newTestNode(t, "")
	for n, name := range map[*testNode]string{a: "Alice", b: "Bob"} {
		if err := n.SetProfileName(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.AddContact(t.Context(), b.invite(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), ""); err != nil {
		t.Fatal(err)
	}
	a.waitState(b.ID(), a.send(b.ID(), "hi, it's me").ID, storage.StateDelivered)
	b.waitState(a.ID(), b.send(a.ID(), "hi back").ID, storage.StateDelivered)
	profileOf := func(n *testNode, p peer.ID) string {
		cs, err := n.Contacts()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Peer == p {
				return c.ProfileName
			}
		}
		return ""
	}
	a.waitUntil("alice sees bob's name", func() bool { return profileOf(a, b.ID()) == "Bob" })
	b.waitUntil("bob sees alice's name", func() bool { return profileOf(b, a.ID()) == "Alice" })

	if err := a.SetProfileName("Alice Liddell"); err != nil {
		t.Fatal(err)
	}
	b.waitUntil("bob sees alice's new name", func() bool { return profileOf(b, a.ID()) == "Alice Liddell" })
}
