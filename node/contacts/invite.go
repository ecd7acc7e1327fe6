package contacts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/backchannel/backchannel/crypto/safename"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/node/errs"
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
	// Mailboxes is where to deposit for the peer while it is away
	// (node/mailbox's list, opaque here); empty without mailboxes.
	Mailboxes []byte
}

// MaxInviteMailboxes bounds an invite's mailbox list.
const MaxInviteMailboxes = 4 << 10

// TokenBytes is the size of a one-time invite token.
const TokenBytes = 16

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
	if len(i.Mailboxes) > 0 {
		v.Set("mbox", base64.RawURLEncoding.EncodeToString(i.Mailboxes))
	}
	return invitePrefix + v.Encode()
}

// ErrIncompleteInvite is an invite link that cannot be read, in the user's
// words: most often it was cut short when copied.
var ErrIncompleteInvite = errors.New("this invite link is incomplete: copy the whole link")

// incomplete is an invite link's part that cannot be read: the user reads
// ErrIncompleteInvite, the daemon's log the detail.
func incomplete(detail error) error {
	return errs.Say(errs.ErrInvalidInvite, ErrIncompleteInvite, fmt.Errorf("%w: %w", errs.ErrInvalidInvite, detail))
}

// ParseInvite reads an invite link, or a bare peer ID.
func ParseInvite(s string) (Invite, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, invitePrefix) {
		id, err := peer.Decode(s)
		if err != nil {
			return Invite{}, fmt.Errorf("%w: neither an invite link nor a peer ID", errs.ErrInvalidInvite)
		}
		return Invite{Peer: id}, nil
	}
	v, err := url.ParseQuery(strings.TrimPrefix(s, invitePrefix))
	if err != nil {
		return Invite{}, incomplete(err)
	}
	id, err := peer.Decode(v.Get("peer"))
	if err != nil {
		return Invite{}, incomplete(fmt.Errorf("peer ID: %w", err))
	}
	inv := Invite{Peer: id, Name: v.Get("name"), Token: v.Get("token")}
	if len(inv.Name) > MaxNameBytes {
		return Invite{}, fmt.Errorf("%w: name too long", errs.ErrInvalidInvite)
	}
	if err := safename.Check(inv.Name); err != nil {
		return Invite{}, fmt.Errorf("%w: %w", errs.ErrInvalidInvite, err)
	}
	if inv.Token != "" {
		if b, err := hex.DecodeString(inv.Token); err != nil || len(b) != TokenBytes {
			return Invite{}, incomplete(errors.New("token"))
		}
	}
	if m := v.Get("mbox"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || len(b) > MaxInviteMailboxes {
			return Invite{}, incomplete(errors.New("mailbox list"))
		}
		inv.Mailboxes = b
	}
	for _, s := range v["addr"] {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return Invite{}, incomplete(fmt.Errorf("address %q: %w", s, err))
		}
		inv.Addrs = append(inv.Addrs, a)
	}
	return inv, nil
}

// Settings keys for invite tokens: a token this node handed out and not yet
// used, the token to send to a peer (from its invite), and a peer a token
// admitted.

// TokenKey names a token this node handed out (hex).
func TokenKey(token string) string { return "invite-token/" + token }

// TokenForKey names the token (hex) to send to p with the first messages.
func TokenForKey(p peer.ID) string { return "invite-use/" + p.String() }

// TokenAdmittedKey marks p as admitted by a token.
func TokenAdmittedKey(p peer.ID) string { return "invite-admitted/" + p.String() }

// Self returns this node's invite, without a token.
func (s *Service) Self() Invite {
	inv := Invite{Peer: s.env.Net.Host().ID(), Addrs: s.env.Net.Host().Addrs(), Name: s.ProfileName()}
	if s.mailboxes != nil {
		inv.Mailboxes = s.mailboxes("")
	}
	return inv
}

// SetInviteMailboxes makes invites carry the node's mailbox list: f returns
// it for an invite with token (or none, "").
func (s *Service) SetInviteMailboxes(f func(token string) []byte) { s.mailboxes = f }

// NewInvite returns this node's invite link; with oneTime it carries a fresh
// token, valid once, that lets its first user skip the stamp.
func (s *Service) NewInvite(oneTime bool) (string, error) {
	inv := s.Self()
	if oneTime {
		b := make([]byte, TokenBytes)
		rand.Read(b)
		inv.Token = hex.EncodeToString(b)
		if s.mailboxes != nil {
			inv.Mailboxes = s.mailboxes(inv.Token)
		}
		err := s.env.Store.Update(func(tx *storage.Txn) error { return tx.PutSetting(TokenKey(inv.Token), []byte{1}) })
		if err != nil {
			return "", err
		}
	}
	return inv.String(), nil
}
