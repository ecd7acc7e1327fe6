package bench

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// byteMeter counts the bytes a libp2p host reads and writes on its
// streams (node.Config.BandwidthReporter), in all and by protocol. It
// counts exactly, unlike metrics.BandwidthCounter, whose totals a sweeper
// brings up to date once a second. What libp2p tells a reporter is stream
// payload after the muxer: no transport handshake, encryption or muxer
// framing; the multistream negotiation of a stream counts under the
// protocol "" (it happens before the stream has one).
type byteMeter struct {
	in, out atomic.Int64
	mu      sync.Mutex
	byProto map[protocol.ID]*protoBytes
}

type protoBytes struct{ in, out atomic.Int64 }

func newByteMeter() *byteMeter { return &byteMeter{byProto: map[protocol.ID]*protoBytes{}} }

func (m *byteMeter) proto(p protocol.ID) *protoBytes {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.byProto[p]
	if !ok {
		b = &protoBytes{}
		m.byProto[p] = b
	}
	return b
}

// meterMark is a byteMeter's totals at a moment.
type meterMark struct {
	in, out           int64
	protoIn, protoOut map[protocol.ID]int64
}

func (m *byteMeter) mark() meterMark {
	mk := meterMark{in: m.in.Load(), out: m.out.Load(), protoIn: map[protocol.ID]int64{}, protoOut: map[protocol.ID]int64{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	for p, b := range m.byProto {
		mk.protoIn[p], mk.protoOut[p] = b.in.Load(), b.out.Load()
	}
	return mk
}

// since is what was counted from a to b.
func (b meterMark) since(a meterMark) meterMark {
	d := meterMark{in: b.in - a.in, out: b.out - a.out, protoIn: map[protocol.ID]int64{}, protoOut: map[protocol.ID]int64{}}
	for p, v := range b.protoIn {
		d.protoIn[p] = v - a.protoIn[p]
	}
	for p, v := range b.protoOut {
		d.protoOut[p] = v - a.protoOut[p]
	}
	return d
}

// The swarm calls LogSentMessage and LogSentMessageStream (and the Recv
// pair) for the same bytes: the stream calls count, the others do not.
func (m *byteMeter) LogSentMessage(int64) {}
func (m *byteMeter) LogRecvMessage(int64) {}
func (m *byteMeter) LogSentMessageStream(n int64, p protocol.ID, _ peer.ID) {
	m.out.Add(n)
	m.proto(p).out.Add(n)
}
func (m *byteMeter) LogRecvMessageStream(n int64, p protocol.ID, _ peer.ID) {
	m.in.Add(n)
	m.proto(p).in.Add(n)
}
func (m *byteMeter) GetBandwidthForPeer(peer.ID) metrics.Stats { return metrics.Stats{} }
func (m *byteMeter) GetBandwidthForProtocol(p protocol.ID) metrics.Stats {
	b := m.proto(p)
	return metrics.Stats{TotalIn: b.in.Load(), TotalOut: b.out.Load()}
}
func (m *byteMeter) GetBandwidthTotals() metrics.Stats {
	return metrics.Stats{TotalIn: m.in.Load(), TotalOut: m.out.Load()}
}
func (m *byteMeter) GetBandwidthByPeer() map[peer.ID]metrics.Stats { return nil }
func (m *byteMeter) GetBandwidthByProtocol() map[protocol.ID]metrics.Stats {
	mk := m.mark()
	out := make(map[protocol.ID]metrics.Stats, len(mk.protoIn))
	for p, v := range mk.protoIn {
		out[p] = metrics.Stats{TotalIn: v, TotalOut: mk.protoOut[p]}
	}
	return out
}
func (m *byteMeter) Reset()             {}
func (m *byteMeter) TrimIdle(time.Time) {}

var _ metrics.Reporter = (*byteMeter)(nil)
