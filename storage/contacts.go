package storage

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// ContactState is what the node does with a peer's messages.
type ContactState uint8

const (
	// ContactUnknown is a stranger who wrote to us: their thread is a request.
	ContactUnknown ContactState = iota
	// ContactAccepted is a contact whose thread is in the inbox.
	ContactAccepted
	// ContactBlocked is a peer whose messages are dropped (answered as a
	// pending stranger's would be).
	ContactBlocked
)

// String returns "unknown", "accepted" or "blocked".
func (s ContactState) String() string {
	switch s {
	case ContactUnknown:
		return "unknown"
	case ContactAccepted:
		return "accepted"
	case ContactBlocked:
		return "blocked"
	}
	return fmt.Sprintf("ContactState(%d)", uint8(s))
}

// Contact is what the node knows about a peer.
type Contact struct {
	Peer        peer.ID
	State       ContactState
	Name        string   // our local name for them (petname), may be empty
	ProfileName string   // their self-asserted display name, from their profile message
	Addrs       []string // multiaddr strings we know
	Verified    bool     // safety number checked
	Origin      string   // context of a request, e.g. "room:<id>"; empty otherwise
	Created     time.Time
	Updated     time.Time
}

// Contact returns the contact for p, or ErrNotFound.
func (t *Txn) Contact(p peer.ID) (Contact, error) {
	k, err := peerKey(prefixContact, p, 0)
	if err != nil {
		return Contact{}, fmt.Errorf("storage: contact: %w", err)
	}
	var r storepb.Contact
	if err := t.getProto(k, &r); err != nil {
		return Contact{}, fmt.Errorf("storage: contact %s: %w", p, err)
	}
	return contactFromRecord(p, &r), nil
}

// PutContact inserts or replaces the contact c.Peer.
func (t *Txn) PutContact(c Contact) error {
	k, err := peerKey(prefixContact, c.Peer, 0)
	if err != nil {
		return fmt.Errorf("storage: put contact: %w", err)
	}
	if c.State > ContactBlocked {
		return fmt.Errorf("storage: put contact: %w: state %v", ErrInvalid, c.State)
	}
	r := &storepb.Contact{
		State:           uint32(c.State),
		Name:            c.Name,
		ProfileName:     c.ProfileName,
		Addrs:           c.Addrs,
		Verified:        c.Verified,
		Origin:          c.Origin,
		CreatedUnixNano: toUnixNano(c.Created),
		UpdatedUnixNano: toUnixNano(c.Updated),
	}
	return wrap("put contact", t.setProto(k, r))
}

// DeleteContact deletes the contact p (not its messages or sessions);
// deleting a missing contact is not an error.
func (t *Txn) DeleteContact(p peer.ID) error {
	k, err := peerKey(prefixContact, p, 0)
	if err != nil {
		return fmt.Errorf("storage: delete contact: %w", err)
	}
	return wrap("delete contact", t.delete(k))
}

// Contacts returns all contacts sorted by Name, then by peer ID.
func (t *Txn) Contacts() ([]Contact, error) {
	var cs []Contact
	err := t.each([]byte(prefixContact), func(k, v []byte) error {
		p, _, err := peerFromKey(prefixContact, k)
		if err != nil {
			return err
		}
		var r storepb.Contact
		if err := proto.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%w: contact %s: %w", ErrCorrupt, p, err)
		}
		cs = append(cs, contactFromRecord(p, &r))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: contacts: %w", err)
	}
	slices.SortFunc(cs, func(a, b Contact) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Peer, b.Peer))
	})
	return cs, nil
}

// ContactByName returns the contact whose Name is exactly name or, if no
// contact has that Name, whose ProfileName is. It returns ErrNotFound if none
// matches and ErrAmbiguous if two or more do.
func (t *Txn) ContactByName(name string) (Contact, error) {
	if name == "" {
		return Contact{}, fmt.Errorf("storage: contact by name: %w: empty name", ErrInvalid)
	}
	cs, err := t.Contacts()
	if err != nil {
		return Contact{}, err
	}
	for _, field := range []func(Contact) string{
		func(c Contact) string { return c.Name },
		func(c Contact) string { return c.ProfileName },
	} {
		var found []Contact
		for _, c := range cs {
			if field(c) == name {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			return Contact{}, fmt.Errorf("storage: contact %q: %w: %d contacts", name, ErrAmbiguous, len(found))
		}
	}
	return Contact{}, fmt.Errorf("storage: contact %q: %w", name, ErrNotFound)
}

func contactFromRecord(p peer.ID, r *storepb.Contact) Contact {
	return Contact{
		Peer:        p,
		State:       ContactState(r.GetState()),
		Name:        r.GetName(),
		ProfileName: r.GetProfileName(),
		Addrs:       r.GetAddrs(),
		Verified:    r.GetVerified(),
		Origin:      r.GetOrigin(),
		Created:     unixNano(r.GetCreatedUnixNano()),
		Updated:     unixNano(r.GetUpdatedUnixNano()),
	}
}
