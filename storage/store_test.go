package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.uber.org/goleak"
)

// openMem opens an in-memory store closed at the end of the test.
func openMem(t testing.TB) *Store {
	t.Helper()
	s, err := Open(Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openDir opens an on-disk store in dir; the caller closes it.
func openDir(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newPeer returns a fresh Ed25519 peer ID.
func newPeer(t testing.TB) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// update runs fn in an Update and fails the test on error.
func update(t testing.TB, s *Store, fn func(*Txn) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t testing.TB, s *Store, fn func(*Txn) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatal(err)
	}
}

// allKeys lists every key in the store except the schema version.
func allKeys(t testing.TB, s *Store) []string {
	t.Helper()
	var ks []string
	err := s.db.View(func(bt *badger.Txn) error {
		it := bt.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := string(it.Item().Key()); k != string(keySchema) {
				ks = append(ks, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestOpenRequiresDir(t *testing.T) {
	if _, err := Open(Config{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Open without Dir: %v, want ErrInvalid", err)
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	s := openDir(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.View(func(*Txn) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close: %v, want ErrClosed", err)
	}
	if err := s.Update(func(*Txn) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	update(t, s, func(tx *Txn) error { return tx.setSchemaVersion(SchemaVersion + 1) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(Config{Dir: dir}); !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	// The refused open released the directory: writing the current version
	// back makes it usable again.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatalf("directory still locked after refused Open: %v", err)
	}
	err = db.Update(func(bt *badger.Txn) error { return (&Txn{txn: bt}).setSchemaVersion(SchemaVersion) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	openDir(t, dir).Close()
}

// TestMigrateDropsOutboxIndex: a schema 1 store, whose outbox entries each
// had an index key by ID, opens at schema 2 with the index gone and the
// entries as they were, still found by ID.
func TestMigrateDropsOutboxIndex(t *testing.T) {
	dir := t.TempDir()
	p := newPeer(t)
	s := openDir(t, dir)
	update(t, s, func(tx *Txn) error {
		for i := range 3 {
			e := OutboxEntry{ID: msgID(i + 1), Peer: p, Frame: []byte("frame"), Created: at(i + 1)}
			if err := tx.AddOutbox(e); err != nil {
				return err
			}
			// What schema 1 wrote beside each entry.
			ik, err := peerKey(prefixOutboxIndex, p, len(e.ID))
			if err != nil {
				return err
			}
			if err := tx.set(append(ik, e.ID[:]...), binary.BigEndian.AppendUint64(nil, uint64(e.Created.UnixNano()))); err != nil {
				return err
			}
		}
		return tx.setSchemaVersion(1)
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir)
	defer s.Close()
	for _, k := range allKeys(t, s) {
		if strings.HasPrefix(k, prefixOutboxIndex) {
			t.Errorf("index key %q left after the migration", k)
		}
	}
	view(t, s, func(tx *Txn) error {
		if v, err := tx.schemaVersion(); err != nil || v != SchemaVersion {
			t.Errorf("schema %d, %v; want %d", v, err, SchemaVersion)
		}
		es, err := tx.Outbox(p)
		if err != nil || len(es) != 3 {
			t.Errorf("outbox %+v, %v; want the 3 entries", es, err)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteOutbox(p, msgID(2)) })
	view(t, s, func(tx *Txn) error {
		es, err := tx.Outbox(p)
		if err != nil || len(es) != 2 || es[0].ID != msgID(1) || es[1].ID != msgID(3) {
			t.Errorf("outbox after deleting entry 2 by ID: %+v, %v", es, err)
		}
		return nil
	})
}

func TestNewStoreHasCurrentSchema(t *testing.T) {
	s := openMem(t)
	view(t, s, func(tx *Txn) error {
		v, err := tx.schemaVersion()
		if err != nil {
			return err
		}
		if v != SchemaVersion {
			t.Errorf("schema %d, want %d", v, SchemaVersion)
		}
		return nil
	})
}

func TestFailedTransactionChangesNothing(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	boom := errors.New("boom")
	before := allKeys(t, s)
	err := s.Update(func(tx *Txn) error {
		if err := tx.PutIdentity([]byte("id")); err != nil {
			return err
		}
		if err := tx.PutContact(Contact{Peer: p, Name: "alice"}); err != nil {
			return err
		}
		if err := tx.PutMessage(testMessage(p, 1, Inbound)); err != nil {
			return err
		}
		if err := tx.PutOutbox(OutboxEntry{ID: msgID(1), Peer: p, Created: at(1)}); err != nil {
			return err
		}
		if err := tx.PutSession(p, "current", []byte("s")); err != nil {
			return err
		}
		if _, err := tx.NextSequence("prekeys"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: %v, want the function's error", err)
	}
	if after := allKeys(t, s); !slices.Equal(before, after) {
		t.Fatalf("keys after a failed transaction: %q, want %q", after, before)
	}
}

func TestUpdateRetriesOnConflict(t *testing.T) {
	s := openMem(t)
	var attempts atomic.Int32
	err := s.Update(func(tx *Txn) error {
		n := attempts.Add(1)
		if _, err := tx.GetSetting("x"); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if n == 1 {
			// A concurrent commit of the key this transaction read.
			if err := s.Update(func(tx *Txn) error { return tx.PutSetting("x", []byte("other")) }); err != nil {
				return err
			}
		}
		return tx.PutSetting("y", []byte("mine"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := attempts.Load(); got != 2 {
		t.Fatalf("fn ran %d times, want 2 (one conflict, one retry)", got)
	}
	view(t, s, func(tx *Txn) error {
		v, err := tx.GetSetting("y")
		if string(v) != "mine" {
			t.Errorf("y = %q, %v", v, err)
		}
		return nil
	})
}

func TestSize(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s := openDir(t, dir)
	lsm, vlog := s.Size()
	if lsm < 0 || vlog < 0 {
		t.Errorf("Size = %d, %d", lsm, vlog)
	}
	s.Close()
	if lsm, vlog := s.Size(); lsm != 0 || vlog != 0 {
		t.Errorf("Size after Close = %d, %d, want 0, 0", lsm, vlog)
	}
}

func TestBadgerLoggerPassesWarningsOnly(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Debugf("debug %d", 1)
	l.Infof("info %d", 2)
	l.Warningf("warn %d\n", 3)
	l.Errorf("error %d", 4)
	out := buf.String()
	for _, want := range []string{"level=WARN msg=\"badger: warn 3\"", "level=ERROR msg=\"badger: error 4\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "debug") || strings.Contains(out, "info") {
		t.Errorf("log %q has info or debug lines", out)
	}
}

func TestValueLogGCRunsAndStopsOnClose(t *testing.T) {
	saved := gcInterval
	gcInterval = time.Millisecond
	defer func() { gcInterval = saved }()
	var logs bytes.Buffer
	s, err := Open(Config{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t)
	for n := range 100 {
		putMessages(t, s, p, Inbound, n)
	}
	time.Sleep(20 * time.Millisecond) // let a few GC rounds run
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the GC goroutine and Badger's own.
	goleak.VerifyNone(t)
	if strings.Contains(logs.String(), "value log GC") {
		t.Errorf("GC reported errors: %s", logs.String())
	}
}
