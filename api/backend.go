package api

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// Backend is what the API serves: *node.Node in the daemon, a fake in tests
// (see package apitest).
type Backend interface {
	Self() node.SelfInfo
	NewInvite(oneTime bool) (string, error)
	Status() node.Status
	SetProfileName(name string) error

	AddContact(ctx context.Context, invite string, name string) (storage.Contact, error)
	Contacts() ([]storage.Contact, error)
	ResolvePeer(nameOrID string) (peer.ID, error)
	Block(p peer.ID) error
	Unblock(p peer.ID) error
	SafetyNumber(p peer.ID) (string, error)
	SetVerified(p peer.ID, verified bool) error

	Send(ctx context.Context, to peer.ID, m node.Outgoing) (storage.Message, error)
	Inbox() ([]storage.Conversation, error)
	Requests() ([]storage.Conversation, error)
	Messages(p peer.ID, limit int, before time.Time) ([]storage.Message, error)
	MarkRead(p peer.ID) error
	Typing(p peer.ID, typing bool) error
	Accept(ctx context.Context, p peer.ID) error
	Decline(p peer.ID) error

	// Subscribe returns a stream of events until cancel is called. cancel
	// must be safe to call more than once.
	Subscribe() (events <-chan node.Event, cancel func())
}
