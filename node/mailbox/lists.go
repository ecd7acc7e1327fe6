package mailbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
	"github.com/backchannel/backchannel/storage"
)

// Settings keys. The node's own list and secrets:
const (
	ownKey           = "mailbox/own"            // mailboxpb.MailboxList: our appointments, no capability
	capabilityKeyKey = "mailbox/capability-key" // 32 bytes, handed to our mailboxes
	labelSecretKey   = "mailbox/label-secret"   // 32 bytes, never leaves the node
	serveContactsKey = "mailbox/serve-contacts" // "1": hold mail for accepted contacts
)

// sentKey records the version of our list p last got; ofKey the list p gave us.
func sentKey(p peer.ID) string { return "mailbox/sent/" + p.String() }
func ofKey(p peer.ID) string   { return "mailbox/of/" + p.String() }

func serveContacts(tx *storage.Txn) (bool, error) {
	b, err := tx.GetSetting(serveContactsKey)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return string(b) == "1", err
}

// SetServeContacts says whether this node holds mail for its accepted
// contacts who appoint it (a helper holds mail for anyone).
func (s *Service) SetServeContacts(on bool) error {
	return s.update(func(tx *storage.Txn) error {
		if on {
			return tx.PutSetting(serveContactsKey, []byte("1"))
		}
		return tx.DeleteSetting(serveContactsKey)
	})
}

// Serving reports whether the node holds mail for others: as a helper for
// anyone, or for its contacts.
func (s *Service) Serving() (helper, contacts bool, err error) {
	err = s.view(func(tx *storage.Txn) error {
		contacts, err = serveContacts(tx)
		return err
	})
	return s.cfg.Helper, contacts, err
}

func readList(tx *storage.Txn, key string) (*mailboxpb.MailboxList, error) {
	var l mailboxpb.MailboxList
	b, err := tx.GetSetting(key)
	if errors.Is(err, storage.ErrNotFound) {
		return &l, nil
	}
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%w: mailbox list: %w", storage.ErrCorrupt, err)
	}
	return &l, nil
}

func writeList(tx *storage.Txn, key string, l *mailboxpb.MailboxList) error {
	b, err := proto.Marshal(l)
	if err != nil {
		return err
	}
	return tx.PutSetting(key, b)
}

// secret returns the 32-byte secret stored under key, making it on first use.
func secret(tx *storage.Txn, key string, mk func() [32]byte) ([32]byte, error) {
	var out [32]byte
	b, err := tx.GetSetting(key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		out = mk()
		return out, tx.PutSetting(key, out[:])
	case err != nil:
		return out, err
	case len(b) != len(out):
		return out, fmt.Errorf("%w: %s of %d bytes", storage.ErrCorrupt, key, len(b))
	}
	copy(out[:], b)
	return out, nil
}

func capabilityKey(tx *storage.Txn) (mbcrypto.CapabilityKey, error) {
	k, err := secret(tx, capabilityKeyKey, func() [32]byte { return mbcrypto.NewCapabilityKey() })
	return mbcrypto.CapabilityKey(k), err
}

func labelSecret(tx *storage.Txn) (mbcrypto.LabelSecret, error) {
	k, err := secret(tx, labelSecretKey, func() [32]byte { return mbcrypto.NewLabelSecret() })
	return mbcrypto.LabelSecret(k), err
}

// listFor is our list as contact p gets it: with p's capability.
func (s *Service) listFor(tx *storage.Txn, p peer.ID) (*mailboxpb.MailboxList, error) {
	own, err := readList(tx, ownKey)
	if err != nil {
		return nil, err
	}
	k, err := capabilityKey(tx)
	if err != nil {
		return nil, err
	}
	ls, err := labelSecret(tx)
	if err != nil {
		return nil, err
	}
	c := mbcrypto.MakeCapability(k, ls, p)
	s.withHints(own, maxAddrs)
	own.Capability = c[:]
	return own, nil
}

// addrHints are the addresses the node knows for a mailbox, for a list.
func (s *Service) addrHints(p peer.ID) []string {
	var out []string
	for _, a := range s.env.Net.Host().Peerstore().Addrs(p) {
		if str := a.String(); len(str) <= maxAddrBytes {
			out = append(out, str)
		}
	}
	return out
}

// withHints sets every entry's address hints to those we know for its
// mailbox, at most max of them.
func (s *Service) withHints(l *mailboxpb.MailboxList, max int) {
	for _, e := range l.Entries {
		if a, err := mbcrypto.UnmarshalAppointment(e.Appointment); err == nil {
			e.Addrs = s.addrHints(a.Mailbox)
			if len(e.Addrs) > max {
				e.Addrs = e.Addrs[:max]
			}
		}
	}
}

// Published is our list as anyone may see it (in our prekey bundles): the
// appointments, no capability. Nil without mailboxes.
func (s *Service) Published() []byte {
	var b []byte
	_ = s.view(func(tx *storage.Txn) error {
		own, err := readList(tx, ownKey)
		if err != nil || len(own.Entries) == 0 {
			return err
		}
		s.withHints(own, maxAddrs)
		b, err = proto.Marshal(own)
		return err
	})
	return b
}

// InviteList is our list as an invite carries it: the appointments with two
// address hints each and, for an invite with a one-time token, a capability
// for whoever takes it (an invite without a token may be posted anywhere,
// so its takers deposit as strangers, with stamps). Nil without mailboxes.
func (s *Service) InviteList(token string) []byte {
	var b []byte
	_ = s.view(func(tx *storage.Txn) error {
		own, err := readList(tx, ownKey)
		if err != nil || len(own.Entries) == 0 {
			return err
		}
		s.withHints(own, 2)
		if token != "" {
			k, err := capabilityKey(tx)
			if err != nil {
				return err
			}
			ls, err := labelSecret(tx)
			if err != nil {
				return err
			}
			// The label names the token's taker, whose peer ID we do not
			// know: the token stands for it.
			c := mbcrypto.MakeCapability(k, ls, peer.ID("invite-token:"+token))
			own.Capability = c[:]
		}
		b, err = proto.Marshal(own)
		return err
	})
	return b
}

// LearnInvite keeps the list an invite of p carried (with its capability,
// if any), unless p's own newer list is already here.
func (s *Service) LearnInvite(p peer.ID, b []byte) error {
	l, err := checkList(p, b)
	if err != nil {
		return err
	}
	return s.update(func(tx *storage.Txn) error {
		old, err := readList(tx, ofKey(p))
		if err != nil {
			return err
		}
		if len(old.Entries) > 0 && old.Version >= l.Version {
			return nil
		}
		return writeList(tx, ofKey(p), l)
	})
}

// EnsurePushed sends p our current list if p is an accepted contact that
// has answered us and has not had it yet. The node calls it when we write to
// p, accept or add p, and after our list changed.
func (s *Service) EnsurePushed(p peer.ID) error {
	if !s.cfg.Sender.Answered(p) {
		return nil
	}
	var (
		list    []byte
		version uint64
	)
	// A read: the capability secrets were made when we appointed the
	// first mailbox, which gave the list its first version.
	err := s.view(func(tx *storage.Txn) error {
		list = nil
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil || c.State != storage.ContactAccepted {
			return err
		}
		own, err := readList(tx, ownKey)
		if err != nil || own.Version == 0 {
			return err
		}
		if b, err := tx.GetSetting(sentKey(p)); err == nil && len(b) == 8 && binary.BigEndian.Uint64(b) >= own.Version {
			return nil
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		l, err := s.listFor(tx, p)
		if err != nil {
			return err
		}
		version = l.Version
		list, err = proto.Marshal(l)
		return err
	})
	if err != nil || list == nil || version == 0 {
		return err
	}
	if err := s.cfg.Sender.SendMailboxList(p, list); err != nil {
		return err
	}
	return s.update(func(tx *storage.Txn) error {
		return tx.PutSetting(sentKey(p), binary.BigEndian.AppendUint64(nil, version))
	})
}

// pushAll sends every accepted contact our new list.
func (s *Service) pushAll() {
	var ps []peer.ID
	_ = s.view(func(tx *storage.Txn) error {
		cs, err := tx.Contacts()
		for _, c := range cs {
			if c.State == storage.ContactAccepted {
				ps = append(ps, c.Peer)
			}
		}
		return err
	})
	for _, p := range ps {
		if err := s.EnsurePushed(p); err != nil {
			s.env.Log.Warn("mailbox: list not sent", "to", p, "err", err)
		}
	}
}

// Learn keeps the mailbox list p sent us over 1:1, inside the receive
// transaction tx. A list that does not check out breaks the protocol.
func (s *Service) Learn(tx *storage.Txn, p peer.ID, b []byte) error {
	l, err := checkList(p, b)
	if err != nil {
		return err
	}
	old, err := readList(tx, ofKey(p))
	if err != nil {
		return err
	}
	if len(old.Capability) > 0 && old.Version > l.Version {
		return nil // a late copy of an older list (one of the same version
		// replaces a list from an invite: its capability is p's own for us)
	}
	return writeList(tx, ofKey(p), l)
}

// LearnPublished keeps the list in p's prekey bundle, unless p gave us one
// with a capability (that one is newer or as good).
func (s *Service) LearnPublished(p peer.ID, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	l, err := checkList(p, b)
	if err != nil {
		return err
	}
	l.Capability = nil
	return s.update(func(tx *storage.Txn) error {
		old, err := readList(tx, ofKey(p))
		if err != nil || len(old.Capability) > 0 {
			return err
		}
		return writeList(tx, ofKey(p), l)
	})
}

// checkList decodes a list p sent and checks every appointment is p's.
func checkList(p peer.ID, b []byte) (*mailboxpb.MailboxList, error) {
	var l mailboxpb.MailboxList
	if err := proto.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%w: mailbox list: %w", errs.ErrProtocol, err)
	}
	if len(l.Entries) > maxMailboxes || len(l.Capability) != 0 && len(l.Capability) != mbcrypto.CapabilitySize {
		return nil, fmt.Errorf("%w: mailbox list of %d entries", errs.ErrProtocol, len(l.Entries))
	}
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	for _, e := range l.Entries {
		a, err := mbcrypto.UnmarshalAppointment(e.Appointment)
		if err != nil {
			return nil, fmt.Errorf("%w: mailbox list: %w", errs.ErrProtocol, err)
		}
		if a.Recipient != pk {
			return nil, fmt.Errorf("%w: mailbox list names another recipient", errs.ErrProtocol)
		}
		if err := a.Verify(a.Issued); err != nil { // expiry is checked when used
			return nil, fmt.Errorf("%w: mailbox list: %w", errs.ErrProtocol, err)
		}
		if len(e.Addrs) > maxAddrs {
			e.Addrs = e.Addrs[:maxAddrs]
		}
		for _, a := range e.Addrs {
			if len(a) > maxAddrBytes {
				return nil, fmt.Errorf("%w: mailbox address of %d bytes", errs.ErrProtocol, len(a))
			}
		}
	}
	return &l, nil
}

// Known is a mailbox a peer appointed, as we know it.
type Known struct {
	Mailbox peer.ID
	Expires time.Time
	// Capability: we may deposit as the peer's contact; else as a stranger.
	Capability bool
}

// Of lists the mailboxes p told us about that are still valid.
func (s *Service) Of(p peer.ID) ([]Known, error) {
	var out []Known
	err := s.view(func(tx *storage.Txn) error {
		l, err := readList(tx, ofKey(p))
		if err != nil {
			return err
		}
		now := s.now()
		for _, e := range l.Entries {
			a, err := mbcrypto.UnmarshalAppointment(e.Appointment)
			if err != nil || !now.Before(a.Expires) {
				continue
			}
			out = append(out, Known{Mailbox: a.Mailbox, Expires: a.Expires, Capability: len(l.Capability) > 0})
		}
		return nil
	})
	return out, err
}
