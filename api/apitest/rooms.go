package apitest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/room"
)

// fakeRoom is a room as the fake keeps it: no signatures, no network. Only
// the host (or a peer granted moderator) may moderate; a muted peer may
// not post. Messages are keyed by their ID's hex form.
type fakeRoom struct {
	id        room.ID
	host      peer.ID
	info      api.Room           // Listeners is filled in by roomLocked
	chat      []api.RoomChatLine // oldest first
	questions []api.RoomQuestion // in asking order
	reactions map[string]map[string]int
	hidden    map[string]bool
	muted     map[peer.ID]time.Time
	roles     map[peer.ID]room.Role
	as        api.RoomNameChoice // our name in the room
}

// RoomID is the ID of the n-th room the fake makes (from 1), created or
// remote.
func RoomID(n byte) room.ID {
	var id room.ID
	id[0], id[31] = 0xb0, n
	return id
}

// RoomMessageID is the ID the fake gives the message it numbers n: it
// numbers 1:1 and room messages (and room actions) together, from 1.
func RoomMessageID(n byte) room.MessageID {
	var mid room.MessageID
	mid[0], mid[1], mid[31] = n, 0xc0, n
	return mid
}

// AddRemoteRoom makes a room hosted by host that DiscoverRooms finds by
// name and JoinRoom joins, by name or ID. Listeners is 1 once joined.
func (f *Fake) AddRemoteRoom(name, description string, host peer.ID) room.ID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addRoomLocked(name, description, host).id
}

func (f *Fake) addRoomLocked(name, description string, host peer.ID) *fakeRoom {
	f.nextRoom++
	id := RoomID(f.nextRoom)
	r := &fakeRoom{
		id: id, host: host,
		info:      api.Room{ID: id.String(), Name: name, Description: description, HostID: host.String()},
		reactions: map[string]map[string]int{},
		hidden:    map[string]bool{},
		muted:     map[peer.ID]time.Time{},
		roles:     map[peer.ID]room.Role{},
		as:        api.RoomNameChoice{UseProfile: true},
	}
	f.rooms[id] = r
	return r
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

// RoomRole returns the role the fake granted p in a room (0 if none).
func (f *Fake) RoomRole(id room.ID, p peer.ID) room.Role {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rooms[id]; ok {
		return r.roles[p]
	}
	return 0
}

// roomLocked is r's info with its listeners: one (us) when joined and not
// the host. f.mu is held.
func (f *Fake) roomLocked(r *fakeRoom) api.Room {
	info := r.info
	if info.Joined && r.host != f.self {
		info.Listeners = 1
	}
	return info
}

// joinedLocked returns a joined room; f.mu is held.
func (f *Fake) joinedLocked(id room.ID) (*fakeRoom, error) {
	r, ok := f.rooms[id]
	if !ok || !r.info.Joined {
		return nil, fmt.Errorf("%w: not in room %s", api.ErrNotFound, id)
	}
	return r, nil
}

// roomsWhere lists the rooms keep says to, by name then ID.
func (f *Fake) roomsWhere(keep func(r *fakeRoom) bool) []api.Room {
	f.mu.Lock()
	defer f.mu.Unlock()
	var rs []*fakeRoom
	for _, r := range f.rooms {
		if keep(r) {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b *fakeRoom) int {
		if c := strings.Compare(a.info.Name, b.info.Name); c != 0 {
			return c
		}
		return slices.Compare(a.id[:], b.id[:])
	})
	out := make([]api.Room, 0, len(rs))
	for _, r := range rs {
		out = append(out, f.roomLocked(r))
	}
	return out
}

// CreateRoom implements api.RoomBackend.
func (f *Fake) CreateRoom(ctx context.Context, name, description string, start time.Time, as *api.RoomNameChoice) (api.Room, error) {
	if name == "" || len(name) > room.MaxNameSize || len(description) > room.MaxDescriptionSize {
		return api.Room{}, fmt.Errorf("%w: name or description empty or too long", api.ErrInvalidRoom)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.addRoomLocked(name, description, f.self)
	if as != nil {
		r.as = *as
	}
	if !start.IsZero() {
		r.info.Start = at(start)
	}
	r.info.Joined = true
	return f.roomLocked(r), nil
}

// JoinRoom implements api.RoomBackend: ref is a room ID or the name of
// exactly one room the fake knows. As the node, it fails with
// api.ErrNoPeers when State.ConnectedPeers is 0 and it would have to look
// (a name, or a room not joined), and a name it does not know is not found
// "among N peers", N being State.ConnectedPeers.
func (f *Fake) JoinRoom(ctx context.Context, ref string, as *api.RoomNameChoice) (api.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var r *fakeRoom
	id, err := room.ParseID(ref)
	if f.State.ConnectedPeers == 0 && (err != nil || f.rooms[id] == nil || !f.rooms[id].info.Joined) {
		return api.Room{}, fmt.Errorf("looking for room %q: %w: add a bootstrap peer or a contact first", ref, api.ErrNoPeers)
	}
	if err == nil {
		r = f.rooms[id]
	} else {
		var named []*fakeRoom
		for _, fr := range f.rooms {
			if strings.EqualFold(fr.info.Name, ref) {
				named = append(named, fr)
			}
		}
		if len(named) > 1 {
			return api.Room{}, fmt.Errorf("%w: %d rooms are named %q: join one by its ID", api.ErrInvalidRoom, len(named), ref)
		}
		if len(named) == 1 {
			r = named[0]
		}
	}
	if r == nil && err != nil {
		return api.Room{}, fmt.Errorf("%w: no room named %q found among %d peers", api.ErrNotFound, ref, f.State.ConnectedPeers)
	}
	if r == nil {
		return api.Room{}, fmt.Errorf("%w: no room %q", api.ErrNotFound, ref)
	}
	if as != nil {
		r.as = *as
	}
	r.info.Joined = true
	return f.roomLocked(r), nil
}

// SetConnectedPeers sets State.ConnectedPeers, which JoinRoom heeds, while
// the fake may be serving.
func (f *Fake) SetConnectedPeers(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.State.ConnectedPeers = n
}

// LeaveRoom implements api.RoomBackend.
func (f *Fake) LeaveRoom(id room.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joinedLocked(id)
	if err != nil {
		return err
	}
	r.info.Joined = false
	return nil
}

// Rooms implements api.RoomBackend: the rooms created, joined or heard
// from.
func (f *Fake) Rooms() ([]api.Room, error) {
	return f.roomsWhere(func(r *fakeRoom) bool { return r.info.Joined || r.host == f.self || len(r.chat) > 0 }), nil
}

// DiscoverRooms implements api.RoomBackend: every room of that name (case
// folded).
func (f *Fake) DiscoverRooms(ctx context.Context, name string) ([]api.Room, error) {
	return f.roomsWhere(func(r *fakeRoom) bool { return strings.EqualFold(r.info.Name, strings.TrimSpace(name)) }), nil
}

// RoomPeople implements api.RoomBackend: the host and speakers are the
// speakers; the people are the host, then the peers granted a role, then
// us when we are none of them, each shown by its peer ID's end (or "you").
func (f *Fake) RoomPeople(id room.ID) (api.RoomDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joinedLocked(id)
	if err != nil {
		return api.RoomDetail{}, err
	}
	speakers := []peer.ID{r.host}
	for p, role := range r.roles {
		if role == room.RoleSpeaker {
			speakers = append(speakers, p)
		}
	}
	slices.Sort(speakers[1:])
	out := api.RoomDetail{As: &r.as, MyName: f.myNameLocked(r)}
	for _, p := range speakers {
		out.Speakers = append(out.Speakers, p.String())
	}
	people := []peer.ID{r.host}
	for p := range r.roles {
		people = append(people, p)
	}
	slices.Sort(people[1:])
	if !slices.Contains(people, f.self) {
		people = append(people, f.self)
	}
	for _, p := range people {
		out.People = append(out.People, f.personLocked(r, p))
	}
	return out, nil
}

// personLocked is how the fake shows p in r; f.mu is held.
func (f *Fake) personLocked(r *fakeRoom, p peer.ID) api.RoomPerson {
	s := p.String()
	rp := api.RoomPerson{ID: s, Display: "…" + s[len(s)-8:], Role: "listener"}
	switch {
	case p == r.host:
		rp.Role = "host"
	case r.roles[p] == room.RoleModerator:
		rp.Role = "moderator"
	case r.roles[p] == room.RoleSpeaker:
		rp.Role = "speaker"
	}
	if p == f.self {
		rp.Me, rp.Name, rp.Display = true, f.myNameLocked(r), "you"
		if rp.Name != "" {
			rp.Display = rp.Name + " (you)"
		}
	}
	if c, ok := f.contacts[p]; ok && c.State == stateAccepted {
		rp.Contact, rp.Verified = true, c.Verified
		rp.Display = cmp.Or(c.Name, c.ProfileName, rp.Display)
	}
	return rp
}

// senderLocked is how the fake shows the sender of a line; f.mu is held.
func (f *Fake) senderLocked(r *fakeRoom, id string) api.RoomPerson {
	p, err := peer.Decode(id)
	if err != nil {
		return api.RoomPerson{ID: id, Display: id, Role: "listener"}
	}
	return f.personLocked(r, p)
}

// myNameLocked is our name in r; f.mu is held.
func (f *Fake) myNameLocked(r *fakeRoom) string {
	if r.as.UseProfile {
		return f.SelfInfo.Name
	}
	return r.as.Name
}

// RoomSetName implements api.RoomBackend.
func (f *Fake) RoomSetName(ctx context.Context, id room.ID, as api.RoomNameChoice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joinedLocked(id)
	if err != nil {
		return err
	}
	if as.UseProfile && as.Name != "" {
		return fmt.Errorf("%w: a room name of your own or your profile name, not both", api.ErrInvalid)
	}
	r.as = as
	return nil
}

// RoomChat implements api.RoomBackend: the last limit visible lines,
// oldest first.
func (f *Fake) RoomChat(id room.ID, limit int) ([]api.RoomChatLine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joinedLocked(id)
	if err != nil {
		return nil, err
	}
	var out []api.RoomChatLine
	for _, c := range r.chat {
		if !r.hidden[c.ID] {
			c.Reactions = r.reactionsTo(c.ID)
			c.Sender = f.senderLocked(r, c.SenderID)
			out = append(out, c)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// RoomQuestions implements api.RoomBackend: most upvoted first, then
// oldest.
func (f *Fake) RoomQuestions(id room.ID) ([]api.RoomQuestion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.joinedLocked(id)
	if err != nil {
		return nil, err
	}
	var out []api.RoomQuestion
	for _, q := range r.questions {
		if r.hidden[q.ID] {
			continue
		}
		q.Reactions = r.reactionsTo(q.ID)
		q.Sender = f.senderLocked(r, q.SenderID)
		out = append(out, q)
	}
	slices.SortStableFunc(out, func(a, b api.RoomQuestion) int { return b.Upvotes - a.Upvotes })
	return out, nil
}

// reactionsTo lists a message's reactions, most first, then by emoji: all
// of them ours (only this node reacts).
func (r *fakeRoom) reactionsTo(id string) []api.RoomReaction {
	out := []api.RoomReaction{}
	for e, n := range r.reactions[id] {
		out = append(out, api.RoomReaction{Emoji: e, Count: n, Mine: true})
	}
	slices.SortFunc(out, func(a, b api.RoomReaction) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Emoji, b.Emoji)
	})
	return out
}
