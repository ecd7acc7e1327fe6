package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// homeConfigFile is the node's settings file in its home.
const homeConfigFile = "config.json"

// homeConfig is HOME/config.json: what the node keeps the same from one
// start to the next. The daemon reads it; its flags override it for one
// run. Today it holds the listen addresses, chosen once, at `init` or the
// first start, so that invites and the addresses contacts remember stay
// good after a restart.
type homeConfig struct {
	// Listen are the multiaddrs the node listens on.
	Listen []string `json:"listen"`
}

// loadHomeConfig reads HOME/config.json, creating it on first use with a
// port chosen now: free for both TCP and UDP on loopback, so that the
// node's TCP and QUIC addresses share it.
func loadHomeConfig(home string) (homeConfig, error) {
	path := filepath.Join(home, homeConfigFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		var c homeConfig
		if err := json.Unmarshal(raw, &c); err != nil {
			return homeConfig{}, fmt.Errorf("%s: %w", path, err)
		}
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return homeConfig{}, err
	}
	port, err := freePort()
	if err != nil {
		return homeConfig{}, fmt.Errorf("choosing a listen port: %w", err)
	}
	p := strconv.Itoa(port)
	c := homeConfig{Listen: []string{"/ip4/127.0.0.1/tcp/" + p, "/ip4/127.0.0.1/udp/" + p + "/quic-v1"}}
	raw, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return homeConfig{}, err
	}
	if err := writeFileAtomic(path, append(raw, '\n')); err != nil {
		return homeConfig{}, err
	}
	return c, nil
}

// freePort returns a port free on 127.0.0.1 for both TCP and UDP.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue // taken for UDP: try another
		}
		u.Close()
		return port, nil
	}
	return 0, errors.New("no port free for both TCP and UDP")
}

// writeFileAtomic writes data to path (mode 0600) through a temporary file
// and a rename, so that a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
