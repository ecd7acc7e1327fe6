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
)

// Receive stores an inbound message from p (unread) and emits a "message"
// event.
func (f *Fake) Receive(p peer.ID, text string) api.Message {
	f.mu.Lock()
	m := f.newMessageLocked(p, "inbound", "text", text, [16]byte{})
	m.Received = m.Sent
	m.State = "received"
	f.messages[p] = append(f.messages[p], m)
	f.mu.Unlock()
	f.Emit(api.Event{Type: "message", PeerID: p.String(), Message: &m, Time: m.Sent})
	return m
}

// newMessageLocked makes a message with the next ID and time; f.mu is
// held.
func (f *Fake) newMessageLocked(p peer.ID, direction, kind, body string, replyTo [16]byte) api.Message {
	f.nextID++
	var id [16]byte
	id[15] = f.nextID
	m := api.Message{ID: hex.EncodeToString(id[:]), PeerID: p.String(), Direction: direction, Kind: kind, Text: body, Sent: at(f.tick())}
	if replyTo != ([16]byte{}) {
		m.ReplyTo = hex.EncodeToString(replyTo[:])
	}
	return m
}

// IsTyping reports what Typing last set for p.
func (f *Fake) IsTyping(p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.typing[p]
}

// Send implements api.ChatBackend: the message is stored as "sent".
func (f *Fake) Send(ctx context.Context, to peer.ID, m api.Outgoing) (api.Message, error) {
	return f.send(to, m, "")
}

// send stores an outbound message written from origin (a room's context, or
// none).
func (f *Fake) send(to peer.ID, m api.Outgoing, origin string) (api.Message, error) {
	if len(m.Body) > MaxText {
		return api.Message{}, fmt.Errorf("message of %d bytes: %w", len(m.Body), api.ErrTooLarge)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.Key != "" {
		if sent, ok := f.sendKeys[to.String()+"/"+m.Key]; ok {
			return sent, nil
		}
	}
	c, ok := f.contacts[to]
	if c.State == stateBlocked {
		return api.Message{}, fmt.Errorf("%s: %w", to, api.ErrBlocked)
	}
	if !ok {
		f.contacts[to] = f.newContactLocked(to, stateAccepted)
	}
	msg := f.newMessageLocked(to, "outbound", cmp.Or(m.Kind, "text"), m.Body, m.ReplyTo)
	msg.State = "sent"
	msg.Context = origin
	f.messages[to] = append(f.messages[to], msg)
	if m.Key != "" {
		if f.sendKeys == nil {
			f.sendKeys = map[string]api.Message{}
		}
		f.sendKeys[to.String()+"/"+m.Key] = msg
	}
	return msg, nil
}

func (f *Fake) conversations(state string) []api.Conversation {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.Conversation
	for p, ms := range f.messages {
		if len(ms) == 0 || f.contacts[p].State != state {
			continue
		}
		last := ms[len(ms)-1]
		c := api.Conversation{PeerID: p.String(), Last: last, Count: len(ms), Updated: last.Sent}
		for _, m := range ms {
			if m.Direction == "inbound" && m.State == "received" {
				c.Unread++
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b api.Conversation) int { return b.Updated.Compare(*a.Updated) })
	return out
}

// Inbox implements api.ChatBackend: conversations with accepted contacts.
func (f *Fake) Inbox() ([]api.Conversation, error) { return f.conversations(stateAccepted), nil }

// Requests implements api.ChatBackend: conversations with strangers.
func (f *Fake) Requests() ([]api.Conversation, error) { return f.conversations(stateUnknown), nil }

// Messages implements api.ChatBackend: newest first.
func (f *Fake) Messages(p peer.ID, limit int, before time.Time) ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.contacts[p]; !ok {
		return nil, fmt.Errorf("%w: %s", api.ErrUnknownPeer, p)
	}
	var out []api.Message
	ms := f.messages[p]
	for i := len(ms) - 1; i >= 0 && len(out) < limit; i-- {
		if before.IsZero() || ms[i].Sent.Before(before) {
			out = append(out, ms[i])
		}
	}
	return out, nil
}

// MarkRead implements api.ChatBackend.
func (f *Fake) MarkRead(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.messages[p] {
		if m.Direction == "inbound" && m.State == "received" {
			f.messages[p][i].State = "seen"
		}
	}
	return nil
}

// Typing implements api.ChatBackend.
func (f *Fake) Typing(p peer.ID, typing bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typing[p] = typing
	return nil
}

// Accept implements api.ChatBackend.
func (f *Fake) Accept(ctx context.Context, p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if ok && c.State == stateBlocked {
		return fmt.Errorf("%w: unblock it first", api.ErrBlocked)
	}
	if !ok || c.State != stateUnknown {
		return fmt.Errorf("no request from %s: %w", p, api.ErrNotFound)
	}
	c.State = stateAccepted
	f.contacts[p] = c
	return nil
}

// Decline implements api.ChatBackend: the stranger and the thread are
// forgotten.
func (f *Fake) Decline(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok || c.State != stateUnknown {
		return fmt.Errorf("no request from %s: %w", p, api.ErrNotFound)
	}
	delete(f.contacts, p)
	delete(f.messages, p)
	return nil
}

// Pending implements api.ChatBackend: our messages still "queued" or "sent".
func (f *Fake) Pending() ([]api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.Message
	for _, ms := range f.messages {
		for _, m := range ms {
			if m.Direction == "outbound" && (m.State == "queued" || m.State == "sent") {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b api.Message) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Cancel implements api.ChatBackend: a waiting message becomes "failed".
func (f *Fake) Cancel(id [16]byte) (api.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := hex.EncodeToString(id[:])
	for p, ms := range f.messages {
		for i, m := range ms {
			if m.ID == want && m.Direction == "outbound" && (m.State == "queued" || m.State == "sent") {
				f.messages[p][i].State = "failed"
				return f.messages[p][i], nil
			}
		}
	}
	return api.Message{}, fmt.Errorf("message %s: %w", want, api.ErrNotFound)
}
