package apitest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// fakeRoom is a room as the fake keeps it: no signatures, no network. Only
// the host (or a peer granted moderator) may moderate; a muted peer may
// not post.
type fakeRoom struct {
	info      node.RoomInfo
	chat      []roomstate.Chat     // oldest first
	questions []roomstate.Question // in asking order
	upvoted   map[room.MessageID]map[peer.ID]bool
	reactions map[room.MessageID]map[string]int
	hidden    map[room.MessageID]bool
	pinned    room.MessageID
	muted     map[peer.ID]time.Time
	roles     map[peer.ID]room.Role
}

func newFakeRoom(info node.RoomInfo) *fakeRoom {
	return &fakeRoom{
		info:      info,
		upvoted:   map[room.MessageID]map[peer.ID]bool{},
		reactions: map[room.MessageID]map[string]int{},
		hidden:    map[room.MessageID]bool{},
		muted:     map[peer.ID]time.Time{},
		roles:     map[peer.ID]room.Role{},
	}
}

// RoomID is the ID of the n-th room the fake makes (from 1), created or
// remote.
func RoomID(n byte) room.ID {
	var id room.ID
	id[0], id[31] = 0xb0, n
	return id
}

// AddRemoteRoom makes a room hosted by host that DiscoverRooms finds by
// name and JoinRoom joins, by name or ID. Listeners is 1 once joined.
func (f *Fake) AddRemoteRoom(name, description string, host peer.ID) node.RoomInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextRoom++
	info := node.RoomInfo{ID: RoomID(f.nextRoom), Name: name, Description: description, Host: host}
	f.rooms[info.ID] = newFakeRoom(info)
	return info
}

// RoomSpeak posts a chat line as p in a room the fake knows, as if it came
// from the network, and emits a "room_message" event.
func (f *Fake) RoomSpeak(id room.ID, p peer.ID, text string) (room.MessageID, error) {
	return f.post(id, p, room.KindChat, text)
}

// RoomMuted reports until when the fake has p muted in a room.
func (f *Fake) RoomMuted(id room.ID, p peer.ID) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rooms[id]; ok {
		return r.muted[p]
	}
	return time.Time{}
}

// isSpeaker reports whether p is the host of room id or holds a role in it.
func (f *Fake) isSpeaker(id room.ID, p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rooms[id]
	return ok && (r.info.Host == p || r.roles[p] != 0)
}

// RoomRole returns the role the fake granted p in a room (0 if none).
func (f *Fake) RoomRole(id room.ID, p peer.ID) room.Role {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rooms[id]; ok {
		return r.roles[p]
	}
	return 0
}

// CreateRoom implements api.Backend.
func (f *Fake) CreateRoom(ctx context.Context, name, description string, start time.Time) (node.RoomInfo, error) {
	if name == "" || len(name) > room.MaxNameSize || len(description) > room.MaxDescriptionSize {
		return node.RoomInfo{}, fmt.Errorf("%w: name or description empty or too long", node.ErrInvalidRoom)
	}
	info := f.AddRemoteRoom(name, description, f.SelfInfo.PeerID)
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[info.ID]
	r.info.Start, r.info.Joined = start, true
	return r.info, nil
}

// JoinRoom implements api.Backend: ref is a room ID or the name of exactly
// one room the fake knows.
func (f *Fake) JoinRoom(ctx context.Context, ref string) (node.RoomInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var r *fakeRoom
	if id, err := room.ParseID(ref); err == nil {
		r = f.rooms[id]
	} else {
		var named []*fakeRoom
		for _, fr := range f.rooms {
			if strings.EqualFold(fr.info.Name, ref) {
				named = append(named, fr)
			}
		}
		if len(named) > 1 {
			return node.RoomInfo{}, fmt.Errorf("%w: %d rooms are named %q: join one by its ID", node.ErrInvalidRoom, len(named), ref)
		}
		if len(named) == 1 {
			r = named[0]
		}
	}
	if r == nil {
		return node.RoomInfo{}, fmt.Errorf("%w: no room %q", node.ErrNotFound, ref)
	}
	r.info.Joined = true
	return f.infoLocked(r), nil
}

// infoLocked is r's info with its listeners: one (us) when joined and not
// the host. f.mu is held.
func (f *Fake) infoLocked(r *fakeRoom) node.RoomInfo {
	info := r.info
	if info.Joined && info.Host != f.SelfInfo.PeerID {
		info.Listeners = 1
	}
	return info
}

// LeaveRoom implements api.Backend.
func (f *Fake) LeaveRoom(id room.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joined(id)
	if err != nil {
		return err
	}
	r.info.Joined = false
	return nil
}

// Rooms implements api.Backend: the rooms created or joined, by name then
// ID.
func (f *Fake) Rooms() ([]node.RoomInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []node.RoomInfo
	for _, r := range f.rooms {
		if r.info.Joined || r.info.Host == f.SelfInfo.PeerID || len(r.chat) > 0 {
			out = append(out, f.infoLocked(r))
		}
	}
	sortRooms(out)
	return out, nil
}

func sortRooms(rs []node.RoomInfo) {
	slices.SortFunc(rs, func(a, b node.RoomInfo) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
}

// DiscoverRooms implements api.Backend: every room of that name (case
// folded), by ID.
func (f *Fake) DiscoverRooms(ctx context.Context, name string) ([]node.RoomInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []node.RoomInfo
	for _, r := range f.rooms {
		if strings.EqualFold(r.info.Name, strings.TrimSpace(name)) {
			out = append(out, f.infoLocked(r))
		}
	}
	sortRooms(out)
	return out, nil
}

// joined returns a joined room; f.mu is held.
func (f *Fake) joined(id room.ID) (*fakeRoom, error) {
	r, ok := f.rooms[id]
	if !ok || !r.info.Joined {
		return nil, fmt.Errorf("%w: not in room %s", node.ErrNotFound, id)
	}
	return r, nil
}

// post adds a chat line or a question from p and emits its event.
func (f *Fake) post(id room.ID, p peer.ID, kind room.Kind, text string) (room.MessageID, error) {
	if len(text) > room.MaxBody-16 {
		return room.MessageID{}, fmt.Errorf("%w: text of %d bytes", node.ErrTooLarge, len(text))
	}
	f.mu.Lock()
	r, ok := f.rooms[id]
	if !ok {
		f.mu.Unlock()
		return room.MessageID{}, fmt.Errorf("%w: not in room %s", node.ErrNotFound, id)
	}
	if r.muted[p].After(f.Now) {
		f.mu.Unlock()
		return room.MessageID{}, fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrMuted)
	}
	sender, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		f.mu.Unlock()
		return room.MessageID{}, fmt.Errorf("%w: %w", node.ErrUnknownPeer, err)
	}
	mid, now := f.newRoomMessageID(), f.Now
	switch kind {
	case room.KindChat:
		r.chat = append(r.chat, roomstate.Chat{ID: mid, Sender: sender, Timestamp: f.Now, Text: text})
	case room.KindQuestion:
		r.questions = append(r.questions, roomstate.Question{ID: mid, Sender: sender, Timestamp: f.Now, Text: text})
	}
	f.mu.Unlock()
	f.Emit(node.Event{Type: node.EventRoomMessage, Room: &node.RoomEvent{Room: id, ID: mid, Kind: kind}, Time: now})
	return mid, nil
}

// newRoomMessageID returns the next message ID and moves time on one
// second; f.mu is held.
func (f *Fake) newRoomMessageID() room.MessageID {
	f.nextID++
	f.Now = f.Now.Add(time.Second)
	return RoomMessageID(f.nextID)
}

// RoomMessageID is the ID the fake gives the message it numbers n: it
// numbers 1:1 and room messages (and room actions) together, from 1.
func RoomMessageID(n byte) room.MessageID {
	var mid room.MessageID
	mid[0], mid[1], mid[31] = n, 0xc0, n
	return mid
}

// act checks that we may send kind in a joined room (moderation kinds need
// the host or a moderator), applies it with do under f.mu and emits the
// event.
func (f *Fake) act(id room.ID, kind room.Kind, target room.MessageID, do func(r *fakeRoom) error) error {
	f.mu.Lock()
	r, err := f.joined(id)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	self := f.SelfInfo.PeerID
	switch kind {
	case room.KindAnswered, room.KindPin, room.KindHide, room.KindMute:
		if r.info.Host != self && r.roles[self] != room.RoleModerator {
			f.mu.Unlock()
			return fmt.Errorf("%w: %s: %w", node.ErrInvalidRoom, kind, roomstate.ErrNotAllowed)
		}
	case room.KindRoleGrant:
		if r.info.Host != self {
			f.mu.Unlock()
			return fmt.Errorf("%w: %s: %w", node.ErrInvalidRoom, kind, roomstate.ErrNotAllowed)
		}
	}
	if r.muted[self].After(f.Now) {
		f.mu.Unlock()
		return fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrMuted)
	}
	if target != (room.MessageID{}) && !r.has(target) {
		f.mu.Unlock()
		return fmt.Errorf("%w: no message %s in room %s", node.ErrNotFound, target, id)
	}
	if err := do(r); err != nil {
		f.mu.Unlock()
		return err
	}
	mid, now := f.newRoomMessageID(), f.Now
	f.mu.Unlock()
	f.Emit(node.Event{Type: node.EventRoomMessage, Room: &node.RoomEvent{Room: id, ID: mid, Kind: kind}, Time: now})
	return nil
}

func (r *fakeRoom) has(id room.MessageID) bool {
	return slices.ContainsFunc(r.chat, func(c roomstate.Chat) bool { return c.ID == id }) || r.question(id) >= 0
}

func (r *fakeRoom) question(id room.MessageID) int {
	return slices.IndexFunc(r.questions, func(q roomstate.Question) bool { return q.ID == id })
}

// RoomAskSpeaker implements api.Backend: the speaker must be the room's
// host or a peer granted a role with RoomGrant.
func (f *Fake) RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (storage.Message, error) {
	if err := f.mustJoin(id); err != nil {
		return storage.Message{}, err
	}
	if !f.isSpeaker(id, speaker) {
		return storage.Message{}, fmt.Errorf("%s: %w", speaker, node.ErrNotSpeaker)
	}
	return f.Send(ctx, speaker, node.Outgoing{Body: text, Context: node.RoomContext(id)})
}

// RoomSay implements api.Backend.
func (f *Fake) RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	if err := f.mustJoin(id); err != nil {
		return room.MessageID{}, err
	}
	return f.post(id, f.SelfInfo.PeerID, room.KindChat, text)
}

// RoomAsk implements api.Backend.
func (f *Fake) RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	if err := f.mustJoin(id); err != nil {
		return room.MessageID{}, err
	}
	return f.post(id, f.SelfInfo.PeerID, room.KindQuestion, text)
}

func (f *Fake) mustJoin(id room.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.joined(id)
	return err
}

// RoomUpvote implements api.Backend: one vote per peer.
func (f *Fake) RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error {
	return f.act(id, room.KindUpvote, question, func(r *fakeRoom) error {
		if r.question(question) < 0 {
			return fmt.Errorf("%w: %s is not a question", node.ErrInvalidRoom, question)
		}
		if r.upvoted[question] == nil {
			r.upvoted[question] = map[peer.ID]bool{}
		}
		r.upvoted[question][f.SelfInfo.PeerID] = true
		return nil
	})
}

// RoomAnswer implements api.Backend.
func (f *Fake) RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error {
	return f.act(id, room.KindAnswered, question, func(r *fakeRoom) error {
		i := r.question(question)
		if i < 0 {
			return fmt.Errorf("%w: %s is not a question", node.ErrInvalidRoom, question)
		}
		r.questions[i].Answered = true
		return nil
	})
}

// RoomPin implements api.Backend: the zero ID unpins.
func (f *Fake) RoomPin(ctx context.Context, id room.ID, target room.MessageID) error {
	return f.act(id, room.KindPin, target, func(r *fakeRoom) error { r.pinned = target; return nil })
}

// RoomReact implements api.Backend.
func (f *Fake) RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error {
	return f.act(id, room.KindReaction, target, func(r *fakeRoom) error {
		if r.reactions[target] == nil {
			r.reactions[target] = map[string]int{}
		}
		r.reactions[target][emoji]++
		return nil
	})
}

// RoomHide implements api.Backend.
func (f *Fake) RoomHide(ctx context.Context, id room.ID, target room.MessageID) error {
	return f.act(id, room.KindHide, target, func(r *fakeRoom) error { r.hidden[target] = true; return nil })
}

// RoomMute implements api.Backend: until must be set (the fake's clock is
// not the caller's, so it checks no more).
func (f *Fake) RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error {
	return f.act(id, room.KindMute, room.MessageID{}, func(r *fakeRoom) error {
		if until.IsZero() {
			return fmt.Errorf("%w: mute until %s: %w", node.ErrInvalidRoom, until, roomstate.ErrBadBody)
		}
		r.muted[p] = until
		return nil
	})
}

// RoomGrant implements api.Backend.
func (f *Fake) RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error {
	return f.act(id, room.KindRoleGrant, room.MessageID{}, func(r *fakeRoom) error {
		if !role.Valid() || ttl <= 0 || ttl > room.MaxGrantLifetime {
			return fmt.Errorf("%w: grant of %s for %s", node.ErrInvalidRoom, role, ttl)
		}
		r.roles[p] = role
		return nil
	})
}

// RoomWho implements api.Backend: the host and speakers are the speakers;
// we are a listener when not one of them.
func (f *Fake) RoomWho(id room.ID) (int, []peer.ID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joined(id)
	if err != nil {
		return 0, nil, err
	}
	speakers := []peer.ID{r.info.Host}
	for p, role := range r.roles {
		if role == room.RoleSpeaker {
			speakers = append(speakers, p)
		}
	}
	slices.Sort(speakers[1:])
	return f.infoLocked(r).Listeners, speakers, nil
}

// RoomChat implements api.Backend: the last limit visible lines, oldest
// first.
func (f *Fake) RoomChat(id room.ID, limit int) ([]roomstate.Chat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joined(id)
	if err != nil {
		return nil, err
	}
	var out []roomstate.Chat
	for _, c := range r.chat {
		if !r.hidden[c.ID] {
			c.Reactions = r.reactionsTo(c.ID)
			out = append(out, c)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// RoomQuestions implements api.Backend: most upvoted first, then oldest.
func (f *Fake) RoomQuestions(id room.ID) ([]roomstate.Question, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joined(id)
	if err != nil {
		return nil, err
	}
	var out []roomstate.Question
	for _, q := range r.questions {
		if r.hidden[q.ID] {
			continue
		}
		q.Upvotes = len(r.upvoted[q.ID])
		q.Pinned = r.pinned == q.ID
		q.Reactions = r.reactionsTo(q.ID)
		out = append(out, q)
	}
	slices.SortStableFunc(out, func(a, b roomstate.Question) int { return b.Upvotes - a.Upvotes })
	return out, nil
}

func (r *fakeRoom) reactionsTo(id room.MessageID) []roomstate.Reaction {
	var out []roomstate.Reaction
	for e, n := range r.reactions[id] {
		out = append(out, roomstate.Reaction{Emoji: e, Count: n})
	}
	slices.SortFunc(out, func(a, b roomstate.Reaction) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Emoji, b.Emoji)
	})
	return out
}
