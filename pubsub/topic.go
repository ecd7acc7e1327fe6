package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// messageBuffer is the size of a topic's Messages channel, and of
// GossipSub's subscription queue behind it.
const messageBuffer = 256

// Message is a message delivered on a topic, after its validator accepted it.
type Message struct {
	// ID is the message's content-hash ID (Config.MessageID).
	ID string
	// ReceivedFrom is the peer that forwarded the message to this node (not
	// necessarily its author); this node's own ID for a local publish.
	ReceivedFrom peer.ID
	// Data is the message's payload.
	Data []byte
	// Local reports whether this node published the message.
	Local bool
	// Decoded is what the topic's DecodingValidator decoded from Data
	// when it accepted the message; nil with a plain Validator.
	Decoded any
}

// Topic is a joined, subscribed topic. It is safe for concurrent use.
type Topic struct {
	ps    *PubSub
	name  string
	lib   *lpubsub.Topic
	sub   *lpubsub.Subscription
	msgs  chan Message
	stop  context.CancelFunc
	done  chan struct{} // closed when the reader goroutine has returned
	once  sync.Once
	err   error
	ready lpubsub.PubOpt
}

func newTopic(p *PubSub, name string, lt *lpubsub.Topic, sub *lpubsub.Subscription) *Topic {
	ctx, stop := context.WithCancel(p.ctx)
	t := &Topic{
		ps:    p,
		name:  name,
		lib:   lt,
		sub:   sub,
		msgs:  make(chan Message, messageBuffer),
		stop:  stop,
		done:  make(chan struct{}),
		ready: lpubsub.WithReadiness(p.mesh.ready),
	}
	go t.read(ctx)
	return t
}

// read moves messages from the subscription to the Messages channel until
// the topic closes or the PubSub stops; it closes the channel. A consumer
// that falls behind fills the channel and then GossipSub's queue, after
// which GossipSub drops messages for this subscription; the node repairs
// such gaps through sync.
func (t *Topic) read(ctx context.Context) {
	defer close(t.done)
	defer close(t.msgs)
	self := t.ps.host.ID()
	for {
		m, err := t.sub.Next(ctx)
		if err != nil {
			return
		}
		msg := Message{ID: m.ID, ReceivedFrom: m.ReceivedFrom, Data: m.Data, Local: m.ReceivedFrom == self, Decoded: m.ValidatorData}
		select {
		case t.msgs <- msg:
		case <-ctx.Done():
			return
		}
	}
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Publish validates data with the topic's validator and publishes it.
//
// GossipSub drops a publish on a topic with no peers, so Publish first
// waits until at least one peer is in the topic's mesh with its outbound
// stream open (checked every 200 ms; see meshTracker). If ctx ends first, nothing is sent and Publish returns an error
// wrapping both ErrNotReady and ctx's error: a node alone in a topic
// blocks only as long as ctx allows, so pass a deadline. The caller keeps
// the message (it is already stored) and the sync protocol delivers it
// once peers arrive.
//
// Readiness guarantees that the message leaves this node, not that every
// topic member gets it: GossipSub sends a message to the mesh and topic
// peers it has when it sends, and gossips about it for a few heartbeats to
// peers outside the mesh, so a peer that joins a mesh in between misses it.
// The node's sync repairs that too.
func (t *Topic) Publish(ctx context.Context, data []byte) error {
	select {
	case <-t.done:
		return fmt.Errorf("publish on %q: %w", t.name, ErrClosed)
	default:
	}
	err := t.lib.Publish(ctx, data, t.ready)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lpubsub.ErrTopicClosed) || t.ps.ctx.Err() != nil:
		return fmt.Errorf("publish on %q: %w", t.name, ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("publish on %q: %w: %w", t.name, ErrNotReady, ctx.Err())
	default:
		return fmt.Errorf("publish on %q: %w", t.name, err)
	}
}

// Messages returns the channel of messages accepted on the topic,
// including this node's own publishes (Local). It is closed by Close, or
// when the PubSub stops.
func (t *Topic) Messages() <-chan Message { return t.msgs }

// Peers returns the peers known to be subscribed to the topic.
func (t *Topic) Peers() []peer.ID { return t.lib.ListPeers() }

// Close cancels the subscription, unregisters the validator, leaves the
// topic and waits for the reader goroutine, which closes Messages. It is
// idempotent; later calls return the first call's error.
func (t *Topic) Close() error {
	t.once.Do(func() {
		t.sub.Cancel()
		t.stop()
		<-t.done
		errVal := t.ps.lib.UnregisterTopicValidator(t.name)
		errTopic := t.lib.Close()
		t.ps.forget(t)
		if t.ps.ctx.Err() != nil {
			return // GossipSub has stopped: nothing is left to undo
		}
		if err := errors.Join(errVal, errTopic); err != nil {
			t.err = fmt.Errorf("close topic %q: %w", t.name, err)
		}
	})
	return t.err
}
