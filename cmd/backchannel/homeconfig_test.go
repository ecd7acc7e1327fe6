package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHomeConfig: the first load chooses a port and writes it (0600); later
// loads read the same addresses; a broken file is an error naming it.
func TestHomeConfig(t *testing.T) {
	home := t.TempDir()
	first, err := loadHomeConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Listen) != 2 || !strings.HasPrefix(first.Listen[0], "/ip4/127.0.0.1/tcp/") ||
		!strings.HasPrefix(first.Listen[1], "/ip4/127.0.0.1/udp/") || strings.HasSuffix(first.Listen[0], "/0") {
		t.Fatalf("first config %v: want loopback TCP and QUIC on a chosen port", first.Listen)
	}
	if tcp, udp := strings.TrimPrefix(first.Listen[0], "/ip4/127.0.0.1/tcp/"), strings.TrimSuffix(strings.TrimPrefix(first.Listen[1], "/ip4/127.0.0.1/udp/"), "/quic-v1"); tcp != udp {
		t.Errorf("TCP port %s and QUIC port %s differ", tcp, udp)
	}
	fi, err := os.Stat(filepath.Join(home, homeConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := loadHomeConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Listen, first.Listen) {
		t.Errorf("second load %v, want the first's %v", again.Listen, first.Listen)
	}
	if err := os.WriteFile(filepath.Join(home, homeConfigFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadHomeConfig(home); err == nil || !strings.Contains(err.Error(), homeConfigFile) {
		t.Errorf("broken config: err = %v, want one naming %s", err, homeConfigFile)
	}
}
