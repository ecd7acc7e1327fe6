package storekey

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

// KeySize is the length of a store key (storage.EncryptionKeySize): AES-256.
const KeySize = 32

// SaltSize is the length of an Argon2id salt.
const SaltSize = 16

// The KDFs a Params names.
const (
	KDFArgon2id = "argon2id" // a passphrase through Argon2id
	KDFKeyFile  = "keyfile"  // 32 bytes read from a file
)

// Cost is Argon2id's cost: passes over the memory, memory in KiB, lanes.
type Cost struct {
	Time      uint32 `json:"time,omitempty"`
	MemoryKiB uint32 `json:"memory_kib,omitempty"`
	Threads   uint8  `json:"threads,omitempty"`
}

// DefaultCost is RFC 9106's second recommended option: 3 passes, 64 MiB,
// 4 lanes (a fraction of a second on a desktop).
var DefaultCost = Cost{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// maxCost bounds what a parameters file may ask, so that a tampered file
// cannot make a start take hours or all the memory: 64 passes over 4 GiB.
var maxCost = Cost{Time: 64, MemoryKiB: 4 << 20, Threads: 64}

// Params say how to get a store's key again. They are not secret.
type Params struct {
	KDF string `json:"kdf"`
	// Salt and Cost: KDFArgon2id only.
	Salt []byte `json:"salt,omitempty"`
	Cost
	// KeyFile: KDFKeyFile only, an absolute path.
	KeyFile string `json:"key_file,omitempty"`
}

// NewPassphraseParams returns parameters for a passphrase-derived key with
// a fresh random salt.
func NewPassphraseParams(cost Cost) Params {
	salt := make([]byte, SaltSize)
	rand.Read(salt)
	return Params{KDF: KDFArgon2id, Salt: salt, Cost: cost}
}

// NewKeyFileParams returns parameters for a key kept in the file at path.
func NewKeyFileParams(path string) (Params, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Params{}, err
	}
	return Params{KDF: KDFKeyFile, KeyFile: abs}, nil
}

// check reports whether p can be used.
func (p Params) check() error {
	switch p.KDF {
	case KDFArgon2id:
		if len(p.Salt) < SaltSize {
			return fmt.Errorf("%w: salt of %d bytes, want %d", ErrBadParams, len(p.Salt), SaltSize)
		}
		c := p.Cost
		if c.Time == 0 || c.Threads == 0 || c.MemoryKiB < 8*uint32(c.Threads) ||
			c.Time > maxCost.Time || c.MemoryKiB > maxCost.MemoryKiB || c.Threads > maxCost.Threads {
			return fmt.Errorf("%w: Argon2id cost %+v out of range", ErrBadParams, c)
		}
	case KDFKeyFile:
		if !filepath.IsAbs(p.KeyFile) {
			return fmt.Errorf("%w: key file %q is not an absolute path", ErrBadParams, p.KeyFile)
		}
	default:
		return fmt.Errorf("%w: unknown KDF %q", ErrBadParams, p.KDF)
	}
	return nil
}

// Derive returns the store key for passphrase (KDFArgon2id).
func (p Params) Derive(passphrase []byte) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if p.KDF != KDFArgon2id {
		return nil, fmt.Errorf("%w: the key comes from a key file, not a passphrase", ErrBadParams)
	}
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	return argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, KeySize), nil
}

// Load reads the parameters file at path; ok is false if there is none
// (the store is not encrypted).
func Load(path string) (p Params, ok bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Params{}, false, nil
	}
	if err != nil {
		return Params{}, false, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return Params{}, false, fmt.Errorf("%s: %w: %w", path, ErrBadParams, err)
	}
	if err := p.check(); err != nil {
		return Params{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return p, true, nil
}

// Save writes p to path (mode 0600, through a temporary file and a rename).
func Save(path string, p Params) error {
	if err := p.check(); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".storekey-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(raw, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// NewKeyFile writes KeySize random bytes to a new file at path, mode 0600;
// it refuses to overwrite an existing file.
func NewKeyFile(path string) error {
	key := make([]byte, KeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// ReadKeyFile reads a key file: exactly KeySize bytes, readable by its
// owner only (as ssh asks of a private key).
func ReadKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: %w: mode %v lets others read it (chmod 600 it)", path, ErrBadKeyFile, fi.Mode().Perm())
	}
	key, err := io.ReadAll(io.LimitReader(f, KeySize+1))
	if err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%s: %w: want exactly %d bytes (e.g. head -c %d /dev/urandom)", path, ErrBadKeyFile, KeySize, KeySize)
	}
	return key, nil
}
