package main

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
)

// TestRestartAll is the README's walk-through with a restart: four daemons
// (child processes, started with the same commands every time) with
// contacts, a room and a group. Three go down, the fourth writes to them
// and goes down too; then all four start at once. Every node reconnects to
// its contacts by itself, every message written meanwhile arrives exactly
// once, the room and the group work, and an invite taken before the
// restart works after it. Once after SIGTERM, once after SIGKILL.
func TestRestartAll(t *testing.T) {
	nodes := make([]*labNode, 4)
	names := []string{"alice", "bob", "carol", "dave"}
	for i, name := range names {
		nodes[i] = newLabNode(t, name, nil, nil, nil)
	}
	a := nodes[0]
	a.start(true)
	t.Cleanup(func() { a.stop(syscall.SIGTERM) })
	boot := a.self().Addrs[0] + "/p2p/" + a.self().PeerID
	for _, n := range nodes[1:] {
		n.flags = []string{"--bootstrap", boot} // the README's command, every time
		n.start(true)
		t.Cleanup(func() { n.stop(syscall.SIGTERM) })
	}
	ids := map[*labNode]api.Self{}
	for _, n := range nodes {
		ids[n] = n.self()
	}
	// Everyone has everyone as a contact.
	for i, x := range nodes {
		for _, y := range nodes[i+1:] {
			x.ok("contacts", "add", ids[y].Invite, "--name", y.name)
			y.ok("contacts", "add", ids[x].Invite, "--name", x.name)
		}
	}
	daveInvite := ids[nodes[3]].Invite // taken before any restart

	hostRoom(t, nodes, "Porch", a, nodes[1:]...)
	formGroup(t, nodes, "Four", a, nodes[1:]...)

	for round, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		// Bob, Carol and Dave go down; Alice writes to each; Alice goes down.
		for _, n := range nodes[1:] {
			n.stop(sig)
		}
		var queued []api.Message
		for _, n := range nodes[1:] {
			queued = append(queued, decodeJSON[api.Message](t, a.ok("send", n.name, fmt.Sprintf("while you were down, %s (%v)", n.name, sig), "--json")))
		}
		a.stop(sig)

		began := time.Now()
		for _, n := range nodes {
			n.launch(false) // all at once
		}
		for _, n := range nodes {
			n.waitReady()
		}
		for _, n := range nodes {
			labEventually(t, n.name+" connected to all its contacts", nodes, func() bool {
				st := n.status()
				return len(st.Links) == len(nodes)-1
			})
		}
		t.Logf("after %v: every node connected to its three contacts %v after the restarts began", sig, time.Since(began).Round(time.Millisecond))
		for i, n := range nodes[1:] {
			want := queued[i]
			labEventually(t, n.name+" holds Alice's message once", nodes, func() bool {
				ms := decodeJSON[api.Messages](t, n.ok("read", "alice", "--json", "--limit", "500")).Messages
				count := 0
				for _, m := range ms {
					if m.ID == want.ID {
						count++
					}
				}
				if count > 1 {
					t.Fatalf("%s holds message %s %d times", n.name, want.ID, count)
				}
				return count == 1
			})
		}

		line := fmt.Sprintf("still here (round %d)", round)
		nodes[2].ok("room", "say", "Porch", line)
		post := fmt.Sprintf("all back (round %d)", round)
		nodes[3].ok("group", "send", "Four", post)
		for _, n := range nodes {
			labEventually(t, n.name+" sees Carol's room line and Dave's group post", nodes, func() bool {
				chat := decodeJSON[api.RoomChat](t, n.ok("room", "read", "Porch", "--json")).Messages
				posts := decodeJSON[api.GroupMessages](t, n.ok("group", "read", "Four", "--json", "--limit", "100")).Messages
				return slices.ContainsFunc(chat, func(l api.RoomChatLine) bool { return l.Text == line }) &&
					slices.ContainsFunc(posts, func(m api.GroupMessage) bool { return m.Text == post })
			})
		}
	}

	// A newcomer uses Dave's invite, taken before both restarts.
	erin := newLabNode(t, "erin", nil, nil, nil)
	erin.start(false)
	t.Cleanup(func() { erin.stop(syscall.SIGTERM) })
	erin.ok("contacts", "add", daveInvite, "--name", "dave")
	m := decodeJSON[api.Message](t, erin.ok("send", "dave", "your old invite works", "--json"))
	labEventually(t, "Erin's message delivered to Dave through his old invite", []*labNode{erin, nodes[3]}, func() bool {
		for _, got := range decodeJSON[api.Messages](t, erin.ok("read", "dave", "--json")).Messages {
			if got.ID == m.ID {
				return got.State == "delivered" || got.State == "read"
			}
		}
		return false
	})
}
