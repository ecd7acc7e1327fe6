package pubsub

import (
	"context"
	"encoding/binary"
	"testing"
	"time"
)

// BenchmarkFanout measures one message from one publisher reaching every
// other host of ten, each connected to its two next neighbours on a ring
// (four peers each), with scoring on as in the node. One op is one publish
// until all nine receivers hold it; the node's room benchmark mirrors this
// shape.
func BenchmarkFanout(b *testing.B) {
	const n = 10
	const name = "/bench/fanout"
	ps := make([]*PubSub, n)
	ws := make([]*meshTracker, n)
	for i := range ps {
		ps[i], ws[i] = meshPubSub(b, func(c *Config) { c.Scoring = true })
	}
	for i := range n {
		connect(b, ps[i], ps[(i+1)%n])
		connect(b, ps[i], ps[(i+2)%n])
	}
	topics := make([]*Topic, n)
	for i := range n {
		topics[i] = join(b, ps[i], name, acceptAll)
	}
	for i := range n { // D is 6: every host grafts all four neighbours
		waitMesh(b, ws[i], name, ps[(i+1)%n], ps[(i+2)%n], ps[(i+n-1)%n], ps[(i+n-2)%n])
	}

	// Each receiver reports the sequence numbers it gets.
	got := make(chan uint64, 1024)
	for _, t := range topics[1:] {
		go func() {
			for m := range t.Messages() {
				got <- binary.BigEndian.Uint64(m.Data)
			}
		}()
	}
	payload := make([]byte, 256)
	var seq uint64
	send := func() {
		seq++
		binary.BigEndian.PutUint64(payload, seq)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := topics[0].Publish(ctx, payload); err != nil {
			b.Fatal(err)
		}
		timer := time.NewTimer(deadline)
		defer timer.Stop()
		for left := n - 1; left > 0; {
			select {
			case s := <-got:
				if s == seq {
					left--
				}
			case <-timer.C:
				b.Fatalf("message %d: %d of %d receivers missing", seq, left, n-1)
			}
		}
	}
	send() // warm up
	b.ReportAllocs()
	for b.Loop() {
		send()
	}
	b.ReportMetric(float64(n-1), "receivers")
}
