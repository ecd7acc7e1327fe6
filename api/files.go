package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files the server keeps in the node's home folder.
const (
	// APIFileName holds the JSON {"addr": "127.0.0.1:PORT", "pid": N} of the
	// running daemon; the daemon removes it when it stops.
	APIFileName = "api.json"
	// TokenFileName holds the bearer token: 64 hex digits, made once and
	// kept across restarts.
	TokenFileName = "api.token"
)

// tokenBytes is the token's length before hex encoding.
const tokenBytes = 32

// apiFile is the content of APIFileName.
type apiFile struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

// loadOrCreateToken returns the token in home, making it on first use.
func loadOrCreateToken(home string) ([]byte, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("api: home: %w", err)
	}
	path := filepath.Join(home, TokenFileName)
	tok, err := ReadToken(home)
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var raw [tokenBytes]byte
	rand.Read(raw[:])
	tok = []byte(hex.EncodeToString(raw[:]))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process made it first: use theirs.
		return ReadToken(home)
	}
	if err != nil {
		return nil, fmt.Errorf("api: token: %w", err)
	}
	if _, err := f.Write(append(tok, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("api: token: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("api: token: %w", err)
	}
	return tok, nil
}

// ReadToken reads the bearer token from home's token file.
func ReadToken(home string) ([]byte, error) {
	path := filepath.Join(home, TokenFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api: token: %w", err)
	}
	tok := bytes.TrimSpace(b)
	if len(tok) != 2*tokenBytes {
		return nil, fmt.Errorf("api: token file %s: want %d hex digits", path, 2*tokenBytes)
	}
	if _, err := hex.DecodeString(string(tok)); err != nil {
		return nil, fmt.Errorf("api: token file %s: %w", path, err)
	}
	return tok, nil
}

// ReadAddr returns the address and process ID of the daemon running for
// home, from its api.json. The error wraps fs.ErrNotExist when no daemon
// wrote one.
func ReadAddr(home string) (addr string, pid int, err error) {
	b, err := os.ReadFile(filepath.Join(home, APIFileName))
	if err != nil {
		return "", 0, fmt.Errorf("api: %w", err)
	}
	var f apiFile
	if err := json.Unmarshal(b, &f); err != nil || f.Addr == "" {
		return "", 0, fmt.Errorf("api: %s: not a valid API file", filepath.Join(home, APIFileName))
	}
	return f.Addr, f.PID, nil
}

// writeAPIFile writes api.json atomically (temporary file, then rename).
func writeAPIFile(home string, f apiFile) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	tmp, err := os.CreateTemp(home, APIFileName+".*")
	if err != nil {
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(home, APIFileName)); err != nil {
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	return nil
}

// removeAPIFile removes api.json if it still names addr, so that a server
// closing late does not remove the file of a newer one.
func removeAPIFile(home, addr string) error {
	got, _, err := ReadAddr(home)
	if err != nil || got != addr {
		return nil
	}
	if err := os.Remove(filepath.Join(home, APIFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("api: %s: %w", APIFileName, err)
	}
	return nil
}
