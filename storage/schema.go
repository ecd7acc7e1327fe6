package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// SchemaVersion is the version of the key layout and records this package
// writes. It is stored under the key meta/schema.
const SchemaVersion = 1

// migrations[v] upgrades a store from version v to v+1. Version 0 is an empty
// (new) store. Each migration runs in its own transaction, together with
// writing the new version.
var migrations = map[uint32]func(*Txn) error{
	0: func(*Txn) error { return nil }, // new store: nothing to convert
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
		if !ok {
			return fmt.Errorf("storage: open: no migration from schema %d", v)
		}
		err = s.db.Update(func(bt *badger.Txn) error {
			t := &Txn{txn: bt}
			if err := m(t); err != nil {
				return err
			}
			return t.setSchemaVersion(v + 1)
		})
		if err != nil {
			return fmt.Errorf("storage: open: migrate schema %d to %d: %w", v, v+1, err)
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
