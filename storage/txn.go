package storage

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"
)

// Txn is a transaction, valid only inside the function passed to
// [Store.View] or [Store.Update]. In a View, writing methods fail.
type Txn struct {
	txn *badger.Txn
}

// get returns a copy of the value under k, or ErrNotFound.
func (t *Txn) get(k []byte) ([]byte, error) {
	item, err := t.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// has reports whether k exists, without reading its value.
func (t *Txn) has(k []byte) (bool, error) {
	_, err := t.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (t *Txn) set(k, v []byte) error { return t.txn.Set(k, v) }

func (t *Txn) delete(k []byte) error { return t.txn.Delete(k) }

// getProto decodes the record under k into m.
func (t *Txn) getProto(k []byte, m proto.Message) error {
	b, err := t.get(k)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

// setProto encodes m under k.
func (t *Txn) setProto(k []byte, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		// Only strings that are not UTF-8 make Marshal fail.
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return t.set(k, b)
}

// keys returns the keys starting with prefix, in order, without values.
func (t *Txn) keys(prefix []byte) ([][]byte, error) {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var ks [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		ks = append(ks, it.Item().KeyCopy(nil))
	}
	return ks, nil
}

// deletePrefix deletes every key starting with prefix.
func (t *Txn) deletePrefix(prefix []byte) error {
	ks, err := t.keys(prefix)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if err := t.delete(k); err != nil {
			return err
		}
	}
	return nil
}

// each calls fn with every key starting with prefix and its value (valid only
// during the call), in key order.
func (t *Txn) each(prefix []byte, fn func(k, v []byte) error) error {
	return t.eachFrom(prefix, prefix, fn)
}

// eachFrom is each, starting at the first key at or after start.
func (t *Txn) eachFrom(prefix, start []byte, fn func(k, v []byte) error) error {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(start); it.Valid(); it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
	}
	return nil
}
