package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// secretRecords writes records that must not be readable in the store's
// files when it is encrypted, and returns what to look for: the message
// text, the identity record and the peer ID, raw and printed.
func secretRecords(t *testing.T, s *Store) map[string][]byte {
	t.Helper()
	p := newPeer(t)
	identity := make([]byte, 64)
	rand.Read(identity)
	// Random, so that no compressor shortens it (a repeated word would
	// become a back-reference in the tables Badger compresses).
	text := "meet me at " + rand.Text()
	now := time.Now()
	update(t, s, func(tx *Txn) error {
		if err := tx.PutIdentity(identity); err != nil {
			return err
		}
		if err := tx.PutContact(Contact{Peer: p, State: ContactAccepted, Name: "mill keeper", Created: now, Updated: now}); err != nil {
			return err
		}
		return tx.PutMessage(Message{ID: MessageID{1}, Peer: p, Direction: Inbound, Kind: "text", Body: text, Sent: now, Received: now, State: StateReceived})
	})
	return map[string][]byte{
		"message text":   []byte(text),
		"identity":       identity,
		"peer ID (raw)":  []byte(p),
		"peer ID (text)": []byte(p.String()),
	}
}

// findInFiles returns the names of needles found in any file under dir.
func findInFiles(t *testing.T, dir string, needles map[string][]byte) map[string]string {
	t.Helper()
	found := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, n := range needles {
			if bytes.Contains(b, n) {
				found[name] = filepath.Base(path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestEncryptionAtRest: without a key the store's files hold the message
// text, the identity and the peer ID in clear (so that the search can find
// them); with one they hold none of them, while the store is open and after
// it is closed, and the records read back after a reopen with the key.
func TestEncryptionAtRest(t *testing.T) {
	key := make([]byte, EncryptionKeySize)
	rand.Read(key)
	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"plain", nil},
		{"encrypted", key},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir, EncryptionKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			needles := secretRecords(t, s)
			open := findInFiles(t, dir, needles)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			closed := findInFiles(t, dir, needles)
			if tc.key == nil {
				// The memtable's log holds the records while open; the
				// table Close writes holds them after.
				for _, f := range []map[string]string{open, closed} {
					for _, name := range []string{"message text", "identity", "peer ID (raw)"} {
						if f[name] == "" {
							t.Errorf("plain store: %s not found in its files: the search cannot fail", name)
						}
					}
				}
				return
			}
			for name, file := range open {
				t.Errorf("encrypted store, open: %s in clear in %s", name, file)
			}
			for name, file := range closed {
				t.Errorf("encrypted store, closed: %s in clear in %s", name, file)
			}
			s, err = Open(Config{Dir: dir, EncryptionKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			view(t, s, func(tx *Txn) error {
				id, err := tx.Identity()
				if err == nil && !bytes.Equal(id, needles["identity"]) {
					t.Errorf("identity after reopen differs")
				}
				return err
			})
		})
	}
}

// TestWrongKeyIsRefused: a store opens only the way it was created; a wrong
// key, no key for an encrypted store or a key for a plain one gives
// ErrWrongKey, loses nothing and leaves no goroutine behind (Badger's Open
// would); a key of the wrong size is ErrInvalid.
func TestWrongKeyIsRefused(t *testing.T) {
	key, other := make([]byte, EncryptionKeySize), make([]byte, EncryptionKeySize)
	rand.Read(key)
	rand.Read(other)
	for _, tc := range []struct {
		name          string
		created, open []byte
		want          error
	}{
		{"other key", key, other, ErrWrongKey},
		{"no key for an encrypted store", key, nil, ErrWrongKey},
		{"key for a plain store", nil, key, ErrWrongKey},
		{"short key", key, key[:16], ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir, EncryptionKey: tc.created})
			if err != nil {
				t.Fatal(err)
			}
			needles := secretRecords(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err := Open(Config{Dir: dir, EncryptionKey: tc.open}); !errors.Is(err, tc.want) {
				if err == nil {
					s.Close()
				}
				t.Fatalf("open: err = %v, want %v", err, tc.want)
			}
			goleak.VerifyNone(t)
			s, err = Open(Config{Dir: dir, EncryptionKey: tc.created})
			if err != nil {
				t.Fatalf("reopen with the right key: %v", err)
			}
			defer s.Close()
			view(t, s, func(tx *Txn) error {
				id, err := tx.Identity()
				if err == nil && !bytes.Equal(id, needles["identity"]) {
					t.Errorf("identity after the refused open differs")
				}
				return err
			})
		})
	}
}

// TestStoreFilesArePrivate: whatever the umask, after Open and after Close
// the store's folder is 0700 and its files 0600 (Badger makes some 0644).
func TestStoreFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: %s has mode %v, want %v", when, filepath.Base(path), fi.Mode().Perm(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openDir(t, dir)
	check("after Open")
	secretRecords(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after Close")
}

// TestChangeKey: after ChangeKey the store opens with the new key only and
// holds what it held; a wrong old key, an open store, a store in clear or
// no store are refused and change nothing.
func TestChangeKey(t *testing.T) {
	keys := make([][]byte, 3)
	for i := range keys {
		keys[i] = make([]byte, EncryptionKeySize)
		rand.Read(keys[i])
	}
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, EncryptionKey: keys[0]})
	if err != nil {
		t.Fatal(err)
	}
	needles := secretRecords(t, s)
	if err := ChangeKey(dir, keys[0], keys[1]); !errors.Is(err, ErrLocked) {
		t.Errorf("change key of an open store: err = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dir      string
		old, new []byte
		want     error
	}{
		{"wrong old key", dir, keys[2], keys[1], ErrWrongKey},
		{"to clear", dir, keys[0], nil, ErrInvalid},
		{"no store", t.TempDir(), keys[0], keys[1], ErrNotFound},
	} {
		if err := ChangeKey(tc.dir, tc.old, tc.new); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := ChangeKey(dir, keys[0], keys[1]); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(Config{Dir: dir, EncryptionKey: keys[0]}); !errors.Is(err, ErrWrongKey) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("open with the old key: err = %v, want ErrWrongKey", err)
	}
	s, err = Open(Config{Dir: dir, EncryptionKey: keys[1]})
	if err != nil {
		t.Fatalf("open with the new key: %v", err)
	}
	defer s.Close()
	view(t, s, func(tx *Txn) error {
		id, err := tx.Identity()
		if err == nil && !bytes.Equal(id, needles["identity"]) {
			t.Errorf("identity after the key change differs")
		}
		return err
	})
}
