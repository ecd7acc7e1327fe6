package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/internal/netlab"
)

// labNode is a daemon run as a child process (the test binary running
// main), so that a test can stop it with any signal, SIGKILL included, and
// start it again with the same command; the test drives it with the CLI,
// also a child process. In a network lab (host not nil) both run inside the
// host's namespace: the daemon's API listens on that namespace's loopback.
type labNode struct {
	t     *testing.T
	name  string
	host  *netlab.Host // nil: on this machine's loopback
	home  string
	flags []string // daemon flags after the first start's (no --bootstrap)
	first []string // extra flags of the first start only

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *bytes.Buffer
}

func newLabNode(t *testing.T, name string, h *netlab.Host, flags, first []string) *labNode {
	return &labNode{t: t, name: name, host: h, home: filepath.Join(t.TempDir(), name), flags: flags, first: first}
}

// start runs the daemon (with the first-start flags the first time) and
// waits for its API.
func (n *labNode) start(first bool) {
	n.t.Helper()
	n.launch(first)
	n.waitReady()
}

// launch starts the daemon process (with the first-start flags the first
// time); waitReady waits for its API.
func (n *labNode) launch(first bool) {
	n.t.Helper()
	args := append([]string{"--home", n.home, "daemon", "--log-level", "info"}, n.flags...)
	if first {
		args = append(args, n.first...)
	}
	os.Remove(filepath.Join(n.home, api.APIFileName))
	cmd := n.command(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", n.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done, n.stderr = cmd, done, &stderr
	n.mu.Unlock()
}

// waitReady waits until the launched daemon's API answers.
func (n *labNode) waitReady() {
	n.t.Helper()
	n.mu.Lock()
	done, stderr := n.done, n.stderr
	n.mu.Unlock()
	deadline := time.Now().Add(labWait)
	for {
		if _, err := os.Stat(filepath.Join(n.home, api.APIFileName)); err == nil {
			if _, _, code := n.cli("status"); code == 0 {
				return
			}
		}
		select {
		case <-done:
			n.t.Fatalf("%s: daemon exited: %s", n.name, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: daemon did not start", n.name)
		}
	}
}

// command runs the test binary as the command line with args, inside the
// node's namespace if it has one.
func (n *labNode) command(args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if n.host != nil {
		cmd = n.host.Command(context.Background(), os.Args[0], args...)
	} else {
		cmd = exec.Command(os.Args[0], args...)
		dieWithTest(cmd)
	}
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	return cmd
}

// stop ends the daemon with sig and waits for it.
func (n *labNode) stop(sig syscall.Signal) {
	n.t.Helper()
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(labWait):
		_ = cmd.Process.Kill()
		n.t.Fatalf("%s: daemon did not stop on %v", n.name, sig)
	}
	n.mu.Lock()
	n.cmd = nil
	n.mu.Unlock()
}

// cli runs the command line inside the node's namespace.
func (n *labNode) cli(args ...string) (string, string, int) {
	cmd := n.command(append([]string{"--home", n.home}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		code = 1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return out.String(), errb.String(), code
}

// ok runs the command line and fails the test unless it succeeds.
func (n *labNode) ok(args ...string) string {
	n.t.Helper()
	out, errs, code := n.cli(args...)
	if code != 0 {
		n.t.Fatalf("%s: %v: exit %d: %s", n.name, args, code, errs)
	}
	return out
}

func (n *labNode) status() api.Status {
	n.t.Helper()
	return decodeJSON[api.Status](n.t, n.ok("status", "--json"))
}

func (n *labNode) self() api.Self {
	n.t.Helper()
	return decodeJSON[api.Self](n.t, n.ok("id", "--json"))
}

// link is how n is connected to p now: "direct", "relayed" or "".
func (n *labNode) link(p string) string {
	for _, l := range n.status().Links {
		if l.PeerID == p {
			return l.Kind
		}
	}
	return ""
}

// punched reports whether n says a hole punch made its link to p direct.
func (n *labNode) punched(p string) bool {
	for _, l := range n.status().Links {
		if l.PeerID == p {
			return l.HolePunched
		}
	}
	return false
}

func (n *labNode) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stderr == nil {
		return ""
	}
	return n.stderr.String()
}

// labEventually waits for cond, failing with the nodes' logs at the deadline.
func labEventually(t *testing.T, what string, nodes []*labNode, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(labWait)
	for !cond() {
		if time.Now().After(deadline) {
			for _, n := range nodes {
				t.Logf("--- %s's log:\n%s", n.name, n.logs())
			}
			t.Fatalf("gave up waiting %v: %s", labWait, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hostRoom has host create a room named name and each of joiners join it
// by name (retried while the announcement spreads through the DHT).
func hostRoom(t *testing.T, all []*labNode, name string, host *labNode, joiners ...*labNode) {
	t.Helper()
	host.ok("room", "create", name, "--json")
	for _, n := range joiners {
		labEventually(t, n.name+" joins "+name+" by name", all, func() bool {
			_, _, code := n.cli("room", "join", name, "--json")
			return code == 0
		})
	}
}

// formGroup has owner create a group named name and invite members, who
// join it; it returns when every one of them holds the group's key.
func formGroup(t *testing.T, all []*labNode, name string, owner *labNode, members ...*labNode) {
	t.Helper()
	owner.ok("group", "create", name, "--json")
	invite := []string{"group", "invite", name}
	for _, m := range members {
		invite = append(invite, m.self().PeerID)
	}
	owner.ok(invite...)
	for _, n := range members {
		labEventually(t, n.name+" is invited to "+name, all, func() bool {
			gs := decodeJSON[api.Groups](t, n.ok("group", "list", "--json")).Groups
			return slices.ContainsFunc(gs, func(g api.Group) bool { return g.Name == name && g.State == "invited" })
		})
		n.ok("group", "join", name, "--json")
	}
	for _, n := range append([]*labNode{owner}, members...) {
		labEventually(t, n.name+" has "+name+"'s key", all, func() bool {
			return !decodeJSON[api.GroupDetail](t, n.ok("group", "members", name, "--json")).KeyPending
		})
	}
}
