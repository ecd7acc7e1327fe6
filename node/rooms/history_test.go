package rooms

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/storage"
)

// storedTotals is what the store holds of a room.
type storedTotals struct {
	count int
	bytes int64
}

func totalsOf(t *testing.T, st *storage.Store, id room.ID) storedTotals {
	var tt storedTotals
	if err := st.View(func(tx *storage.Txn) error {
		var err error
		tt.count, tt.bytes, err = tx.RoomMessageTotals(storage.RoomID(id))
		return err
	}); err != nil {
		t.Error(err)
	}
	return tt
}

// TestHistoryBoundOnWrite: a flood of messages from fresh sender keys into
// a joined room never leaves the store holding more than the room's bound,
// by count or by bytes, after any batch the writer stores; pruning keeps
// the newest, and the running totals match the store's.
func TestHistoryBoundOnWrite(t *testing.T) {
	tests := []struct {
		name  string
		count int
		bytes int64
		text  int // chat text length
	}{
		{"by count", 200, DefaultHistoryBytes, 20},
		{"by bytes", 100_000, 100 << 10, roomMaxChat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTestNet(t)
			ts := newTestService(t, tn, "", func(c *Config) { c.HistoryCount, c.HistoryBytes = tt.count, tt.bytes })
			info, err := ts.CreateRoom(t.Context(), "flood", "", time.Time{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			lr, ok := ts.get(info.ID)
			if !ok {
				t.Fatal("room not joined")
			}
			ceiling := storedTotals{tt.count + tt.count/10, tt.bytes}
			// Measured by the writer after each batch it stored and pruned.
			after := make(chan storedTotals, writeQueueSize)
			hook := func(batch []storage.RoomMessage) {
				n := 0
				for _, rm := range batch {
					if room.ID(rm.Room) == info.ID {
						n++
					}
				}
				for range n {
					after <- totalsOf(t, ts.store, info.ID) // one per message of the room
				}
			}
			ts.batchStored.Store(&hook)

			const perBatch, senders = 50, 25
			total := 3 * ceiling.count
			if tt.bytes < DefaultHistoryBytes {
				total = 6 * int(tt.bytes) / tt.text
			}
			sks := make([]keys.PrivateKey, senders)
			seqs := make([]uint64, senders)
			text := strings.Repeat("x", tt.text)
			var batches [][]arrival
			for i := 0; i < total; i += perBatch {
				// Fresh keys, a new set every batch.
				for j := range sks {
					sks[j], seqs[j] = keys.GeneratePrivateKey(), 0
				}
				var batch []arrival
				for j := i; j < min(i+perBatch, total); j++ {
					k := j % senders
					seqs[k]++
					m, data := signChat(t, info.ID, sks[k], seqs[k], fmt.Sprint(j, text)[:tt.text])
					batch = append(batch, newArrival(m, data, ""))
				}
				batches = append(batches, batch)
			}
			oldest := batches[0][0].id
			last := batches[len(batches)-1]
			newest := last[len(last)-1].id
			for _, batch := range batches { // fewer than writeQueueSize: accept does not wait
				ts.accept(lr, batch)
			}

			deadline := time.After(60 * time.Second)
			peak := storedTotals{}
			for seen := 0; seen < total; seen++ {
				select {
				case got := <-after:
					peak.count, peak.bytes = max(peak.count, got.count), max(peak.bytes, got.bytes)
					if got.count > ceiling.count || got.bytes > ceiling.bytes {
						t.Fatalf("after a batch the store holds %d messages, %d bytes; bound %d, %d",
							got.count, got.bytes, ceiling.count, ceiling.bytes)
					}
				case <-deadline:
					t.Fatalf("timed out: %d of %d messages stored", seen, total)
				}
			}
			ts.batchStored.Store(nil)
			t.Logf("fed %d messages; the store peaked at %d messages, %d bytes", total, peak.count, peak.bytes)

			final := totalsOf(t, ts.store, info.ID)
			rs := ts.size(info.ID)
			rs.mu.Lock()
			running := storedTotals{rs.count, rs.bytes}
			rs.mu.Unlock()
			if running != final {
				t.Errorf("running totals %+v, store %+v", running, final)
			}
			if final.count < tt.count/2 && final.bytes < tt.bytes/2 {
				t.Errorf("pruned too far: %+v left", final)
			}
			if err := ts.store.View(func(tx *storage.Txn) error {
				if ok, err := tx.HasRoomMessage(storage.RoomID(info.ID), newest); err != nil || !ok {
					t.Errorf("newest message held %v, %v", ok, err)
				}
				if ok, err := tx.HasRoomMessage(storage.RoomID(info.ID), oldest); err != nil || ok {
					t.Errorf("oldest message held %v, %v", ok, err)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// roomMaxChat is a chat text as long as they come.
const roomMaxChat = 1000
