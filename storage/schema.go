package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// SchemaVersion is the version of the key layout and records this package
// writes. It is stored under the key meta/schema.
const SchemaVersion = 2

// migrations[v] upgrades a store from version v to v+1. Version 0 is an empty
// (new) store, which goes straight to SchemaVersion. Each migration runs in
// its own transaction, together with writing the new version, after
// Badger has dropped the key prefixes in migrationDrops[v] (a drop is not
// bound by a transaction's size, and doing it again is harmless).
var migrations = map[uint32]func(*Txn) error{
	// 1 to 2: outbox entries lost their index by ID (x/<peer><id>), which
	// cost every message two more writes; what looks an entry up by ID
	// reads the peer's outbox keys.
	1: func(*Txn) error { return nil },
}

var migrationDrops = map[uint32][]string{
	1: {prefixOutboxIndex},
}

// migrate brings the store to SchemaVersion, refusing a newer one.
func (s *Store) migrate() error {
	for {
		var v uint32
		err := s.db.View(func(bt *badger.Txn) error {
			var err error
			v, err = (&Txn{txn: bt}).schemaVersion()
			return err
		})
		if err != nil {
			return err
		}
		switch {
		case v == SchemaVersion:
			return nil
		case v > SchemaVersion:
			return fmt.Errorf("storage: open: store has schema %d, this build knows up to %d: %w", v, SchemaVersion, ErrSchemaTooNew)
		}
		m, ok := migrations[v]
		to := v + 1
		if v == 0 { // a new store: nothing to convert
			m, ok, to = func(*Txn) error { return nil }, true, SchemaVersion
		}
		if !ok {
			return fmt.Errorf("storage: open: no migration from schema %d", v)
		}
		if drops := migrationDrops[v]; v != 0 && len(drops) > 0 {
			ps := make([][]byte, len(drops))
			for i, d := range drops {
				ps[i] = []byte(d)
			}
			if err := s.db.DropPrefix(ps...); err != nil {
				return fmt.Errorf("storage: open: migrate schema %d to %d: %w", v, to, err)
			}
		}
		err = s.db.Update(func(bt *badger.Txn) error {
			t := &Txn{txn: bt}
			if err := m(t); err != nil {
				return err
			}
			return t.setSchemaVersion(to)
		})
		if err != nil {
			return fmt.Errorf("storage: open: migrate schema %d to %d: %w", v, to, err)
		}
	}
}

var keySchema = []byte("meta/schema")

// schemaVersion reads the stored schema version, 0 if there is none.
func (t *Txn) schemaVersion() (uint32, error) {
	b, err := t.get(keySchema)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: schema version: %w", err)
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("storage: schema version: %w: %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}

func (t *Txn) setSchemaVersion(v uint32) error {
	return t.set(keySchema, binary.BigEndian.AppendUint32(nil, v))
}
