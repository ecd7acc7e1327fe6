// Package naming is how the node shows a peer that names itself where
// others cannot check the name: in a live room (the name it signs on its
// lines and presence) or in a private group (the profile name it announces
// to the members). Anyone can give any name, so a name is shown as a claim,
// by one rule for rooms and groups alike:
//
//   - this node is shown as the caller says (rooms: "you", or "Alice
//     (you)"; groups: "you");
//   - an accepted contact by the name we know them by (our name for them,
//     else their profile name), with its verification state, whatever it
//     claims;
//   - any other peer by the name it claims, followed by the end of its peer
//     ID when another peer there, a contact or we ourselves use the same
//     name (compared case-folded, spaces collapsed), so that two keys are
//     never shown alike;
//   - a peer that claims no name by the end of its peer ID.
package naming

import (
	"cmp"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// Short is the end of a peer ID, which tells keys apart on screen: "…" and
// its last 8 characters.
func Short(p peer.ID) string {
	s := p.String()
	if len(s) > 8 {
		s = s[len(s)-8:]
	}
	return "…" + s
}

// Fold is the form in which two names count as the same: lower case, runs
// of spaces as one, no space at either end.
func Fold(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// Person is how one peer is shown.
type Person struct {
	Peer peer.ID
	// Name is the name the peer gives itself there; may be empty.
	Name string
	// Display is what to show (see the package doc).
	Display string
	// Contact: an accepted contact; Verified: its safety number was checked.
	Contact, Verified bool
	// Me: this node.
	Me bool
}

// Namer shows the peers of one room or group at one moment. Claim every
// name given there, then ask for Person.
type Namer struct {
	self        peer.ID
	selfDisplay string
	contacts    map[peer.ID]storage.Contact // accepted contacts
	// taken maps a folded name to the peers claiming it, the empty peer
	// standing for the names of contacts and our own.
	taken map[string]map[peer.ID]struct{}
}

// New makes a Namer for this node (self, shown as selfDisplay, going by
// selfName there, empty for none) from the contacts in tx: each accepted
// contact claims the name we know it by.
func New(tx *storage.Txn, self peer.ID, selfDisplay, selfName string) (*Namer, error) {
	cs, err := tx.Contacts()
	if err != nil {
		return nil, err
	}
	return FromContacts(cs, self, selfDisplay, selfName), nil
}

// FromContacts is New from a list of contacts read already (rooms read it
// before taking a room's lock).
func FromContacts(cs []storage.Contact, self peer.ID, selfDisplay, selfName string) *Namer {
	n := &Namer{self: self, selfDisplay: selfDisplay, contacts: map[peer.ID]storage.Contact{}, taken: map[string]map[peer.ID]struct{}{}}
	for _, c := range cs {
		if c.State != storage.ContactAccepted {
			continue
		}
		n.contacts[c.Peer] = c
		n.Claim(cmp.Or(c.Name, c.ProfileName), "")
	}
	n.Claim(selfName, "")
	return n
}

// Claim records that p goes by name; the empty p is a name that no other
// peer may use unmarked (a contact's, ours).
func (n *Namer) Claim(name string, p peer.ID) {
	if name == "" {
		return
	}
	f := Fold(name)
	if n.taken[f] == nil {
		n.taken[f] = map[peer.ID]struct{}{}
	}
	n.taken[f][p] = struct{}{}
}

// Person is how p, which gives itself name (empty: none), is shown.
func (n *Namer) Person(p peer.ID, name string) Person {
	out := Person{Peer: p, Name: name}
	switch c, contact := n.contacts[p]; {
	case p == n.self:
		out.Me, out.Display = true, n.selfDisplay
	case contact:
		out.Contact, out.Verified = true, c.Verified
		out.Display = cmp.Or(c.Name, c.ProfileName, name, Short(p))
	case name == "":
		out.Display = Short(p)
	default:
		out.Display = name
		others := n.taken[Fold(name)]
		if _, mine := others[p]; len(others) > 1 || !mine {
			out.Display = name + " (" + Short(p) + ")"
		}
	}
	return out
}
