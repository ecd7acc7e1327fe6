package storekey

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// cheap keeps the tests fast; the cost is recorded in Params, so a store
// made with it opens with it.
var cheap = Cost{Time: 1, MemoryKiB: 64, Threads: 1}

// TestDerive: the same passphrase and parameters give the same 32-byte key;
// another passphrase or salt another key; an empty passphrase is refused.
func TestDerive(t *testing.T) {
	p := NewPassphraseParams(cheap)
	key, err := p.Derive([]byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeySize {
		t.Fatalf("key of %d bytes, want %d", len(key), KeySize)
	}
	for _, tc := range []struct {
		name  string
		p     Params
		pass  string
		same  bool
		error error
	}{
		{"same", p, "correct horse", true, nil},
		{"other passphrase", p, "correct horsf", false, nil},
		{"other salt", NewPassphraseParams(cheap), "correct horse", false, nil},
		{"other cost", Params{KDF: KDFArgon2id, Salt: p.Salt, Cost: Cost{Time: 2, MemoryKiB: 64, Threads: 1}}, "correct horse", false, nil},
		{"empty passphrase", p, "", false, ErrEmptyPassphrase},
		{"key file params", Params{KDF: KDFKeyFile, KeyFile: "/k"}, "correct horse", false, ErrBadParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.Derive([]byte(tc.pass))
			if !errors.Is(err, tc.error) {
				t.Fatalf("err = %v, want %v", err, tc.error)
			}
			if err == nil && bytes.Equal(got, key) != tc.same {
				t.Errorf("same key: %v, want %v", bytes.Equal(got, key), tc.same)
			}
		})
	}
}

// TestParamsFile: parameters survive Save and Load in a 0600 file; no file
// means not encrypted; a broken or hostile file is ErrBadParams.
func TestParamsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "storekey.json")
	if _, ok, err := Load(path); ok || err != nil {
		t.Fatalf("no file: ok %v, err %v", ok, err)
	}
	p := NewPassphraseParams(DefaultCost)
	if err := Save(path, p); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Load(path)
	if err != nil || !ok {
		t.Fatalf("load: ok %v, err %v", ok, err)
	}
	if got.KDF != p.KDF || !bytes.Equal(got.Salt, p.Salt) || got.Cost != p.Cost {
		t.Errorf("loaded %+v, saved %+v", got, p)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	for _, tc := range []struct{ name, body string }{
		{"not JSON", "{"},
		{"unknown KDF", `{"kdf":"rot13"}`},
		{"short salt", `{"kdf":"argon2id","salt":"AAAA","time":3,"memory_kib":65536,"threads":4}`},
		{"no passes", `{"kdf":"argon2id","salt":"AAAAAAAAAAAAAAAAAAAAAA==","time":0,"memory_kib":65536,"threads":4}`},
		{"a terabyte", `{"kdf":"argon2id","salt":"AAAAAAAAAAAAAAAAAAAAAA==","time":3,"memory_kib":1073741824,"threads":4}`},
		{"relative key file", `{"kdf":"keyfile","key_file":"key"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Load(path); !errors.Is(err, ErrBadParams) {
				t.Errorf("err = %v, want ErrBadParams", err)
			}
		})
	}
}

// TestKeyFile: a new key file is 32 random bytes, 0600, never overwritten;
// a key file of another size or readable by others is refused.
func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := NewKeyFile(path); err != nil {
		t.Fatal(err)
	}
	key, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeySize || bytes.Equal(key, make([]byte, KeySize)) {
		t.Errorf("key %x", key)
	}
	if err := NewKeyFile(path); !errors.Is(err, os.ErrExist) {
		t.Errorf("NewKeyFile over a key: err = %v, want ErrExist", err)
	}
	if again, _ := ReadKeyFile(path); !bytes.Equal(again, key) {
		t.Errorf("the key changed")
	}
	for _, tc := range []struct {
		name string
		body []byte
		mode os.FileMode
	}{
		{"short", make([]byte, KeySize-1), 0o600},
		{"long", make([]byte, KeySize+1), 0o600},
		{"hex", bytes.Repeat([]byte("ab"), KeySize), 0o600},
		{"readable by others", make([]byte, KeySize), 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, tc.body, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadKeyFile(p); !errors.Is(err, ErrBadKeyFile) {
				t.Errorf("err = %v, want ErrBadKeyFile", err)
			}
		})
	}
}
