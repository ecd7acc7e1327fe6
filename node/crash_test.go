package node

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// Environment of the recipient child process in TestCrashRecovery.
const (
	envChild  = "BACKCHANNEL_NODE_TEST_CHILD"
	envHome   = "BACKCHANNEL_NODE_TEST_HOME"
	envListen = "BACKCHANNEL_NODE_TEST_LISTEN"
	envAccept = "BACKCHANNEL_NODE_TEST_ACCEPT"
	envHelper = "BACKCHANNEL_NODE_TEST_HELPER" // "1": run as a helper (a mailbox)
)

// runChild runs a recipient node until SIGTERM (or SIGKILL, which is the
// point). It prints "READY <peer ID>" once serving.
func runChild() int {
	n, err := New(Config{Home: os.Getenv(envHome), ListenAddrs: []string{os.Getenv(envListen)}, Gater: &LoopbackGater{}, NoStamp: true,
		Helper: os.Getenv(envHelper) == "1"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := n.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if accept := os.Getenv(envAccept); accept != "" {
		if _, err := n.AddContact(context.Background(), accept, "sender"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Printf("READY %s\n", n.ID())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if err := n.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd *exec.Cmd
	id  peer.ID
}

func startChild(t *testing.T, home, listen string, accept peer.ID, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	acc := ""
	if accept != "" {
		acc = accept.String()
	}
	cmd.Env = append(os.Environ(), envChild+"=1", envHome+"="+home, envListen+"="+listen, envAccept+"="+acc)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		id, err := peer.Decode(strings.TrimSpace(strings.TrimPrefix(line, "READY ")))
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child did not start: %q", line)
		}
		return &child{cmd: cmd, id: id}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child did not start in time")
	}
	return nil
}

func freeLoopbackPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// storedIDs opens a (stopped) node's store and returns the message IDs of
// its conversation with p, failing on duplicates.
func storedIDs(t *testing.T, home string, p peer.ID) map[storage.MessageID]bool {
	t.Helper()
	st, err := storage.Open(storage.Config{Dir: home + "/store"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := map[storage.MessageID]bool{}
	err = st.View(func(tx *storage.Txn) error {
		ms, err := tx.Messages(p, 1<<20, time.Time{})
		for _, m := range ms {
			if ids[m.ID] {
				return fmt.Errorf("message %s stored twice", m.ID)
			}
			ids[m.ID] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestCrashRecovery kills the recipient with SIGKILL in the middle of a
// burst: every message the sender saw acked must be in its store, and after
// a restart the outbox drains into exactly one copy of every message.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes and sends 5,000 messages")
	}
	const total = 5000
	// useTCP: the peer is a child process.
	useTCP(t)
	a := newTestNode(t, "")
	bHome := t.TempDir()
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freeLoopbackPort(t))
	b := startChild(t, bHome, listen, a.ID())
	killed := false
	defer func() {
		if !killed {
			b.cmd.Process.Kill()
			b.cmd.Wait()
		}
	}()
	if _, err := a.AddContact(t.Context(), listen+"/p2p/"+b.id.String(), "bob"); err != nil {
		// A bare multiaddr is not an invite: add by invite link.
		inv := Invite{Peer: b.id}
		a.net.AddAddrs(b.id, []string{listen})
		if _, err := a.AddContact(t.Context(), inv.String(), "bob"); err != nil {
			t.Fatal(err)
		}
	}

	sent := make([]storage.Message, 0, total)
	for i := range total {
		sent = append(sent, a.send(b.id, fmt.Sprint("burst ", i)))
	}
	// Kill the recipient once a good part of the burst is acked, while the
	// rest is still flowing.
	a.waitUntil("a fifth of the burst acked", func() bool {
		return a.message(b.id, sent[total/5].ID).State.Rank() >= storage.StateDelivered.Rank()
	})
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.cmd.Wait()
	killed = true

	// Everything A saw acked is in B's store.
	acked := map[storage.MessageID]bool{}
	for _, m := range sent {
		if a.message(b.id, m.ID).State.Rank() >= storage.StateDelivered.Rank() {
			acked[m.ID] = true
		}
	}
	stored := storedIDs(t, bHome, a.ID())
	for id := range acked {
		if !stored[id] {
			t.Fatalf("message %s was acked but is not in the recipient's store", id)
		}
	}
	t.Logf("killed the recipient with %d of %d acked, %d stored", len(acked), total, len(stored))

	// Restart: the outbox drains, nothing twice.
	b = startChild(t, bHome, listen, a.ID())
	killed = false
	for _, m := range sent {
		a.waitState(b.id, m.ID, storage.StateDelivered)
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("recipient exited badly: %v", err)
	}
	killed = true
	stored = storedIDs(t, bHome, a.ID())
	if len(stored) != total {
		t.Fatalf("recipient stored %d messages, want %d", len(stored), total)
	}
	for _, m := range sent {
		if !stored[m.ID] {
			t.Fatalf("message %s missing after the outbox drained", m.ID)
		}
	}
	assertNoOutbox(t, a, b.id)
}
