package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// BenchmarkGroup measures a private group of 30 against raw GossipSub on
// the group's own connection graph in the same run: one member sends 200 lines at
// 50 a second; every other member records when each line arrives (stored
// and decrypted). It reports the delivery ratio, p50/p99 latency and CPU
// per delivered message for both, and the time from a removal until every
// remaining member holds the new epoch's key (epoch-ms). Run it with
// -benchtime 1x.
func BenchmarkGroup(b *testing.B) {
	const n = 30
	for b.Loop() {
		ratio, p50, p99, cpu, epoch, edges := benchGroup(b, n)
		rRatio, rP50, rP99, rCPU := benchRawGossip(b, n, edges)
		b.ReportMetric(ratio, "delivered")
		b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
		b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/msg")
		b.ReportMetric(float64(epoch.Milliseconds()), "epoch-ms")
		b.ReportMetric(rRatio, "raw-delivered")
		b.ReportMetric(float64(rP50.Microseconds()), "raw-p50-µs")
		b.ReportMetric(float64(rP99.Microseconds()), "raw-p99-µs")
		b.ReportMetric(float64(rCPU.Microseconds()), "raw-cpu-µs/msg")
	}
}

func benchGroup(b *testing.B, n int) (ratio float64, p50, p99, cpuPer, epochTime time.Duration, edges [][2]int) {
	mk := func(boot string) *Node {
		return newBenchNode(b, boot, func(c *Config) { c.RetryBase, c.RetryMax = 50*time.Millisecond, time.Second })
	}
	ctx := context.Background()
	owner := mk("")
	defer owner.Close()
	info, err := owner.CreateGroup(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	id := info.ID
	var members []*Node
	var peers []peer.ID
	for range n - 1 {
		nd := mk(owner.Addrs()[0].String())
		defer nd.Close()
		members = append(members, nd)
		peers = append(peers, nd.ID())
	}
	if err := owner.InviteToGroup(ctx, id, peers...); err != nil {
		b.Fatal(err)
	}
	waitFor(b, "the invitations", func() bool {
		for _, m := range members {
			if g, err := m.Group(id); err != nil || g.KeyWaited {
				return false
			}
		}
		return true
	})
	for _, m := range members {
		if _, err := m.AcceptGroupInvite(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	a := &arrivals{sent: map[string]time.Time{}, got: map[string][]time.Duration{}}
	epochs := &epochArrivals{want: info.Epoch + 2}
	for _, m := range members {
		evs, cancel := m.Subscribe()
		defer cancel()
		go func() { // ends when cancel closes the channel
			for e := range evs {
				switch {
				case e.Type == EventGroupMessage && e.Group.Kind == KindText:
					a.arrived(string(e.Group.Message[:]), e.Time) // see bench.arrivalNote
				case e.Type == EventGroupEpoch && e.Group.Epoch == epochs.want:
					epochs.arrived(time.Now())
				}
			}
		}()
	}
	time.Sleep(2 * time.Second) // let the mesh form, as a group in use has
	cpu0 := cpuTime()
	a.sendLines(b, func(i int) (string, error) {
		m, err := owner.GroupSend(ctx, id, GroupOutgoing{Body: fmt.Sprint("line ", i)})
		return string(m.ID[:]), err
	})
	waitComplete(a, n-1, 30*time.Second)
	cpu := cpuTime() - cpu0
	ratio, p50, p99 = a.result(n - 1)
	edges = connectionGraph(append([]*Node{owner}, members...))

	// A removal: every remaining member must hold the new epoch's key.
	removed := members[len(members)-1]
	start := time.Now()
	if err := owner.RemoveGroupMember(ctx, id, removed.ID()); err != nil {
		b.Fatal(err)
	}
	epochTime = epochs.wait(b, start, n-2, 30*time.Second)
	return ratio, p50, p99, cpu / time.Duration(max(1, benchLines*(n-1))), epochTime, edges
}

// epochArrivals records when members got the key of epoch want.
type epochArrivals struct {
	want uint64
	mu   sync.Mutex
	at   []time.Time
}

func (e *epochArrivals) arrived(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at = append(e.at, t)
}

// wait returns how long after start the last of count members got the key.
func (e *epochArrivals) wait(b *testing.B, start time.Time, count int, limit time.Duration) time.Duration {
	waitFor(b, "the new epoch everywhere", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.at) >= count
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.MaxFunc(e.at, func(x, y time.Time) int { return x.Compare(y) }).Sub(start)
}

func waitFor(b *testing.B, what string, cond func() bool) {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
