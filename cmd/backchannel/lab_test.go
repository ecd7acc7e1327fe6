package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/internal/netlab"
)

// labWait bounds every wait in the lab: hole punching, relay reservations
// and backoffs take seconds, not milliseconds.
const labWait = 90 * time.Second

// TestLab runs the network in a namespace lab (internal/netlab): a helper
// on the "internet"; Alice and Bob each behind a home NAT that keeps a
// socket's public port for every destination; Carol behind a symmetric
// NAT (a new port per destination). Every daemon's gater allows loopback
// and the lab's range only, and none refused anything.
func TestLab(t *testing.T) {
	lab := netlab.New(t)
	helperHost := lab.PublicHost("helper")
	alice := lab.NATHost("alice", netlab.EndpointIndependent)
	bob := lab.NATHost("bob", netlab.EndpointIndependent)
	carol := lab.NATHost("carol", netlab.Symmetric)

	common := []string{"--allow-net", netlab.Range.String(), "--public-net", netlab.Internet.String()}
	listen := func(h *netlab.Host) []string {
		ip := h.IP().String()
		return []string{"--listen", "/ip4/" + ip + "/tcp/4001", "--listen", "/ip4/" + ip + "/udp/4001/quic-v1"}
	}
	helper := newLabNode(t, "helper", helperHost, slices.Concat(listen(helperHost), common, []string{"--helper"}), nil)
	helper.start(true)
	t.Cleanup(func() { helper.stop(syscall.SIGTERM) })
	boot := helper.self().Addrs[0] + "/p2p/" + helper.self().PeerID

	user := func(name string, h *netlab.Host) *labNode {
		n := newLabNode(t, name, h, slices.Concat(listen(h), common, []string{"--relay-client", "--hole-punching"}),
			[]string{"--bootstrap", boot}) // given once: remembered
		n.start(true)
		t.Cleanup(func() { n.stop(syscall.SIGTERM) })
		return n
	}
	a, b, c := user("alice", alice), user("bob", bob), user("carol", carol)
	all := []*labNode{helper, a, b, c}
	t.Cleanup(func() {
		for _, n := range all {
			if n.cmd == nil {
				continue
			}
			if r := n.status().Refused; r != 0 {
				t.Errorf("%s refused %d connections outside loopback and the lab", n.name, r)
			}
		}
	})

	// Every NATed node reserves a slot on the helper's relay and says so in
	// its invite; the helper serves the DHT, the others are DHT clients.
	if st := helper.status(); st.DHTMode != "server" || st.Reachability != "public" {
		t.Errorf("helper: DHT %s, reachability %s; want server, public", st.DHTMode, st.Reachability)
	}
	for _, n := range []*labNode{a, b, c} {
		labEventually(t, n.name+" has a relay reservation and a relay address", all, func() bool {
			return len(n.status().Relays) > 0 && strings.Contains(n.self().Invite, "p2p-circuit")
		})
		if st := n.status(); st.DHTMode != "client" || st.Reachability != "private" {
			t.Errorf("%s: DHT %s, reachability %s; want client, private", n.name, st.DHTMode, st.Reachability)
		}
	}
	ids := map[*labNode]api.Self{}
	for _, n := range all {
		ids[n] = n.self()
	}
	befriend := func(x, y *labNode) {
		x.ok("contacts", "add", ids[y].Invite, "--name", y.name)
		y.ok("contacts", "add", ids[x].Invite, "--name", x.name)
	}
	send := func(from, to *labNode, text string) api.Message {
		return decodeJSON[api.Message](t, from.ok("send", to.name, text, "--json"))
	}
	delivered := func(from, to *labNode, m api.Message) {
		t.Helper()
		labEventually(t, fmt.Sprintf("%s's %q delivered to %s", from.name, m.Text, to.name), all, func() bool {
			for _, got := range decodeJSON[api.Messages](t, from.ok("read", to.name, "--json", "--limit", "500")).Messages {
				if got.ID == m.ID {
					return got.State == "delivered" || got.State == "read"
				}
			}
			return false
		})
	}

	t.Run("relay then hole punch", func(t *testing.T) {
		befriend(a, b)
		m := send(a, b, "hello bob, through the relay")
		delivered(a, b, m)
		// Neither NAT lets in what its host did not send out first: a direct
		// link between Alice and Bob can only be a punched hole.
		labEventually(t, "Alice's link to Bob becomes direct", all, func() bool { return a.link(ids[b].PeerID) == "direct" })
		labEventually(t, "Bob's link to Alice becomes direct", all, func() bool { return b.link(ids[a].PeerID) == "direct" })
		// DCUtR starts only over a relayed connection: a punched hole says
		// the first link went through the helper.
		if !a.punched(ids[b].PeerID) && !b.punched(ids[a].PeerID) {
			t.Error("the link is direct but neither side says a hole punch made it so")
		}
		delivered(b, a, send(b, a, "hello alice, directly"))
	})

	t.Run("symmetric NAT stays relayed", func(t *testing.T) {
		befriend(a, c)
		delivered(c, a, send(c, a, "hi alice, from behind a symmetric NAT"))
		delivered(a, c, send(a, c, "hi carol"))
		if k := a.link(ids[c].PeerID); k != "relayed" {
			t.Errorf("Alice's link to Carol is %q, want relayed", k)
		}
	})

	t.Run("room and group", func(t *testing.T) {
		befriend(b, c)
		hostRoom(t, all, "Lab Hall", a, b, c)
		say := map[*labNode]string{a: "welcome to the lab", b: "bob here", c: "carol here"}
		for n, text := range say {
			n.ok("room", "say", "Lab Hall", text)
		}
		for _, n := range []*labNode{a, b, c} {
			var missing []string
			labEventually(t, n.name+" sees every line in Lab Hall", all, func() bool {
				lines := decodeJSON[api.RoomChat](t, n.ok("room", "read", "Lab Hall", "--json")).Messages
				var now []string
				for _, text := range say {
					if !slices.ContainsFunc(lines, func(l api.RoomChatLine) bool { return l.Text == text }) {
						now = append(now, text)
					}
				}
				if !slices.Equal(now, missing) {
					t.Logf("%s misses %q", n.name, now)
					missing = now
				}
				return len(now) == 0
			})
		}

		formGroup(t, all, "Lab Crew", a, b, c)
		posts := map[*labNode]string{a: "crew, assemble", b: "bob reporting", c: "carol reporting"}
		for n, text := range posts {
			n.ok("group", "send", "Lab Crew", text)
		}
		for _, n := range []*labNode{a, b, c} {
			labEventually(t, n.name+" reads every post in Lab Crew", all, func() bool {
				ms := decodeJSON[api.GroupMessages](t, n.ok("group", "read", "Lab Crew", "--json", "--limit", "100")).Messages
				for _, text := range posts {
					if !slices.ContainsFunc(ms, func(m api.GroupMessage) bool { return m.Text == text }) {
						return false
					}
				}
				return true
			})
		}
	})

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run("restart after "+sig.String(), func(t *testing.T) {
			// Bob and Carol go down; Alice queues for both, then goes down too.
			b.stop(sig)
			c.stop(sig)
			mb, mc := send(a, b, "while you were away, bob ("+sig.String()+")"), send(a, c, "while you were away, carol ("+sig.String()+")")
			a.stop(sig)
			for _, n := range []*labNode{a, b, c} {
				n.launch(false) // the same command, without --bootstrap; all at once
			}
			for _, n := range []*labNode{a, b, c} {
				n.waitReady()
			}
			delivered(a, b, mb)
			delivered(a, c, mc)
			delivered(b, c, send(b, c, "back again ("+sig.String()+")"))
		})
	}

	t.Run("Bob's NAT changes its public address", func(t *testing.T) {
		old := bob.PublicIP()
		if now := lab.ChangePublicIP(t, bob); now == old {
			t.Fatalf("public address still %s", old)
		}
		delivered(a, b, send(a, b, "still there, bob?"))
		delivered(b, a, send(b, a, "yes, from a new address"))
	})

	t.Run("mailbox while Bob is away", func(t *testing.T) {
		// Bob, behind his NAT, appoints the helper on the internet as his
		// mailbox; Alice too, for the receipts.
		for _, n := range []*labNode{b, a} {
			n.ok("mailbox", "appoint", ids[helper].PeerID)
		}
		labEventually(t, "Alice knows Bob's mailbox", all, func() bool {
			out := a.ok("mailbox", "list", "--of", b.name, "--json")
			return strings.Contains(out, ids[helper].PeerID)
		})
		b.stop(syscall.SIGTERM)
		m := send(a, b, "left with your helper, bob")
		labEventually(t, "Alice's message in Bob's mailbox", all, func() bool {
			for _, got := range decodeJSON[api.Messages](t, a.ok("read", b.name, "--json", "--limit", "500")).Messages {
				if got.ID == m.ID {
					return got.State == "in_mailbox"
				}
			}
			return false
		})
		a.stop(syscall.SIGTERM) // never online together again until Bob has it
		if held := helper.ok("mailbox", "held", "--json"); !strings.Contains(held, ids[b].PeerID) {
			t.Errorf("the helper holds nothing for Bob: %s", held)
		}
		b.launch(false)
		b.waitReady()
		labEventually(t, "Bob drained his mailbox", all, func() bool {
			for _, got := range decodeJSON[api.Messages](t, b.ok("read", a.name, "--json", "--limit", "500")).Messages {
				if got.ID == m.ID {
					return true
				}
			}
			return false
		})
		a.launch(false)
		a.waitReady()
		delivered(a, b, m)
	})
}
