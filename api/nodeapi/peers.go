package nodeapi

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// Identity, contacts and 1:1 chats.

func (a adapter) Self() api.Self                   { return selfJSON(a.n.Self()) }
func (a adapter) Status() api.Status               { return statusJSON(a.n.Status()) }
func (a adapter) SetProfileName(name string) error { return apiError(a.n.SetProfileName(name)) }
func (a adapter) Block(p peer.ID) error            { return apiError(a.n.Block(p)) }
func (a adapter) Unblock(p peer.ID) error          { return apiError(a.n.Unblock(p)) }
func (a adapter) SetVerified(p peer.ID, verified bool) error {
	return apiError(a.n.SetVerified(p, verified))
}
func (a adapter) MarkRead(p peer.ID) error            { return apiError(a.n.MarkRead(p)) }
func (a adapter) Typing(p peer.ID, typing bool) error { return apiError(a.n.Typing(p, typing)) }
func (a adapter) Accept(ctx context.Context, p peer.ID) error {
	return apiError(a.n.Accept(ctx, p))
}
func (a adapter) Decline(p peer.ID) error { return apiError(a.n.Decline(p)) }

func (a adapter) NewInvite(oneTime bool) (string, error) {
	link, err := a.n.NewInvite(oneTime)
	return link, apiError(err)
}

func (a adapter) SafetyNumber(p peer.ID) (string, error) {
	sn, err := a.n.SafetyNumber(p)
	return sn, apiError(err)
}

func (a adapter) AddContact(ctx context.Context, invite string, name string) (api.Contact, error) {
	c, err := a.n.AddContact(ctx, invite, name)
	return one(c, err, contactJSON)
}

func (a adapter) Contacts() ([]api.Contact, error) {
	cs, err := a.n.Contacts()
	return all(cs, err, contactJSON)
}

func (a adapter) Send(ctx context.Context, to peer.ID, m api.Outgoing) (api.Message, error) {
	sent, err := a.n.Send(ctx, to, node.Outgoing{Kind: m.Kind, Body: m.Body, ReplyTo: storage.MessageID(m.ReplyTo), Key: m.Key})
	return one(sent, err, messageJSON)
}

func (a adapter) Inbox() ([]api.Conversation, error) {
	cs, err := a.n.Inbox()
	return all(cs, err, conversationJSON)
}

func (a adapter) Requests() ([]api.Conversation, error) {
	cs, err := a.n.Requests()
	return all(cs, err, conversationJSON)
}

func (a adapter) Messages(p peer.ID, limit int, before time.Time) ([]api.Message, error) {
	ms, err := a.n.Messages(p, limit, before)
	return all(ms, err, messageJSON)
}

func (a adapter) Pending() ([]api.Message, error) {
	ms, err := a.n.PendingMessages()
	return all(ms, err, messageJSON)
}

func (a adapter) Cancel(id [16]byte) (api.Message, error) {
	m, err := a.n.CancelMessage(storage.MessageID(id))
	return one(m, err, messageJSON)
}
