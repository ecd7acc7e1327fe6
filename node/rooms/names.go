package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/naming"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// Names in a room. Each chat line, question and presence carries the name
// its sender gives itself in the room, signed with it (roomstate checks it
// can neither drive nor reorder a screen). Anyone can claim any name, so a
// name is shown as a claim, by the rule groups share (node/internal/naming):
//   - we are "you", or "Alice (you)" when we go by Alice in the room;
//   - an accepted contact is shown by the name we know them by, with its
//     verification state, whatever it claims;
//   - any other peer by the name it claims, followed by the end of its peer
//     ID when another key in the room, a contact or we ourselves use the
//     same name (compared case-folded), so two keys are never shown alike;
//   - a peer that claims no name by the end of its peer ID.

// NameChoice is the name this node gives itself in a room: the profile name,
// as it changes, or a name of its own for the room, empty for none (the room
// then sees the peer ID only).
type NameChoice struct {
	UseProfile bool
	Name       string // without UseProfile; may be empty
}

// Person is how a room shows one peer.
type Person struct {
	Peer peer.ID
	// Name is the name the peer signed in the room: in the line shown, or
	// in its latest presence. May be empty.
	Name string
	// Display is what to show (see the rules above).
	Display string
	// Role is the peer's role in the room now.
	Role roomstate.Role
	// Contact: an accepted contact; Verified: its safety number was checked.
	Contact, Verified bool
	// Me: this node.
	Me bool
}

// ChatLine is a visible chat line and its sender. MyReactions are the
// emojis of its reactions that are ours.
type ChatLine struct {
	roomstate.Chat
	From        Person
	MyReactions []string
}

// QuestionLine is a visible question and its asker. Upvoted: we upvoted
// it; MyReactions are the emojis of its reactions that are ours.
type QuestionLine struct {
	roomstate.Question
	From        Person
	Upvoted     bool
	MyReactions []string
}

// People is who is in a joined room.
type People struct {
	// Present lists the peers present, the most powerful role first, at
	// most MaxPeopleListed of them.
	Present []Person
	// More counts the present peers past MaxPeopleListed.
	More int
	// Speakers are the present speakers: the host and holders of a speaker
	// grant. Listeners counts the other present peers, as Info does.
	Speakers  []peer.ID
	Listeners int
	// As is our choice of name in the room; MyName what it gives now.
	As     NameChoice
	MyName string
}

// MaxPeopleListed bounds People.Present: a room may hold thousands.
const MaxPeopleListed = 200

// namer computes Person values for one room at one moment, by the rule
// rooms share with groups (node/internal/naming).
type namer struct {
	*naming.Namer
	myName string
	state  *roomstate.State
	now    time.Time
}

// nameSources is what naming takes from the store: read before the room's
// lock is taken, so that the room's reader does not wait on the store.
type nameSources struct {
	contacts []storage.Contact
	profile  string // our profile name
}

func (s *Service) nameSources() (nameSources, error) {
	src := nameSources{profile: s.profileName()}
	err := s.env.Store.View(func(tx *storage.Txn) (err error) {
		src.contacts, err = tx.Contacts()
		return err
	})
	return src, err
}

// newNamer gathers every name claimed in the room, our contacts' names and
// ours; the caller holds the room's lock.
func (s *Service) newNamer(lr *liveRoom, src nameSources) *namer {
	n := &namer{myName: nameFor(lr.as, src.profile), state: lr.state, now: time.Now()}
	n.Namer = naming.FromContacts(src.contacts, s.self(), "you", n.myName)
	lr.state.EachName(func(k keys.PublicKey, name string) { n.Claim(name, k.PeerID()) })
	return n
}

// person is how the room shows k, which signed name: ourselves by the name
// the line was written under, as others see it.
func (n *namer) person(k keys.PublicKey, name string) Person {
	p := n.Person(k.PeerID(), name)
	if p.Me && name != "" {
		p.Display = name + " (you)"
	}
	return Person{Peer: p.Peer, Name: p.Name, Display: p.Display, Role: n.state.Role(k, n.now),
		Contact: p.Contact, Verified: p.Verified, Me: p.Me}
}

// nameFor is the name a choice gives, profile being the profile name.
func nameFor(as NameChoice, profile string) string {
	if as.UseProfile {
		return profile
	}
	return as.Name
}

// myName is the name we give ourselves in a room now.
func (s *Service) myName(lr *liveRoom) string {
	return nameFor(lr.nameChoice(), s.profileName())
}

// profileName is our profile name: read from Config.ProfileName (the
// store) once, and again after ProfileChanged, not on every message we
// sign.
func (s *Service) profileName() string {
	s.profileMu.Lock()
	defer s.profileMu.Unlock()
	if s.profile == nil {
		var name string
		if s.cfg.ProfileName != nil {
			name = s.cfg.ProfileName()
		}
		s.profile = &name
	}
	return *s.profile
}

// withNamer runs fn on a joined room, under its lock, with a namer for it
// (whose store reads are made before the lock is taken).
func (s *Service) withNamer(id room.ID, fn func(lr *liveRoom, n *namer)) error {
	lr, err := s.joined(id)
	if err != nil {
		return err
	}
	src, err := s.nameSources()
	if err != nil {
		return err
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	fn(lr, s.newNamer(lr, src))
	return nil
}

// RoomChat returns the visible chat of a joined room, oldest first, each
// line with its sender as the room shows it.
func (s *Service) RoomChat(id room.ID, limit int) (out []ChatLine, err error) {
	mine, err := s.myBallots(id)
	if err != nil {
		return nil, err
	}
	err = s.withNamer(id, func(lr *liveRoom, n *namer) {
		voted := s.votedBy(lr, mine)
		for _, c := range lr.state.Chat(limit) {
			out = append(out, ChatLine{Chat: c, From: n.person(c.Sender, c.Name), MyReactions: myReactions(c.ID, c.Reactions, voted)})
		}
	})
	return out, err
}

// RoomQuestions returns a joined room's questions, most upvoted first, each
// with its asker as the room shows them.
func (s *Service) RoomQuestions(id room.ID) (out []QuestionLine, err error) {
	mine, err := s.myBallots(id)
	if err != nil {
		return nil, err
	}
	err = s.withNamer(id, func(lr *liveRoom, n *namer) {
		voted := s.votedBy(lr, mine)
		for _, q := range lr.state.Questions() {
			out = append(out, QuestionLine{Question: q, From: n.person(q.Sender, q.Name),
				Upvoted: voted(q.ID, ""), MyReactions: myReactions(q.ID, q.Reactions, voted)})
		}
	})
	return out, err
}

// RoomPeople tells who is in a joined room, with names and roles.
func (s *Service) RoomPeople(id room.ID) (out People, err error) {
	err = s.withNamer(id, func(lr *liveRoom, n *namer) {
		out = People{As: lr.as, MyName: n.myName}
		var speakers []keys.PublicKey
		out.Listeners, speakers = lr.state.Presence(n.now)
		for _, k := range speakers {
			out.Speakers = append(out.Speakers, k.PeerID())
		}
		members := lr.state.Members(n.now)
		for i, m := range members {
			if i == MaxPeopleListed {
				out.More = len(members) - i
				break
			}
			out.Present = append(out.Present, n.person(m.Key, m.Name))
		}
	})
	return out, err
}

// RoomSetName changes the name we give ourselves in a joined room and tells
// the room at once.
func (s *Service) RoomSetName(ctx context.Context, id room.ID, as NameChoice) error {
	if err := checkChoice(as); err != nil {
		return err
	}
	lr, err := s.joined(id)
	if err != nil {
		return err
	}
	if err := s.env.Store.Update(func(tx *storage.Txn) error {
		r, err := tx.Room(storage.RoomID(id))
		if err != nil {
			return err
		}
		r.HasOwnName, r.OwnName, r.Updated = !as.UseProfile, as.Name, time.Now().UTC()
		return tx.PutRoom(r)
	}); err != nil {
		return err
	}
	lr.setNameChoice(as)
	s.announcePresence(ctx, id, false)
	return nil
}

// ProfileChanged tells the rooms that take our profile name that it
// changed: each gets a presence with the new name, sent by the room's own
// goroutine (it may wait for the room's first sync).
func (s *Service) ProfileChanged() {
	s.profileMu.Lock()
	s.profile = nil
	s.profileMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, lr := range s.live {
		if lr.nameChoice().UseProfile {
			s.goRoom(lr, func() { s.announcePresence(lr.ctx, id, false) })
		}
	}
}

// checkChoice checks a name of our own for a room by the rule every signed
// name in a room follows.
func checkChoice(as NameChoice) error {
	if as.UseProfile {
		if as.Name != "" {
			return fmt.Errorf("%w: a room name of your own or your profile name, not both", errs.ErrInvalidInput)
		}
		return nil
	}
	if _, err := roomstate.EncodePresence(roomstate.PresenceBody{TTL: roomstate.MinPresenceTTL, Name: as.Name}); err != nil {
		if errors.Is(err, roomstate.ErrBadBody) {
			return errs.Say(errs.ErrInvalidInput, fmt.Errorf("a name in a room is at most %d bytes, with no control character", roomstate.MaxNameSize), err)
		}
		return err
	}
	return nil
}
