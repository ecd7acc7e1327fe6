package node

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/storage"
)

// invitePrefix starts every invite link.
const invitePrefix = "backchannel://invite?"

// Invite is what a link or QR code carries so that someone can reach a node:
// its peer ID, addresses and, optionally, a display name and a one-time
// token. A first message that carries a valid token skips the proof-of-work
// stamp asked of strangers.
type Invite struct {
	Peer  peer.ID
	Addrs []ma.Multiaddr
	Name  string
	Token string // hex, or empty
}

// inviteTokenBytes is the size of a one-time token.
const inviteTokenBytes = 16

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
	if i.Token != "" {
		v.Set("token", i.Token)
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
	inv := Invite{Peer: id, Name: v.Get("name"), Token: v.Get("token")}
	if len(inv.Name) > maxProfileName {
		return Invite{}, fmt.Errorf("%w: name too long", ErrInvalidInvite)
	}
	if inv.Token != "" {
		if b, err := hex.DecodeString(inv.Token); err != nil || len(b) != inviteTokenBytes {
			return Invite{}, fmt.Errorf("%w: token", ErrInvalidInvite)
		}
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

// Settings keys for invite tokens.
func tokenKey(token string) string      { return "invite-token/" + token }
func tokenForKey(p peer.ID) string      { return "invite-use/" + p.String() }
func tokenAdmittedKey(p peer.ID) string { return "invite-admitted/" + p.String() }

// NewInvite returns this node's invite link; with oneTime it carries a fresh
// token, valid once, that lets its first user skip the stamp.
func (n *Node) NewInvite(oneTime bool) (string, error) {
	inv := Invite{Peer: n.ID(), Addrs: n.net.Host().Addrs(), Name: n.profileName()}
	if oneTime {
		b := make([]byte, inviteTokenBytes)
		rand.Read(b)
		inv.Token = hex.EncodeToString(b)
		err := n.store.Update(func(tx *storage.Txn) error { return tx.PutSetting(tokenKey(inv.Token), []byte{1}) })
		if err != nil {
			return "", err
		}
	}
	return inv.String(), nil
}
