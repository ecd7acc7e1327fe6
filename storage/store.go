package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Config says where and how to open a Store.
type Config struct {
	// Dir is the database folder, created if missing. Required unless InMemory.
	Dir string
	// InMemory keeps everything in memory and nothing on disk (tests).
	InMemory bool
	// NoSync skips fsync on commit. For benchmarks only: it gives up the
	// guarantee that a committed transaction survives kill -9 or power loss.
	NoSync bool
	// EncryptionKey, when not empty, encrypts the store at rest (Badger's
	// encryption, AES-256): it must be 32 bytes. A store is created
	// encrypted or not and must be opened the same way; a different key, or
	// none for an encrypted store, or one for a plain store, gives
	// ErrWrongKey and changes nothing on disk.
	EncryptionKey []byte
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// EncryptionKeySize is the length of Config.EncryptionKey: AES-256.
const EncryptionKeySize = 32

// dataKeyRotation is how often Badger makes a new data key under the
// encryption key (see "Encryption at rest" in the package doc).
const dataKeyRotation = 10 * 24 * time.Hour

// Store is a node's local database. It is safe for concurrent use.
type Store struct {
	db     *badger.DB
	logger *slog.Logger
	dir    string // "" in memory

	mu     sync.RWMutex // held for reading by transactions, for writing by Close
	closed bool

	cancel context.CancelFunc
	wg     sync.WaitGroup // the value-log GC goroutine
}

// Open opens (or creates) the store described by cfg with a small-footprint
// Badger profile, checks the schema version and runs any migrations.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" && !cfg.InMemory {
		return nil, fmt.Errorf("storage: open: %w: Dir is required unless InMemory", ErrInvalid)
	}
	if n := len(cfg.EncryptionKey); n != 0 && n != EncryptionKeySize {
		return nil, fmt.Errorf("storage: open: %w: EncryptionKey is %d bytes, want %d", ErrInvalid, n, EncryptionKeySize)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := checkKey(cfg); err != nil {
		return nil, err
	}
	db, err := badger.Open(badgerOptions(cfg, logger))
	if err != nil {
		if isKeyMismatch(err) {
			return nil, fmt.Errorf("storage: open %q: %w (%w)", cfg.Dir, ErrWrongKey, err)
		}
		if !cfg.InMemory && InUse(cfg.Dir) { // Badger's lock error, in our words
			return nil, fmt.Errorf("storage: open %q: %w (%w)", cfg.Dir, ErrLocked, err)
		}
		return nil, fmt.Errorf("storage: open %q: %w", cfg.Dir, err)
	}
	s := &Store{db: db, logger: logger}
	if !cfg.InMemory {
		s.dir = cfg.Dir
		s.restrictModes()
	}
	if err := s.migrate(); err != nil {
		_ = db.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if !cfg.InMemory {
		s.wg.Add(1)
		go s.runValueLogGC(ctx, gcInterval)
	}
	return s, nil
}

// badgerOptions is the small-footprint profile: a node's data is small and it
// shares the machine with a desktop, so caches and tables stay small. The
// block and index caches also serve encryption: Badger needs a block cache
// when it decrypts (it panics without one) and keeps decrypted table indexes
// in the index cache rather than decrypting them on every read.
func badgerOptions(cfg Config, logger *slog.Logger) badger.Options {
	dir := cfg.Dir
	if cfg.InMemory {
		dir = ""
	}
	return badger.DefaultOptions(dir).
		WithInMemory(cfg.InMemory).
		WithSyncWrites(!cfg.NoSync).
		WithDetectConflicts(true).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithNumVersionsToKeep(1).
		WithMetricsEnabled(false).
		WithEncryptionKey(cfg.EncryptionKey).
		WithEncryptionKeyRotationDuration(dataKeyRotation).
		WithLogger(badgerLogger{logger})
}

// BadgerOptions are the options Open gives Badger for cfg, without a
// logger: for benchmarks whose floor is a raw Badger write on the store's
// own profile.
func BadgerOptions(cfg Config) badger.Options {
	return badgerOptions(cfg, slog.New(slog.DiscardHandler)).WithLogger(nil)
}

// Close closes the store, waiting for running transactions and the GC
// goroutine. Closing twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel()
	s.wg.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	if s.dir != "" {
		s.restrictModes() // the tables Badger wrote while open
	}
	return nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(func(bt *badger.Txn) error { return fn(&Txn{txn: bt}) })
}

// maxUpdateAttempts bounds how often Update runs fn when commits conflict.
const maxUpdateAttempts = 5

// Update runs fn in a read-write transaction and commits it if fn returns
// nil; if fn returns an error nothing is written. On a conflict with a
// concurrent transaction fn runs again, up to a few times, so it must have no
// effects outside the transaction. Once Update returns nil the writes are on
// disk (unless Config.NoSync).
func (s *Store) Update(fn func(*Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	var err error
	for range maxUpdateAttempts {
		err = s.db.Update(func(bt *badger.Txn) error { return fn(&Txn{txn: bt}) })
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("storage: update: %d attempts: %w", maxUpdateAttempts, err)
}

// Size returns the sizes in bytes of the LSM tree and of the value log, as
// last computed by Badger (it refreshes them every minute).
func (s *Store) Size() (lsm, vlog int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, 0
	}
	return s.db.Size()
}

// gcInterval is how often the value log is garbage-collected; a variable
// so that tests can shorten it.
var gcInterval = 10 * time.Minute

// runValueLogGC reclaims value-log space until ctx is cancelled.
func (s *Store) runValueLogGC(ctx context.Context, every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Each successful run rewrites one file; repeat while there is work,
		// but stop promptly on Close.
		for ctx.Err() == nil {
			err := s.db.RunValueLogGC(0.5)
			if err != nil {
				if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
					s.logger.Warn("storage: value log GC", "err", err)
				}
				break
			}
		}
	}
}
