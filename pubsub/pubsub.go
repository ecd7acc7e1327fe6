package pubsub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// validateTimeout bounds one validator call; a validator still running is
// cut off and its message ignored.
const validateTimeout = 5 * time.Second

// Config configures a PubSub.
type Config struct {
	// Host is the libp2p host to run on. Required.
	Host host.Host
	// Logger receives GossipSub's and this package's logs; nil discards.
	Logger *slog.Logger
	// Heartbeat is GossipSub's heartbeat interval; 0 keeps its default
	// (1 s). Tests shorten it to form meshes and gossip quickly.
	Heartbeat time.Duration
	// SeenTTL is how long GossipSub remembers the ID of a message it has
	// seen, dropping copies of it unvalidated; 0 keeps its default (2 min).
	// Tests shorten it to replay a message past that window. (GossipSub
	// sweeps the memory once a minute, so an entry lives up to a minute
	// past it.)
	SeenTTL time.Duration
	// MessageID returns a content-hash ID for a message on a topic; nil
	// uses hex(SHA-256(topic ‖ 0 ‖ data)). The node passes
	// room.WireMessageID for room topics, so a relay cannot make a
	// corrupted copy that shadows a message.
	MessageID func(topic string, data []byte) string
	// Private, if set, keeps private topics among the peers it allows
	// (see Private); the node's group topics are private.
	Private *Private
	// Scoring enables peer scoring (on in the node): peers whose messages
	// are rejected are pushed out of the mesh, then graylisted.
	Scoring bool
	// Tracer, when set, is told of everything GossipSub does, each RPC it
	// sends and receives included: the bench's audience scenario breaks a
	// listener's GossipSub bytes down with it (messages, IHAVE, IWANT,
	// IDONTWANT, mesh upkeep). Off in the node by default.
	Tracer lpubsub.RawTracer

	// inspect, for tests, receives score snapshots every heartbeat (needs
	// Scoring), after the PubSub's own inspection.
	inspect lpubsub.ExtendedPeerScoreInspectFn
}

// PubSub is a GossipSub router on a host. It is safe for concurrent use.
type PubSub struct {
	host    host.Host
	lib     *lpubsub.PubSub
	log     *slog.Logger
	scoring bool
	mesh    *meshTracker // readiness: a mesh peer GossipSub can send to
	scores  *scoreWatch  // the last scores inspected; nil without scoring
	cancel  context.CancelFunc
	ctx     context.Context

	mu     sync.Mutex
	topics map[string]*Topic
	closed bool
}

// DefaultMessageID returns hex(SHA-256(topic ‖ 0 ‖ data)), the message ID
// used when Config.MessageID is nil.
func DefaultMessageID(topic string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// New starts GossipSub on cfg.Host. It runs until Close or until ctx ends.
func New(ctx context.Context, cfg Config) (*PubSub, error) {
	if cfg.Host == nil {
		return nil, fmt.Errorf("pubsub: no host")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idFn := cfg.MessageID
	if idFn == nil {
		idFn = DefaultMessageID
	}
	params := lpubsub.DefaultGossipSubParams()
	// Gossip (IHAVE) goes to Dlazy (6) peers outside the mesh each
	// heartbeat, not to a quarter of them: with GossipSub's GossipFactor of
	// 0.25 a node connected to a room's 256 peers advertised each message
	// ID to some 60 peers in each of 3 heartbeats, about 6 KB per message,
	// and in the bench's 100-node room IHAVE was more of a listener's bytes
	// than the messages themselves. Gossip repairs what the mesh missed;
	// rooms and groups repair by their own sync as well.
	params.GossipFactor = 0
	if hb := cfg.Heartbeat; hb > 0 {
		params.HeartbeatInterval = hb
		params.HeartbeatInitialDelay = min(params.HeartbeatInitialDelay, hb)
		params.DirectConnectInitialDelay = min(params.DirectConnectInitialDelay, hb)
	}
	opts := []lpubsub.Option{
		lpubsub.WithGossipSubParams(params),
		lpubsub.WithMessageSignaturePolicy(lpubsub.StrictNoSign),
		lpubsub.WithNoAuthor(),
		lpubsub.WithMessageIdFn(func(m *pb.Message) string { return idFn(m.GetTopic(), m.GetData()) }),
		lpubsub.WithFloodPublish(true), // GossipSub's default, stated: a publish reaches every topic peer
		lpubsub.WithLogger(log),
	}
	if cfg.SeenTTL > 0 {
		opts = append(opts, lpubsub.WithSeenMessagesTTL(cfg.SeenTTL))
	}
	var scores *scoreWatch
	if cfg.Scoring {
		// Scores are inspected every heartbeat: for Stats, and to log
		// graylisting (scoreWatch).
		scores = newScoreWatch(log, cfg.inspect)
		opts = append(opts, lpubsub.WithPeerScore(peerScoreParams(), peerScoreThresholds()),
			lpubsub.WithPeerScoreInspect(scores.inspect, params.HeartbeatInterval))
	}
	mesh := newMeshTracker()
	h := cfg.Host
	if a := cfg.Private; a != nil {
		opts = append(opts, lpubsub.WithPeerFilter(a.Allowed), lpubsub.WithSubscriptionFilter(a))
		mesh.gone = a.peerGone
		h = privateHost{Host: h, private: a}
	}
	opts = append(opts, lpubsub.WithRawTracer(mesh))
	if cfg.Tracer != nil {
		opts = append(opts, lpubsub.WithRawTracer(cfg.Tracer))
	}
	ctx, cancel := context.WithCancel(ctx)
	lib, err := lpubsub.NewGossipSub(ctx, h, opts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("pubsub: start gossipsub: %w", err)
	}
	return &PubSub{
		host:    cfg.Host,
		lib:     lib,
		log:     log,
		scoring: cfg.Scoring,
		ctx:     ctx,
		cancel:  cancel,
		topics:  make(map[string]*Topic),
		mesh:    mesh,
		scores:  scores,
	}, nil
}

// Join registers v as the topic's validator, joins the topic and
// subscribes to it. With scoring, the topic gets its score parameters
// (a heavy penalty for invalid messages). A PubSub joins a topic once;
// Close the Topic to join it again.
func (p *PubSub) Join(name string, v Validator) (*Topic, error) {
	if v == nil {
		return nil, fmt.Errorf("join %q: %w", name, ErrNoValidator)
	}
	return p.JoinDecoding(name, func(ctx context.Context, from peer.ID, data []byte) (Result, any) {
		return v(ctx, from, data), nil
	})
}

// JoinDecoding is Join with a validator that hands what it decoded from each
// message it accepts to the topic's reader (Message.Decoded).
func (p *PubSub) JoinDecoding(name string, v DecodingValidator) (*Topic, error) {
	if v == nil {
		return nil, fmt.Errorf("join %q: %w", name, ErrNoValidator)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("join %q: %w", name, ErrClosed)
	}
	if _, ok := p.topics[name]; ok {
		return nil, fmt.Errorf("join %q: %w", name, ErrJoined)
	}
	t, err := p.join(name, v)
	if err != nil {
		return nil, fmt.Errorf("join %q: %w", name, err)
	}
	p.topics[name] = t
	return t, nil
}

func (p *PubSub) join(name string, v DecodingValidator) (t *Topic, err error) {
	val := func(ctx context.Context, _ peer.ID, m *lpubsub.Message) lpubsub.ValidationResult {
		r, decoded := v(ctx, m.ReceivedFrom, m.Data)
		if r == Accept {
			// The same *Message is what the subscription hands out.
			m.ValidatorData = decoded
		}
		return r.lib()
	}
	if err := p.lib.RegisterTopicValidator(name, val, lpubsub.WithValidatorTimeout(validateTimeout), lpubsub.WithValidatorInline(true)); err != nil {
		return nil, fmt.Errorf("register validator: %w", err)
	}
	var lt *lpubsub.Topic
	defer func() {
		if err == nil {
			return
		}
		if lt != nil {
			_ = lt.Close()
		}
		_ = p.lib.UnregisterTopicValidator(name)
	}()
	lt, err = p.lib.Join(name)
	if err != nil {
		return nil, err
	}
	if p.scoring {
		if err := lt.SetScoreParams(topicScoreParams()); err != nil {
			return nil, fmt.Errorf("score params: %w", err)
		}
	}
	sub, err := lt.Subscribe(lpubsub.WithBufferSize(messageBuffer))
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return newTopic(p, name, lt, sub), nil
}

// PeerScore is p's score at the last heartbeat (with Config.Scoring), and
// whether GossipSub scored it.
func (p *PubSub) PeerScore(id peer.ID) (float64, bool) {
	if p.scores == nil {
		return 0, false
	}
	p.scores.mu.Lock()
	defer p.scores.mu.Unlock()
	s, ok := p.scores.scores[id]
	return s, ok
}

// forget drops a closed topic from the PubSub's set.
func (p *PubSub) forget(t *Topic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.topics[t.name] == t {
		delete(p.topics, t.name)
	}
}

// Close closes every topic and stops GossipSub. It is idempotent and
// later calls return nil.
func (p *PubSub) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	topics := make([]*Topic, 0, len(p.topics))
	for _, t := range p.topics {
		topics = append(topics, t)
	}
	p.mu.Unlock()

	var firstErr error
	for _, t := range topics {
		if err := t.Close(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	p.cancel()
	return firstErr
}

// Peers lists the peers GossipSub counts on a topic: those whose
// subscription it recorded.
func (p *PubSub) Peers(topic string) []peer.ID { return p.lib.ListPeers(topic) }
