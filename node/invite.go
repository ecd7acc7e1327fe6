package node

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// invitePrefix starts every invite link.
const invitePrefix = "backchannel://invite?"

// Invite is what a link or QR code carries so that someone can reach a node:
// its peer ID, addresses and, optionally, a display name.
type Invite struct {
	Peer  peer.ID
	Addrs []ma.Multiaddr
	Name  string
}

// String encodes the invite as a link.
func (i Invite) String() string {
	v := url.Values{}
	v.Set("peer", i.Peer.String())
	for _, a := range i.Addrs {
		v.Add("addr", a.String())
	}
	if i.Name != "" {
		v.Set("name", i.Name)
	}
	return invitePrefix + v.Encode()
}

// ParseInvite reads an invite link, or a bare peer ID.
func ParseInvite(s string) (Invite, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, invitePrefix) {
		id, err := peer.Decode(s)
		if err != nil {
			return Invite{}, fmt.Errorf("%w: neither an invite link nor a peer ID", ErrInvalidInvite)
		}
		return Invite{Peer: id}, nil
	}
	v, err := url.ParseQuery(strings.TrimPrefix(s, invitePrefix))
	if err != nil {
		return Invite{}, fmt.Errorf("%w: %w", ErrInvalidInvite, err)
	}
	id, err := peer.Decode(v.Get("peer"))
	if err != nil {
		return Invite{}, fmt.Errorf("%w: peer ID: %w", ErrInvalidInvite, err)
	}
	inv := Invite{Peer: id, Name: v.Get("name")}
	if len(inv.Name) > maxProfileName {
		return Invite{}, fmt.Errorf("%w: name too long", ErrInvalidInvite)
	}
	for _, s := range v["addr"] {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return Invite{}, fmt.Errorf("%w: address %q: %w", ErrInvalidInvite, s, err)
		}
		inv.Addrs = append(inv.Addrs, a)
	}
	return inv, nil
}
