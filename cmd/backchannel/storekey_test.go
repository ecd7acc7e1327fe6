package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/term"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/storage/storekey"
)

func init() {
	// Every home the tests encrypt records this cost: cheap, so that no
	// test spends seconds in Argon2id.
	kdfCost = storekey.Cost{Time: 1, MemoryKiB: 64, Threads: 1}
}

// passphraseFD returns a pipe's read end holding pass and a newline, for
// --passphrase-fd; the daemon closes it. Raw descriptors, not *os.File,
// which would close it a second time when collected.
func passphraseFD(t *testing.T, pass string) string {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(p[1], []byte(pass+"\n")); err != nil {
		t.Fatal(err)
	}
	syscall.Close(p[1])
	return strconv.Itoa(p[0])
}

// refused runs a command line expected to fail, such as a daemon that must
// not start: one that does start anyway is stopped after waitLimit (and
// exits 0), so that the test fails rather than hangs.
func refused(t *testing.T, home string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, append([]string{"--home", home}, args...), &out, &errb)
	return errb.String(), code
}

// grepHome returns, for each needle found in a file under home, the file.
func grepHome(t *testing.T, home string, needles map[string][]byte) map[string]string {
	t.Helper()
	found := map[string]string{}
	err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, n := range needles {
			if bytes.Contains(b, n) {
				found[name] = strings.TrimPrefix(path, home)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestEncryptedHome: Alice's home is made with `init --encrypt` (the
// passphrase from the environment), her daemon refuses a wrong passphrase
// and starts with the right one from a file descriptor; Bob (a home in
// clear) and she exchange messages. Once both stopped, every file of Bob's
// home holds the texts and peer IDs in clear (so that the search can fail)
// and no file of Alice's holds any of them; her files are 0600. She changes
// her passphrase; restarted with the new one, she reads the thread back.
func TestEncryptedHome(t *testing.T) {
	const pass = "correct horse battery staple"
	homeA, homeB := filepath.Join(t.TempDir(), "alice"), t.TempDir() // init makes Alice's
	t.Setenv(envPassphrase, pass)
	peerA := strings.TrimSpace(ok(t, homeA, "init", "--encrypt"))
	if p, encrypted, err := storekey.Load(filepath.Join(homeA, storeKeyFile)); err != nil || !encrypted || p.KDF != storekey.KDFArgon2id {
		t.Fatalf("%s after init --encrypt: %+v, %v, %v", storeKeyFile, p, encrypted, err)
	}
	if _, errs, code := cli(t, homeA, "init", "--encrypt", "--home", t.TempDir(), "--key-file", filepath.Join(t.TempDir(), "k")); code != 0 {
		t.Errorf("init --encrypt --key-file: exit %d: %s", code, errs)
	}
	if _, errs, code := cli(t, homeB, "init"); code != 0 {
		t.Fatalf("init: %s", errs)
	}
	if errs, code := refused(t, homeB, "init", "--encrypt"); code == 0 || !strings.Contains(errs, "already holds a store in clear") {
		t.Errorf("init --encrypt over a store in clear: exit %d, %q", code, errs)
	}

	t.Setenv(envPassphrase, "correct horse battery stapel")
	if errs, code := refused(t, homeA, "daemon"); code == 0 || !strings.Contains(errs, "does not open the store") {
		t.Errorf("daemon with a wrong passphrase: exit %d, %q", code, errs)
	}
	t.Setenv(envPassphrase, "")
	if !term.IsTerminal(int(os.Stdin.Fd())) { // on a terminal it would ask
		if errs, code := refused(t, homeA, "daemon"); code == 0 || !strings.Contains(errs, "no passphrase was given") {
			t.Errorf("daemon without a passphrase: exit %d, %q", code, errs)
		}
	}
	if errs, code := refused(t, homeB, "daemon", "--passphrase-fd", passphraseFD(t, pass)); code == 0 || !strings.Contains(errs, "not encrypted") {
		t.Errorf("daemon --passphrase-fd for a store in clear: exit %d, %q", code, errs)
	}

	stopA := startDaemon(t, homeA, "--passphrase-fd", passphraseFD(t, pass))
	stopB := startDaemon(t, homeB)
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	if a.PeerID != peerA {
		t.Fatalf("daemon runs %s, init made %s", a.PeerID, peerA)
	}
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))
	// Random texts: a compressor leaves them whole in a store in clear.
	hello, reply := "hello "+rand.Text(), "reply "+rand.Text()
	ok(t, homeB, "contacts", "add", a.Invite, "--name", "alice")
	ok(t, homeB, "send", "alice", hello)
	eventually(t, "Bob's message in Alice's requests", func() bool { return hasThread(requests(t, homeA), b.PeerID) })
	ok(t, homeA, "requests", "accept", b.PeerID)
	answer := decodeJSON[api.Message](t, ok(t, homeA, "send", b.PeerID, reply, "--json"))
	eventually(t, "Alice's reply at Bob", func() bool { return stateAt(t, homeB, "alice", answer.ID) != "" })
	drained(t, homeA)
	drained(t, homeB)
	stopA()
	stopB()

	needles := map[string][]byte{"Bob's message": []byte(hello), "Alice's reply": []byte(reply)}
	for name, id := range map[string]string{"Alice": a.PeerID, "Bob": b.PeerID} {
		p, err := peer.Decode(id)
		if err != nil {
			t.Fatal(err)
		}
		needles[name+"'s peer ID"] = []byte(p) // the raw form is in the keys and records
		needles[name+"'s peer ID, printed"] = []byte(id)
	}
	found := grepHome(t, homeB, needles)
	for _, name := range []string{"Bob's message", "Alice's reply", "Alice's peer ID"} {
		if found[name] == "" {
			t.Errorf("%s not found in Bob's home, in clear: the search cannot fail", name)
		}
	}
	for name, file := range grepHome(t, homeA, needles) {
		t.Errorf("Alice's encrypted home holds %s in clear, in %s", name, file)
	}
	err := filepath.WalkDir(homeA, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for others", strings.TrimPrefix(path, homeA), perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A new passphrase: the old one no longer opens the store.
	const newPass = "tr0ub4dor&3"
	if errs, code := refused(t, homeA, "passphrase", "--passphrase-fd", passphraseFD(t, "wrong"), "--new-passphrase-fd", passphraseFD(t, newPass)); code == 0 || !strings.Contains(errs, "does not open the store") {
		t.Errorf("passphrase with a wrong current one: exit %d, %q", code, errs)
	}
	ok(t, homeA, "passphrase", "--passphrase-fd", passphraseFD(t, pass), "--new-passphrase-fd", passphraseFD(t, newPass))
	t.Setenv(envPassphrase, pass)
	if errs, code := refused(t, homeA, "daemon"); code == 0 || !strings.Contains(errs, "does not open the store") {
		t.Errorf("daemon with the old passphrase: exit %d, %q", code, errs)
	}
	t.Setenv(envPassphrase, newPass)
	startDaemon(t, homeA)
	if errs, code := refused(t, homeA, "passphrase"); code == 0 || !strings.Contains(errs, "stop it first") {
		t.Errorf("passphrase while the daemon runs: exit %d, %q", code, errs)
	}
	if ms := thread(t, homeA, b.PeerID); len(ms) != 2 || ms[0].Text != reply || ms[1].Text != hello {
		t.Errorf("Alice's thread after a restart: %+v", ms)
	}
}
