package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
)

// BenchmarkRoom measures a live room of n nodes against raw GossipSub in the
// same run, on the same connection graph (the raw hosts are connected as the
// room's nodes were), with the same topic name length and payloads of the
// size of a signed room message: one speaker sends 200 chat lines at
// 50 a second; every other node records when each line arrives. It reports
// the delivery ratio, p50/p99 latency and CPU per delivered message for both.
// Run it with -benchtime 1x; each size takes a few seconds.
func BenchmarkRoom(b *testing.B) {
	for _, n := range []int{10, 30, 60} {
		b.Run(fmt.Sprint("nodes=", n), func(b *testing.B) {
			for b.Loop() {
				ratio, p50, p99, cpu, edges := benchRoom(b, n)
				rRatio, rP50, rP99, rCPU := benchRawGossip(b, n, edges)
				b.ReportMetric(ratio, "delivered")
				b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
				b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
				b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/msg")
				b.ReportMetric(rRatio, "raw-delivered")
				b.ReportMetric(float64(rP50.Microseconds()), "raw-p50-µs")
				b.ReportMetric(float64(rP99.Microseconds()), "raw-p99-µs")
				b.ReportMetric(float64(rCPU.Microseconds()), "raw-cpu-µs/msg")
			}
		})
	}
}

const (
	benchLines = 200
	benchRate  = 50 // lines a second
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// arrivals collects when each receiver got each line.
type arrivals struct {
	mu   sync.Mutex
	sent map[string]time.Time
	got  map[string][]time.Duration
}

func (a *arrivals) arrived(key string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.sent[key]; ok {
		a.got[key] = append(a.got[key], at.Sub(t))
	}
}

func (a *arrivals) result(receivers int) (ratio float64, p50, p99 time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []time.Duration
	for _, ds := range a.got {
		all = append(all, ds...)
	}
	if len(all) == 0 {
		return 0, 0, 0
	}
	slices.Sort(all)
	return float64(len(all)) / float64(len(a.sent)*receivers), all[len(all)/2], all[len(all)*99/100]
}

func (a *arrivals) complete(receivers int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sent) < benchLines {
		return false
	}
	for k := range a.sent {
		if len(a.got[k]) < receivers {
			return false
		}
	}
	return true
}

// sendLines sends benchLines lines at benchRate through send, which
// returns a line's ID, and records when each went. The lock is held across
// the send so that no arrival is recorded before its sent time.
func (a *arrivals) sendLines(b *testing.B, send func(i int) (string, error)) {
	tick := time.NewTicker(time.Second / benchRate)
	defer tick.Stop()
	for i := range benchLines {
		<-tick.C
		now := time.Now()
		a.mu.Lock()
		id, err := send(i)
		if err == nil {
			a.sent[id] = now
		}
		a.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}

func waitComplete(a *arrivals, receivers int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for !a.complete(receivers) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

func benchRoom(b *testing.B, n int) (ratio float64, p50, p99, cpuPerMsg time.Duration, edges [][2]int) {
	mk := func(boot string) *Node { return newBenchNode(b, boot) }
	host := mk("")
	defer host.Close()
	info, err := host.CreateRoom(context.Background(), "bench", "", time.Time{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	a := &arrivals{sent: map[string]time.Time{}, got: map[string][]time.Duration{}}
	nodes := []*Node{host}
	for range n - 1 {
		nd := mk(host.Addrs()[0].String())
		defer nd.Close()
		nodes = append(nodes, nd)
		if _, err := nd.JoinRoom(context.Background(), info.ID.String(), nil); err != nil {
			b.Fatal(err)
		}
		evs, cancel := nd.Subscribe()
		defer cancel()
		go func() { // ends when cancel closes the channel
			for e := range evs {
				if e.Type == EventRoomMessage && e.Room.Kind == room.KindChat {
					a.arrived(string(e.Room.ID[:]), e.Time) // when the node announced it: see bench.arrivalNote
				}
			}
		}()
	}
	time.Sleep(2 * time.Second) // let the mesh form, as a live room has
	edges = connectionGraph(nodes)
	cpu0 := cpuTime()
	a.sendLines(b, func(i int) (string, error) {
		id, err := host.RoomSay(context.Background(), info.ID, fmt.Sprint("line ", i))
		return string(id[:]), err
	})
	waitComplete(a, n-1, 30*time.Second)
	cpu := cpuTime() - cpu0
	ratio, p50, p99 = a.result(n - 1)
	return ratio, p50, p99, cpu / time.Duration(max(1, benchLines*(n-1))), edges
}

// connectionGraph lists which nodes are connected, by index, each pair once.
func connectionGraph(nodes []*Node) [][2]int {
	index := map[peer.ID]int{}
	for i, nd := range nodes {
		index[nd.ID()] = i
	}
	var edges [][2]int
	for i, nd := range nodes {
		for _, p := range nd.net.Host().Network().Peers() {
			if j, ok := index[p]; ok && i < j {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	return edges
}

// benchRawGossip runs the same load over raw GossipSub: hosts connected as
// the room's nodes were (edges), the same topic name length and payloads of
// the size of a signed room message.
func benchRawGossip(b *testing.B, n int, edges [][2]int) (float64, time.Duration, time.Duration, time.Duration) {
	topicName := rooms.Topic(room.ID{1})
	rawSize := sampleRoomMessageSize(b)
	type member struct {
		h     host.Host
		ps    *pubsub.PubSub
		topic *pubsub.Topic
		info  peer.AddrInfo
	}
	var members []member
	for range n {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.ConnectionGater(&LoopbackGater{}), libp2p.DisableRelay())
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		ps, err := pubsub.New(context.Background(), pubsub.Config{Host: h, Heartbeat: 100 * time.Millisecond, Scoring: true})
		if err != nil {
			b.Fatal(err)
		}
		defer ps.Close()
		t, err := ps.Join(topicName, func(context.Context, peer.ID, []byte) pubsub.Result { return pubsub.Accept })
		if err != nil {
			b.Fatal(err)
		}
		members = append(members, member{h, ps, t, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}})
	}
	for _, e := range edges {
		if err := members[e[1]].h.Connect(context.Background(), members[e[0]].info); err != nil {
			b.Fatal(err)
		}
	}
	a := &arrivals{sent: map[string]time.Time{}, got: map[string][]time.Duration{}}
	for _, m := range members[1:] {
		go func() { // ends when Close closes the channel
			for msg := range m.topic.Messages() {
				a.arrived(string(msg.Data), time.Now())
			}
		}()
	}
	time.Sleep(2 * time.Second)
	cpu0 := cpuTime()
	tick := time.NewTicker(time.Second / benchRate)
	for i := range benchLines {
		<-tick.C
		data := make([]byte, rawSize)
		copy(data, fmt.Sprint("line ", i))
		a.mu.Lock()
		a.sent[string(data)] = time.Now()
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := members[0].topic.Publish(ctx, data); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	tick.Stop()
	waitComplete(a, n-1, 30*time.Second)
	cpu := cpuTime() - cpu0
	ratio, p50, p99 := a.result(n - 1)
	return ratio, p50, p99, cpu / time.Duration(max(1, benchLines*(n-1)))
}

func sampleRoomMessageSize(b *testing.B) int {
	body, _ := roomstate.EncodeChat(roomstate.ChatBody{Text: "line 100"})
	m := room.Message{Room: room.ID{1}, Kind: room.KindChat, Seq: 100, Timestamp: time.Now(), Body: body}
	if err := m.Sign(keys.GeneratePrivateKey()); err != nil {
		b.Fatal(err)
	}
	data, _ := m.MarshalBinary()
	return len(data)
}
