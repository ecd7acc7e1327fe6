package storage

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// crashChildEnv names the store directory when the test binary runs as the
// child of TestDurabilityAfterKill.
const crashChildEnv = "BACKCHANNEL_STORAGE_CRASH_DIR"

// crashPeer is the conversation the child writes to.
var crashPeer = peer.ID("\x00\x24crash-test-peer")

// TestDurabilityAfterKill re-runs the test binary as a child that commits
// messages one transaction at a time and reports each commit on stdout. The
// parent SIGKILLs it right after the report for message killAt, reopens the
// store and checks that every reported message is there, with its outbox
// entry and a consistent conversation summary.
func TestDurabilityAfterKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	const killAt = 300
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityAfterKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			continue // the test framework's own output
		}
		last = n
		if n == killAt {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	err = cmd.Wait()
	if last != killAt {
		t.Fatalf("child stopped after message %d (%v), want to kill it at %d", last, err, killAt)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", cmd.ProcessState)
	}

	s := openDir(t, dir)
	defer s.Close()
	view(t, s, func(tx *Txn) error {
		count, err := tx.CountMessages(crashPeer)
		if err != nil {
			return err
		}
		if count < killAt+1 {
			t.Errorf("%d messages after the kill, want at least %d", count, killAt+1)
		}
		// Every committed transaction is whole: messages 0..count-1, each
		// with its outbox entry, and the summary agrees.
		ms, err := tx.Messages(crashPeer, count+10, time.Time{})
		if err != nil {
			return err
		}
		if len(ms) != count {
			t.Errorf("%d messages stored, summary says %d", len(ms), count)
		}
		for i, m := range ms {
			if want := msgID(count - 1 - i); m.ID != want {
				t.Fatalf("message %d is %s, want %s", i, m.ID, want)
			}
		}
		es, err := tx.Outbox(crashPeer)
		if err != nil {
			return err
		}
		if len(es) != count {
			t.Errorf("%d outbox entries, want %d", len(es), count)
		}
		sess, err := tx.Session(crashPeer, "current")
		if err != nil {
			return err
		}
		if want := strconv.Itoa(count - 1); string(sess) != want {
			t.Errorf("session %q, want %q (written with the last message)", sess, want)
		}
		t.Logf("killed after commit %d; %d messages survived", killAt, count)
		return nil
	})
}

// crashChild writes messages until it is killed.
func crashChild(dir string) {
	s, err := Open(Config{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for n := 0; n < 1<<16; n++ {
		m := testMessage(crashPeer, n, Outbound)
		err := s.Update(func(tx *Txn) error {
			if err := tx.PutSession(crashPeer, "current", []byte(strconv.Itoa(n))); err != nil {
				return err
			}
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			return tx.PutOutbox(OutboxEntry{ID: m.ID, Peer: crashPeer, Frame: []byte("frame"), Created: m.Sent})
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// Unbuffered: the parent sees this only after Update returned.
		fmt.Fprintln(os.Stdout, n)
	}
	os.Exit(3) // never reached in practice: the parent kills us first
}
