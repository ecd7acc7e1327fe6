package apitest

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/group"
)

// GroupSpeak posts a line as p in a group, as if it came from the network,
// and emits a "group_message" event.
func (f *Fake) GroupSpeak(id group.ID, p peer.ID, text string) (api.GroupMessage, error) {
	f.mu.Lock()
	g, err := f.findLocked(id)
	if err != nil {
		f.mu.Unlock()
		return api.GroupMessage{}, err
	}
	m := f.newLineLocked(g, p, "text", text)
	g.lines = append(g.lines, m)
	g.info.Unread++
	m = f.withSenderLocked(g, m)
	f.mu.Unlock()
	f.Emit(api.Event{Type: "group_message", PeerID: p.String(), Group: &api.GroupEvent{GroupID: id.String(), Epoch: m.Epoch, MessageID: m.ID, Kind: m.Kind}, Time: m.Time})
	return m, nil
}

// newLineLocked makes a line with the next ID and time; f.mu is held.
func (f *Fake) newLineLocked(g *fakeGroup, p peer.ID, kind, text string) api.GroupMessage {
	f.nextGroupMsg++
	id := GroupMessageID(f.nextGroupMsg)
	return api.GroupMessage{
		ID: hex.EncodeToString(id[:]), SenderID: p.String(), Kind: kind, Text: text, Time: at(f.tick()),
		Epoch: g.info.Epoch, Outbound: p == f.self,
		Reactions: []api.GroupReaction{}, RSVPs: []api.GroupRSVP{}, DeliveredTo: []string{}, ReadBy: []string{},
	}
}

// RenameGroup implements api.GroupBackend: owner or admin.
func (f *Fake) RenameGroup(ctx context.Context, id group.ID, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return err
	}
	if r := f.roleLocked(g); r != group.RoleOwner && r != group.RoleAdmin {
		return fmt.Errorf("%w: only the group's owner or an admin can rename it", api.ErrNotAllowed)
	}
	g.info.Name = name
	g.lines = append(g.lines, f.newLineLocked(g, f.self, "rename", name))
	return nil
}

// GroupSend implements api.GroupBackend. Reactions and RSVPs go on their
// target.
func (f *Fake) GroupSend(ctx context.Context, id group.ID, out api.GroupOutgoing) (api.GroupMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return api.GroupMessage{}, err
	}
	if g.info.State != "joined" {
		return api.GroupMessage{}, fmt.Errorf("%w: not in group %s", api.ErrInvalidGroup, id)
	}
	if len(out.Body) > MaxText {
		return api.GroupMessage{}, fmt.Errorf("%w: message of %d bytes", api.ErrTooLarge, len(out.Body))
	}
	var replyTo string
	if out.ReplyTo != ([32]byte{}) {
		replyTo = hex.EncodeToString(out.ReplyTo[:])
	}
	kind := cmp.Or(out.Kind, "text")
	if kind == "text" && replyTo != "" {
		kind = "reply"
	}
	switch kind {
	case "text", "reply":
	case "event":
		if out.Start.IsZero() {
			return api.GroupMessage{}, fmt.Errorf("%w: an event needs a start time", api.ErrInvalidGroup)
		}
	case "reaction", "rsvp":
		return f.answerLocked(g, kind, out.Body, replyTo)
	default:
		return api.GroupMessage{}, fmt.Errorf("%w: unknown message kind %q", api.ErrInvalidGroup, kind)
	}
	m := f.newLineLocked(g, f.self, kind, out.Body)
	m.ReplyTo = replyTo
	if !out.Start.IsZero() {
		m.Start = at(out.Start)
	}
	g.lines = append(g.lines, m)
	return f.withSenderLocked(g, m), nil
}

// withSenderLocked is m with its sender as shown now; f.mu is held.
func (f *Fake) withSenderLocked(g *fakeGroup, m api.GroupMessage) api.GroupMessage {
	if p, err := peer.Decode(m.SenderID); err == nil {
		m.Sender = f.memberLocked(g, p)
	}
	return m
}

// answerLocked puts a reaction or an RSVP on its target line; f.mu is
// held.
func (f *Fake) answerLocked(g *fakeGroup, kind, body, replyTo string) (api.GroupMessage, error) {
	i := slices.IndexFunc(g.lines, func(m api.GroupMessage) bool { return m.ID == replyTo })
	if i < 0 {
		return api.GroupMessage{}, fmt.Errorf("%w: no message %.8s", api.ErrNotFound, replyTo)
	}
	t, self := &g.lines[i], f.self.String()
	if kind == "reaction" {
		t.Reactions = append(t.Reactions, api.GroupReaction{PeerID: self, Emoji: body})
	} else {
		if t.Kind != "event" || (body != "yes" && body != "no" && body != "maybe") {
			return api.GroupMessage{}, fmt.Errorf("%w: an RSVP answers an event with yes, no or maybe", api.ErrInvalidGroup)
		}
		t.RSVPs = slices.DeleteFunc(t.RSVPs, func(r api.GroupRSVP) bool { return r.PeerID == self })
		t.RSVPs = append(t.RSVPs, api.GroupRSVP{PeerID: self, Answer: body})
	}
	m := f.newLineLocked(g, f.self, kind, body)
	m.ReplyTo = replyTo
	return f.withSenderLocked(g, m), nil
}

// GroupMessages implements api.GroupBackend: newest first.
func (f *Fake) GroupMessages(id group.ID, limit int, before time.Time) ([]api.GroupMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return nil, err
	}
	var out []api.GroupMessage
	for i := len(g.lines) - 1; i >= 0 && len(out) < limit; i-- {
		if before.IsZero() || g.lines[i].Time.Before(before) {
			out = append(out, f.withSenderLocked(g, g.lines[i]))
		}
	}
	return out, nil
}

// MarkGroupRead implements api.GroupBackend.
func (f *Fake) MarkGroupRead(id group.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return err
	}
	g.info.Unread = 0
	self := f.self.String()
	for i := range g.lines {
		if !g.lines[i].Outbound && !slices.Contains(g.lines[i].ReadBy, self) {
			g.lines[i].ReadBy = append(g.lines[i].ReadBy, self)
		}
	}
	return nil
}
