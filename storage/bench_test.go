package storage

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// benchMessage returns message n of p's conversation, with a distinct ID for
// every n and a realistic body.
func benchMessage(p peer.ID, n int) Message {
	var id MessageID
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	id[0] = 0xBE
	return Message{
		ID: id, Peer: p, Direction: Inbound, Kind: "text",
		Body: "a short chat message of about sixty bytes, like most are",
		Sent: epoch.Add(time.Duration(n) * time.Millisecond), Received: epoch, State: StateReceived,
	}
}

// BenchmarkPutMessage measures one committed transaction holding one new
// message, with and without fsync: the cost of the kill -9 guarantee.
func BenchmarkPutMessage(b *testing.B) {
	for _, mode := range []struct {
		name   string
		noSync bool
	}{{"synced", false}, {"nosync", true}} {
		b.Run(mode.name, func(b *testing.B) {
			s, err := Open(Config{Dir: b.TempDir(), NoSync: mode.noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p := newPeer(b)
			n := 0
			for b.Loop() {
				m := benchMessage(p, n)
				n++
				if err := s.Update(func(tx *Txn) error { return tx.PutMessage(m) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutMessageParallel is BenchmarkPutMessage/synced with commits
// from several goroutines, as when many peers write at once: Badger syncs
// concurrent commits together, so throughput grows beyond one fsync per
// message.
func BenchmarkPutMessageParallel(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism(8)
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		p := newPeer(b)
		for pb.Next() {
			m := benchMessage(p, int(next.Add(1)))
			if err := s.Update(func(tx *Txn) error { return tx.PutMessage(m) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// buildStore writes total messages spread over peers conversations into a
// new on-disk store without fsync, closes it (flushing the memtables to
// tables) and returns its folder and peers.
func buildStore(b *testing.B, total, peers int) (string, []peer.ID) {
	b.Helper()
	dir := b.TempDir()
	s, err := Open(Config{Dir: dir, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]peer.ID, peers)
	for i := range ps {
		ps[i] = newPeer(b)
	}
	const batch = 1000
	for start := 0; start < total; start += batch {
		err := s.Update(func(tx *Txn) error {
			for n := start; n < min(start+batch, total); n++ {
				if err := tx.PutMessage(benchMessage(ps[n%peers], n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, ps
}

// BenchmarkMessagesLatest50 reads the newest 50 messages of one conversation
// (and a page further back) in a store of 100,000 messages over 100 peers;
// with BACKCHANNEL_BENCH_LARGE=1 also in one of 1,000,000.
func BenchmarkMessagesLatest50(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("BACKCHANNEL_BENCH_LARGE") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, total := range sizes {
		dir, ps := buildStore(b, total, 100)
		s, err := Open(Config{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		for _, page := range []struct {
			name   string
			before time.Time
		}{
			{"latest", time.Time{}},
			{"middle", epoch.Add(time.Duration(total/2) * time.Millisecond)},
		} {
			b.Run(fmt.Sprintf("messages=%d/%s", total, page.name), func(b *testing.B) {
				i := 0
				for b.Loop() {
					p := ps[i%len(ps)]
					i++
					err := s.View(func(tx *Txn) error {
						ms, err := tx.Messages(p, 50, page.before)
						if err == nil && len(ms) != 50 {
							err = fmt.Errorf("got %d messages, want 50", len(ms))
						}
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		s.Close()
	}
}

// BenchmarkOpen measures opening and closing a store of 10,000 messages, as
// a daemon does at start and stop.
func BenchmarkOpen(b *testing.B) {
	dir, _ := buildStore(b, 10_000, 10)
	for b.Loop() {
		s, err := Open(Config{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
