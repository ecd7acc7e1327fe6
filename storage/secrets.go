package storage

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Identity returns the node's identity record (opaque bytes from the crypto
// packages), or ErrNotFound before the first PutIdentity.
func (t *Txn) Identity() ([]byte, error) {
	b, err := t.get([]byte(prefixIdentity))
	if err != nil {
		return nil, fmt.Errorf("storage: identity: %w", err)
	}
	return b, nil
}

// PutIdentity stores the node's identity record.
func (t *Txn) PutIdentity(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("storage: put identity: %w: empty", ErrInvalid)
	}
	return wrap("put identity", t.set([]byte(prefixIdentity), b))
}

// SignedPreKey returns the signed prekey record with the given ID.
func (t *Txn) SignedPreKey(id uint32) ([]byte, error) {
	b, err := t.get(uint32Key(prefixSignedPreKey, id))
	if err != nil {
		return nil, fmt.Errorf("storage: signed prekey %d: %w", id, err)
	}
	return b, nil
}

// PutSignedPreKey stores a signed prekey record under its ID.
func (t *Txn) PutSignedPreKey(id uint32, b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("storage: put signed prekey %d: %w: empty", id, ErrInvalid)
	}
	return wrap("put signed prekey", t.set(uint32Key(prefixSignedPreKey, id), b))
}

// DeleteSignedPreKey deletes a signed prekey; deleting a missing one is not
// an error.
func (t *Txn) DeleteSignedPreKey(id uint32) error {
	return wrap("delete signed prekey", t.delete(uint32Key(prefixSignedPreKey, id)))
}

// CurrentSignedPreKeyID returns the ID of the signed prekey the node
// publishes, or ErrNotFound if none was set.
func (t *Txn) CurrentSignedPreKeyID() (uint32, error) {
	b, err := t.get([]byte(prefixCurrentSPK))
	if err != nil {
		return 0, fmt.Errorf("storage: current signed prekey: %w", err)
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("storage: current signed prekey: %w", ErrCorrupt)
	}
	return binary.BigEndian.Uint32(b), nil
}

// SetCurrentSignedPreKeyID records which signed prekey the node publishes.
func (t *Txn) SetCurrentSignedPreKeyID(id uint32) error {
	return wrap("set current signed prekey", t.set([]byte(prefixCurrentSPK), binary.BigEndian.AppendUint32(nil, id)))
}

// SignedPreKeyIDs lists the IDs of the signed prekeys held, in order.
func (t *Txn) SignedPreKeyIDs() ([]uint32, error) {
	return t.uint32IDs(prefixSignedPreKey, "signed prekeys")
}

// PutOneTimePreKey stores a one-time prekey record under its ID, with the
// time it was made (the zero time: unknown).
func (t *Txn) PutOneTimePreKey(id uint32, created time.Time, b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("storage: put one-time prekey %d: %w: empty", id, ErrInvalid)
	}
	if err := t.set(uint32Key(prefixOneTimeKey, id), b); err != nil {
		return wrap("put one-time prekey", err)
	}
	return t.setOneTimePreKeyTime(id, created)
}

func (t *Txn) setOneTimePreKeyTime(id uint32, created time.Time) error {
	k := uint32Key(prefixOneTimeTime, id)
	if created.IsZero() {
		return wrap("put one-time prekey time", t.delete(k))
	}
	return wrap("put one-time prekey time", t.set(k, binary.BigEndian.AppendUint64(nil, uint64(toUnixNano(created)))))
}

// SetOneTimePreKeyTime records when an existing one-time prekey was made:
// for keys stored before their times were (schema 1 stores without them).
func (t *Txn) SetOneTimePreKeyTime(id uint32, created time.Time) error {
	if ok, err := t.has(uint32Key(prefixOneTimeKey, id)); err != nil || !ok {
		return fmt.Errorf("storage: one-time prekey %d: %w", id, cmp.Or(err, ErrNotFound))
	}
	return t.setOneTimePreKeyTime(id, created)
}

// oneTimePreKeyTime returns when a one-time prekey was made, the zero time
// if that is not recorded.
func (t *Txn) oneTimePreKeyTime(id uint32) (time.Time, error) {
	b, err := t.get(uint32Key(prefixOneTimeTime, id))
	switch {
	case errors.Is(err, ErrNotFound):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("storage: one-time prekey %d time: %w", id, err)
	case len(b) != 8:
		return time.Time{}, fmt.Errorf("storage: one-time prekey %d time: %w", id, ErrCorrupt)
	}
	return unixNano(int64(binary.BigEndian.Uint64(b))), nil
}

// OneTimePreKeyTimes returns, for every one-time prekey held, when it was
// made (the zero time: not recorded).
func (t *Txn) OneTimePreKeyTimes() (map[uint32]time.Time, error) {
	ids, err := t.uint32IDs(prefixOneTimeKey, "one-time prekeys")
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]time.Time, len(ids))
	for _, id := range ids {
		if out[id], err = t.oneTimePreKeyTime(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TakeOneTimePreKey returns the one-time prekey with the given ID and when
// it was made (the zero time: not recorded), and deletes it in the same
// transaction, so it is used at most once; ErrNotFound if it does not exist
// or was already taken.
func (t *Txn) TakeOneTimePreKey(id uint32) ([]byte, time.Time, error) {
	k := uint32Key(prefixOneTimeKey, id)
	b, err := t.get(k)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("storage: take one-time prekey %d: %w", id, err)
	}
	created, err := t.oneTimePreKeyTime(id)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := t.DeleteOneTimePreKey(id); err != nil {
		return nil, time.Time{}, err
	}
	return b, created, nil
}

// DeleteOneTimePreKey deletes a one-time prekey and its time; deleting a
// missing one is not an error.
func (t *Txn) DeleteOneTimePreKey(id uint32) error {
	if err := t.delete(uint32Key(prefixOneTimeKey, id)); err != nil {
		return fmt.Errorf("storage: delete one-time prekey %d: %w", id, err)
	}
	return wrap("delete one-time prekey time", t.delete(uint32Key(prefixOneTimeTime, id)))
}

// uint32IDs lists the IDs of the keys prefix followed by a uint32.
func (t *Txn) uint32IDs(prefix, what string) ([]uint32, error) {
	ks, err := t.keys([]byte(prefix))
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	ids := make([]uint32, 0, len(ks))
	for _, k := range ks {
		if len(k) != len(prefix)+4 {
			return nil, fmt.Errorf("storage: %s: %w: key %q", what, ErrCorrupt, k)
		}
		ids = append(ids, binary.BigEndian.Uint32(k[len(prefix):]))
	}
	return ids, nil
}

// CountOneTimePreKeys returns how many one-time prekeys are left.
func (t *Txn) CountOneTimePreKeys() (int, error) {
	ks, err := t.keys([]byte(prefixOneTimeKey))
	if err != nil {
		return 0, fmt.Errorf("storage: count one-time prekeys: %w", err)
	}
	return len(ks), nil
}

// NextSequence increments the persistent counter name and returns its new
// value: 1 the first time, then 2, 3, ... It is never reused, even across
// restarts, as long as the transaction commits.
func (t *Txn) NextSequence(name string) (uint64, error) {
	k, err := stringKey(prefixSequence, name)
	if err != nil {
		return 0, fmt.Errorf("storage: sequence: %w", err)
	}
	var n uint64
	b, err := t.get(k)
	switch {
	case err == nil && len(b) == 8:
		n = binary.BigEndian.Uint64(b)
	case err == nil:
		return 0, fmt.Errorf("storage: sequence %q: %w", name, ErrCorrupt)
	case !errors.Is(err, ErrNotFound):
		return 0, fmt.Errorf("storage: sequence %q: %w", name, err)
	}
	n++
	if err := t.set(k, binary.BigEndian.AppendUint64(nil, n)); err != nil {
		return 0, fmt.Errorf("storage: sequence %q: %w", name, err)
	}
	return n, nil
}

// GetSetting returns a small configuration value, or ErrNotFound.
func (t *Txn) GetSetting(key string) ([]byte, error) {
	k, err := stringKey(prefixSetting, key)
	if err != nil {
		return nil, fmt.Errorf("storage: setting: %w", err)
	}
	b, err := t.get(k)
	if err != nil {
		return nil, fmt.Errorf("storage: setting %q: %w", key, err)
	}
	return b, nil
}

// PutSetting stores a small configuration value; a nil or empty v stores an
// empty value (use it to mean "set but empty").
func (t *Txn) PutSetting(key string, v []byte) error {
	k, err := stringKey(prefixSetting, key)
	if err != nil {
		return fmt.Errorf("storage: put setting: %w", err)
	}
	return wrap("put setting", t.set(k, v))
}

// DeleteSetting removes a setting; removing a missing one is not an error.
func (t *Txn) DeleteSetting(key string) error {
	k, err := stringKey(prefixSetting, key)
	if err != nil {
		return fmt.Errorf("storage: delete setting: %w", err)
	}
	return wrap("delete setting", t.delete(k))
}

// wrap adds context to a non-nil error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage: %s: %w", what, err)
}
