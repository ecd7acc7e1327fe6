package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

const (
	// storePeers is how many conversations the stored messages spread over.
	storePeers = 100
	// storeBody is a stored message's text: about what most chat lines are.
	storeBody = "a short chat message of about sixty bytes, like most are"
	// storeReads is how many "latest 50" reads are timed.
	storeReads = 1000
	// storeBatch is how many messages one fill transaction writes.
	storeBatch = 1000
)

// storeEpoch dates the stored messages (one a millisecond from it).
var storeEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// runStore fills a store with storeMessages messages over 100 conversations
// (through storage directly, without fsync: the fill is set-up, not what is
// measured), then times opening it and reading the latest 50 messages of a
// conversation, and divides its disk use by the messages. Beside it, raw
// Badger with its default options holding the same keys and values of the
// same size.
func runStore(ctx context.Context, e *env) (res ScenarioResult, err error) {
	n := e.storeMessages
	peers := make([]peer.ID, storePeers)
	for i := range peers {
		_, pub, err := lcrypto.GenerateEd25519Key(nil)
		if err != nil {
			return res, err
		}
		if peers[i], err = peer.IDFromPublicKey(pub); err != nil {
			return res, err
		}
	}
	dir := filepath.Join(e.dir, "store")
	e.step("filling the store with %d messages (no fsync for the fill)", n)
	if err := fillStore(ctx, e, dir, peers, n); err != nil {
		return res, err
	}
	e.step("timing open and 'latest 50' reads")
	open, err := timeOpen(func() (func() error, error) {
		s, err := storage.Open(storage.Config{Dir: dir})
		if err != nil {
			return nil, err
		}
		return s.Close, nil
	})
	if err != nil {
		return res, err
	}
	s, err := storage.Open(storage.Config{Dir: dir})
	if err != nil {
		return res, err
	}
	reads := make([]time.Duration, 0, storeReads)
	for i := range storeReads {
		p := peers[i%len(peers)]
		start := time.Now()
		err := s.View(func(tx *storage.Txn) error {
			ms, err := tx.Messages(p, 50, time.Time{})
			if err == nil && len(ms) != min(50, n/storePeers) {
				err = fmt.Errorf("latest 50: got %d messages", len(ms))
			}
			return err
		})
		if err != nil {
			s.Close()
			return res, err
		}
		reads = append(reads, time.Since(start))
	}
	if err := s.Close(); err != nil {
		return res, err
	}
	disk, err := dirSize(dir)
	if err != nil {
		return res, err
	}

	e.step("raw Badger: the same %d records", n)
	rawDir := filepath.Join(e.dir, "raw")
	raw, err := rawBadger(ctx, rawDir, peers, n)
	if err != nil {
		return res, fmt.Errorf("raw Badger: %w", err)
	}
	const base = "raw Badger, default options"
	res.Figures = []Figure{
		figVs("open", "ms", ms(open), ms(raw.open), base, nil),
		figVs("latest 50 of a conversation, p50", "ms", ms(percentile(reads, .5)), ms(percentile(raw.reads, .5)), base, atMost(5)),
		figVs("latest 50 of a conversation, p99", "ms", ms(percentile(reads, .99)), ms(percentile(raw.reads, .99)), base, nil),
		figVs("disk per message", "bytes", float64(disk)/float64(n), float64(raw.disk)/float64(n), base, nil),
	}
	res.Note = fmt.Sprintf("%s messages over %d conversations, written through storage without fsync (set-up only); "+
		"opened with fsync on, as a node does; disk is allocated blocks after close; each message's text is %d bytes",
		thousands(int64(n)), storePeers, len(storeBody))
	return res, nil
}

// storeMessage is message i: in conversation i mod storePeers, one
// millisecond after message i-1.
func storeMessage(peers []peer.ID, i int) storage.Message {
	var id storage.MessageID
	binary.BigEndian.PutUint64(id[8:], uint64(i)+1)
	id[0] = 0xBE
	t := storeEpoch.Add(time.Duration(i) * time.Millisecond)
	return storage.Message{ID: id, Peer: peers[i%len(peers)], Direction: storage.Inbound, Kind: "text",
		Body: storeBody, Sent: t, Received: t, State: storage.StateReceived}
}

func fillStore(ctx context.Context, e *env, dir string, peers []peer.ID, n int) error {
	s, err := storage.Open(storage.Config{Dir: dir, NoSync: true})
	if err != nil {
		return err
	}
	for start := 0; start < n; start += storeBatch {
		if err := ctx.Err(); err != nil {
			s.Close()
			return err
		}
		err := s.Update(func(tx *storage.Txn) error {
			for i := start; i < min(start+storeBatch, n); i++ {
				if err := tx.PutMessage(storeMessage(peers, i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.Close()
			return err
		}
		if start > 0 && start%(n/5) == 0 {
			e.step("%d of %d stored", start, n)
		}
	}
	return s.Close()
}

// timeOpen opens (and closes) a store three times and returns the median
// open time.
func timeOpen(open func() (func() error, error)) (time.Duration, error) {
	var ds []time.Duration
	for range 3 {
		start := time.Now()
		closeFn, err := open()
		if err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
		if err := closeFn(); err != nil {
			return 0, err
		}
	}
	return percentile(ds, .5), nil
}

type rawStoreResult struct {
	open  time.Duration
	reads []time.Duration
	disk  int64
}

// rawBadger writes n records shaped like the store's messages (key: prefix,
// peer, time, ID; value: the text and a few bytes of fields) into Badger
// with default options, and times the same operations.
func rawBadger(ctx context.Context, dir string, peers []peer.ID, n int) (r rawStoreResult, err error) {
	opts := badger.DefaultOptions(dir).WithLogger(nil).WithMetricsEnabled(false)
	db, err := badger.Open(opts.WithSyncWrites(false))
	if err != nil {
		return r, err
	}
	key := func(p peer.ID, i int) []byte {
		k := append([]byte("m/"), p...)
		k = binary.BigEndian.AppendUint64(k, uint64(storeEpoch.Add(time.Duration(i)*time.Millisecond).UnixNano()))
		var id [16]byte
		binary.BigEndian.PutUint64(id[8:], uint64(i)+1)
		return append(k, id[:]...)
	}
	value := append([]byte("\x08\x00\x12\x04text\x1a\x38"), storeBody...)
	value = append(value, make([]byte, 12)...) // received time and state
	for start := 0; start < n; start += storeBatch {
		if err := ctx.Err(); err != nil {
			db.Close()
			return r, err
		}
		err := db.Update(func(tx *badger.Txn) error {
			for i := start; i < min(start+storeBatch, n); i++ {
				if err := tx.Set(key(peers[i%len(peers)], i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return r, err
		}
	}
	if err := db.Close(); err != nil {
		return r, err
	}
	if r.open, err = timeOpen(func() (func() error, error) {
		db, err := badger.Open(opts)
		if err != nil {
			return nil, err
		}
		return db.Close, nil
	}); err != nil {
		return r, err
	}
	if db, err = badger.Open(opts); err != nil {
		return r, err
	}
	for i := range storeReads {
		p := peers[i%len(peers)]
		start := time.Now()
		if err := latestRaw(db, p, min(50, n/storePeers)); err != nil {
			db.Close()
			return r, err
		}
		r.reads = append(r.reads, time.Since(start))
	}
	if err := db.Close(); err != nil {
		return r, err
	}
	r.disk, err = dirSize(dir)
	return r, err
}

// latestRaw reads the newest 50 records of p's conversation from raw Badger.
func latestRaw(db *badger.DB, p peer.ID, want int) error {
	prefix := append([]byte("m/"), p...)
	return db.View(func(tx *badger.Txn) error {
		it := tx.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
		defer it.Close()
		got := 0
		for it.Seek(append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 25)...)); it.Valid() && got < 50; it.Next() {
			if _, err := it.Item().ValueCopy(nil); err != nil {
				return err
			}
			got++
		}
		if got != want {
			return fmt.Errorf("latest 50: got %d, want %d", got, want)
		}
		return nil
	})
}
