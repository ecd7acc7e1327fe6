package pubsub

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// lowestScores is how many of a topic's lowest peer scores Stats reports.
const lowestScores = 3

// TopicStats is what a node's status shows of one joined topic.
type TopicStats struct {
	// Topic is the topic's name.
	Topic string
	// Peers counts the peers known to be subscribed to it; Mesh, those of
	// them in our mesh (the peers we forward its messages to).
	Peers, Mesh int
	// Lowest are the lowest scores among the topic's peers, lowest first,
	// at most three (none without scoring). A score is a peer's whole
	// score, as GossipSub's thresholds see it, as of the last inspection
	// (every heartbeat); a peer not inspected yet has 0.
	Lowest []PeerScore
}

// PeerScore is a peer and its GossipSub score.
type PeerScore struct {
	Peer  peer.ID
	Score float64
}

// Stats returns the joined topics' peers, mesh peers and lowest scores,
// by topic name.
func (p *PubSub) Stats() []TopicStats {
	p.mu.Lock()
	topics := make([]*Topic, 0, len(p.topics))
	for _, t := range p.topics {
		topics = append(topics, t)
	}
	p.mu.Unlock()
	out := make([]TopicStats, 0, len(topics))
	for _, t := range topics {
		peers := t.Peers()
		st := TopicStats{Topic: t.name, Peers: len(peers), Mesh: p.mesh.size(t.name)}
		if p.scores != nil {
			st.Lowest = p.scores.lowest(peers, lowestScores)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b TopicStats) int { return cmp.Compare(a.Topic, b.Topic) })
	return out
}

// scoreWatch keeps the scores of GossipSub's last inspection, for Stats,
// and logs once at INFO when a peer's score falls below the graylist
// threshold (GossipSub then drops its RPCs unread), and at DEBUG when it
// climbs back. A peer stays graylisted for this purpose while GossipSub
// keeps its score, disconnected or not (Config's RetainScore): one line per
// episode, however often it reconnects. It holds no peer GossipSub does not.
type scoreWatch struct {
	log  *slog.Logger
	next lpubsub.ExtendedPeerScoreInspectFn // a test's, or nil

	mu     sync.Mutex
	scores map[peer.ID]float64
	gray   map[peer.ID]bool
}

func newScoreWatch(log *slog.Logger, next lpubsub.ExtendedPeerScoreInspectFn) *scoreWatch {
	return &scoreWatch{log: log, next: next, scores: map[peer.ID]float64{}, gray: map[peer.ID]bool{}}
}

// inspect is GossipSub's score inspection hook (lpubsub.WithPeerScoreInspect).
// GossipSub calls it in a goroutine of its own each time.
func (w *scoreWatch) inspect(snap map[peer.ID]*lpubsub.PeerScoreSnapshot) {
	scores := make(map[peer.ID]float64, len(snap))
	for p, s := range snap {
		scores[p] = s.Score
	}
	w.mu.Lock()
	for p, score := range scores {
		switch below := score < graylistThreshold; {
		case below && !w.gray[p]:
			w.gray[p] = true
			w.log.Info("pubsub: peer graylisted: its messages are dropped unread until its score recovers",
				"peer", p, "score", score, "threshold", float64(graylistThreshold), "invalid", invalidCounts(snap[p]))
		case !below && w.gray[p]:
			delete(w.gray, p)
			w.log.Debug("pubsub: peer no longer graylisted", "peer", p, "score", score)
		}
	}
	for p := range w.gray {
		if _, ok := scores[p]; !ok {
			delete(w.gray, p) // GossipSub forgot it: the episode is over
		}
	}
	w.scores = scores
	w.mu.Unlock()
	if w.next != nil {
		w.next(snap)
	}
}

// invalidCounts returns, per topic, the invalid messages counted against a
// peer's score (decaying), for the graylisting log line.
func invalidCounts(s *lpubsub.PeerScoreSnapshot) map[string]float64 {
	out := map[string]float64{}
	if s == nil {
		return out
	}
	for t, ts := range s.Topics {
		if ts.InvalidMessageDeliveries > 0 {
			out[t] = ts.InvalidMessageDeliveries
		}
	}
	return out
}

// lowest returns the n lowest scores among peers, lowest first.
func (w *scoreWatch) lowest(peers []peer.ID, n int) []PeerScore {
	w.mu.Lock()
	out := make([]PeerScore, 0, len(peers))
	for _, p := range peers {
		out = append(out, PeerScore{Peer: p, Score: w.scores[p]})
	}
	w.mu.Unlock()
	slices.SortFunc(out, func(a, b PeerScore) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Peer, b.Peer))
	})
	return out[:min(n, len(out))]
}
