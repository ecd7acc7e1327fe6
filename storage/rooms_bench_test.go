package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// benchRoomMessage returns message n of a busy room: senders take turns,
// each with its own seq, one message per millisecond, with a body the size
// of a signed chat line.
func benchRoomMessage(room RoomID, senders []peer.ID, n int) RoomMessage {
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(n))
	data := make([]byte, 200)
	copy(data, "a signed room chat message of a couple of hundred bytes")
	copy(data[100:], seed[:])
	return RoomMessage{
		Room: room, ID: sha256.Sum256(data), Sender: senders[n%len(senders)], Seq: uint64(n/len(senders) + 1),
		Sent: epoch.Add(time.Duration(n) * time.Millisecond), Received: epoch, Data: data,
	}
}

func benchSenders(b *testing.B, n int) []peer.ID {
	ps := make([]peer.ID, n)
	for i := range ps {
		ps[i] = newPeer(b)
	}
	return ps
}

// BenchmarkPutRoomMessage measures one committed transaction holding one new
// room message (the message, two index keys, the high-water mark), without
// fsync.
func BenchmarkPutRoomMessage(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir(), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	room, senders := roomID(1), benchSenders(b, 20)
	n := 0
	for b.Loop() {
		m := benchRoomMessage(room, senders, n)
		n++
		err := s.Update(func(tx *Txn) error {
			added, err := tx.PutRoomMessage(m)
			if err == nil && !added {
				err = fmt.Errorf("message %d not added", n)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoomMessagesLatest50 reads the newest 50 messages (and a page
// from the middle) of a room of 100,000 messages from 20 senders, and what
// sync asks for: 50 messages of one sender after a seq, and its missing seqs.
func BenchmarkRoomMessagesLatest50(b *testing.B) {
	const total = 100_000
	dir := b.TempDir()
	s, err := Open(Config{Dir: dir, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	room, senders := roomID(1), benchSenders(b, 20)
	for start := 0; start < total; start += 1000 {
		err := s.Update(func(tx *Txn) error {
			for n := start; n < start+1000; n++ {
				if _, err := tx.PutRoomMessage(benchRoomMessage(room, senders, n)); err != nil {
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
	if s, err = Open(Config{Dir: dir}); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, page := range []struct {
		name   string
		before time.Time
	}{
		{"latest", time.Time{}},
		{"middle", epoch.Add(total / 2 * time.Millisecond)},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				err := s.View(func(tx *Txn) error {
					ms, err := tx.RoomMessages(room, 50, page.before)
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
	b.Run("sender", func(b *testing.B) {
		i := 0
		for b.Loop() {
			p := senders[i%len(senders)]
			i++
			err := s.View(func(tx *Txn) error {
				ms, err := tx.RoomSenderMessages(room, p, uint64(total/len(senders)/2), 50)
				if err == nil && len(ms) != 50 {
					err = fmt.Errorf("got %d messages, want 50", len(ms))
				}
				if err == nil {
					_, err = tx.RoomMissing(room, p, total, 50)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
