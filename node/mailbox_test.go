package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/mailbox"
	"github.com/backchannel/backchannel/storage"
)

// depositAt once deposits at the first failed delivery: tests need not wait.
func depositAt(c *Config) { c.MailboxDepositAfter = -1 }

func asHelper(c *Config) { c.Helper = true }

// mailboxPair makes a helper h and contacts a and b, each of which has
// written to the other (so both have sessions) and appointed h; it returns
// once each knows the other's mailbox.
func mailboxPair(t *testing.T, aHome, bHome string, mods ...func(*Config)) (h, a, b *testNode) {
	t.Helper()
	h = newTestNode(t, "", asHelper)
	a, b = mailboxContacts(t, h.ID(), h.Addrs()[0].String(), aHome, bHome, mods...)
	return h, a, b
}

// mailboxContacts makes contacts a and b that both appointed the helper hID
// (at hAddr, their bootstrap peer) and know each other's mailbox.
func mailboxContacts(t *testing.T, hID peer.ID, hAddr, aHome, bHome string, mods ...func(*Config)) (a, b *testNode) {
	t.Helper()
	mods = append([]func(*Config){withBootstrap(hAddr), depositAt}, mods...)
	a = newTestNode(t, aHome, mods...)
	b = newTestNode(t, bHome, mods...)
	if _, err := a.AddContact(t.Context(), b.invite(), "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), "alice"); err != nil {
		t.Fatal(err)
	}
	a.waitState(b.ID(), a.send(b.ID(), "hi bob").ID, storage.StateDelivered)
	b.waitState(a.ID(), b.send(a.ID(), "hi alice").ID, storage.StateDelivered)
	for _, n := range []*testNode{a, b} {
		if _, err := n.AppointMailbox(t.Context(), hID, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	knows := func(n *testNode, p peer.ID) func() bool {
		return func() bool {
			ks, err := n.MailboxesOf(p)
			return err == nil && len(ks) == 1 && ks[0].Mailbox == hID && ks[0].Capability
		}
	}
	a.waitUntil("a knows b's mailbox", knows(a, b.ID()))
	b.waitUntil("b knows a's mailbox", knows(b, a.ID()))
	return a, b
}

// TestMailboxDelivery: Alice sends 100 messages while Bob is offline, then
// stops. Bob starts and gets all 100 once, in order, from his mailbox, and
// reads them. Alice starts later and sees them delivered and read, though
// Bob is offline again. The helper holds nothing after, and its store
// never held the text.
func TestMailboxDelivery(t *testing.T) {
	useTCP(t) // nodes restart under their keys
	aHome, bHome := t.TempDir(), t.TempDir()
	h, a, b := mailboxPair(t, aHome, bHome)
	aID, bID := a.ID(), b.ID()
	b.stop()

	const count = 100
	var sent []storage.Message
	for i := range count {
		sent = append(sent, a.send(bID, fmt.Sprintf("%03d %s", i, incompressible())))
	}
	for _, m := range sent {
		a.waitState(bID, m.ID, storage.StateInMailbox)
	}
	if got := a.message(bID, sent[0].ID).State; got != storage.StateInMailbox {
		t.Fatalf("state %v, want in mailbox", got)
	}
	assertNoOutbox(t, a, bID)
	a.stop()
	if held := heldFor(t, h, bID); held.Items != count {
		t.Fatalf("helper holds %d items for bob, want %d", held.Items, count)
	}
	texts := make([]string, len(sent))
	for i, m := range sent {
		texts[i] = m.Body
	}
	// The same search finds texts in Alice's own store (not encrypted at
	// rest), so it would find them in the helper's. Not every one: Badger
	// compresses its tables, and a few bytes of one text may match others.
	if textsIn(t, aHome, texts) == 0 {
		t.Fatal("alice's store holds none of her texts: the search is broken")
	}
	if n := textsIn(t, h.home, texts); n != 0 {
		t.Fatalf("the helper's files hold %d of the texts", n)
	}

	b = newTestNode(t, bHome, withBootstrap(h.Addrs()[0].String()), depositAt)
	b.waitUntil("bob has alice's messages", func() bool {
		ms, err := b.Messages(aID, 2*count, zeroTime)
		return err == nil && len(ms) == count+2
	})
	got, err := b.Messages(aID, 2*count, zeroTime)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:count] // newest first; the two greetings are older
	for i, m := range got {
		want := sent[count-1-i]
		if m.ID != want.ID || m.Body != want.Body {
			t.Fatalf("message %d is %q, want %q (order or duplicate)", i, m.Body, want.Body)
		}
	}
	if err := b.MarkRead(aID); err != nil {
		t.Fatal(err)
	}
	// Bob's delivery and read receipts go to Alice's mailbox: she is away.
	b.waitUntil("bob's receipts deposited", func() bool { return outboxLen(t, b, aID) == 0 })
	h.waitUntil("helper let go of bob's items", func() bool { return heldFor(t, h, bID).Items == 0 })
	b.stop()

	a = newTestNode(t, aHome, withBootstrap(h.Addrs()[0].String()), depositAt)
	for _, m := range sent {
		a.waitState(bID, m.ID, storage.StateRead)
	}
	h.waitUntil("helper let go of alice's items", func() bool { return heldFor(t, h, aID).Items == 0 })
}

// incompressible is a random text no compressor shortens in a store's
// files: 12 characters from 20,992 CJK ideographs, so that no four bytes of
// it are likely to repeat elsewhere (Snappy's back-references need four).
func incompressible() string {
	var b [24]byte
	rand.Read(b[:])
	var out []rune
	for i := 0; i < len(b); i += 2 {
		out = append(out, 0x4e00+rune(uint16(b[i])<<8|uint16(b[i+1]))%20992)
	}
	return string(out)
}

func heldFor(t *testing.T, h *testNode, p peer.ID) mailbox.Held {
	t.Helper()
	hs, err := h.MailboxHeld()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range hs {
		if x.Recipient == p {
			return x
		}
	}
	t.Fatalf("helper holds no mailbox for %s", p)
	return mailbox.Held{}
}

func outboxLen(t *testing.T, n *testNode, p peer.ID) int {
	t.Helper()
	var es []storage.OutboxEntry
	if err := n.store.View(func(tx *storage.Txn) (err error) { es, err = tx.Outbox(p); return err }); err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// textsIn counts the texts found in any file under dir; it reads each file
// once (Badger's value log is sparse but large).
func textsIn(t *testing.T, dir string, texts []string) int {
	t.Helper()
	files, found := 0, map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, text := range texts {
			if bytes.Contains(b, []byte(text)) {
				found[text] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under %s", dir)
	}
	return len(found)
}

// TestMailboxKilledDuringDrain: the mailbox (a helper in a child process)
// is killed with SIGKILL as soon as Bob committed his first drained batch,
// and restarted on its home and port. Bob goes on draining by himself and
// ends with every message exactly once; the mailbox ends holding nothing.
func TestMailboxKilledDuringDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	useTCP(t)
	hHome := t.TempDir()
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freeLoopbackPort(t))
	h := startChild(t, hHome, listen, "", envHelper+"=1")
	defer func() {
		if h != nil {
			h.cmd.Process.Kill()
			h.cmd.Wait()
		}
	}()
	hAddr := listen + "/p2p/" + h.id.String()
	bHome := t.TempDir()
	a, b := mailboxContacts(t, h.id, hAddr, "", bHome)
	aID, bID := a.ID(), b.ID()
	b.stop()

	const count = 1000
	var sent []storage.Message
	for i := range count {
		sent = append(sent, a.send(bID, fmt.Sprint("kept safe ", i)))
	}
	for _, m := range sent {
		a.waitState(bID, m.ID, storage.StateInMailbox)
	}

	b = newTestNode(t, bHome, withBootstrap(hAddr), depositAt)
	b.waitEvent("bob's first drained message", func(e Event) bool {
		return e.Type == EventMessage && e.Peer == aID
	})
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	var got int
	if ms, err := b.Messages(aID, 2*count, zeroTime); err == nil {
		got = len(ms) - 2 // the greetings
	}
	if got <= 0 || got >= count {
		t.Fatalf("bob had %d of %d messages when the mailbox was killed: not in the middle of the drain", got, count)
	}
	t.Logf("mailbox killed with %d of %d messages committed", got, count)
	h = startChild(t, hHome, listen, "", envHelper+"=1")

	b.waitUntil("bob has every message", func() bool {
		ms, err := b.Messages(aID, 2*count, zeroTime)
		return err == nil && len(ms) == count+2
	})
	for _, m := range sent {
		a.waitState(bID, m.ID, storage.StateDelivered)
	}
	b.stop()
	ids := storedIDs(t, bHome, aID) // fails on a duplicate
	for _, m := range sent {
		if !ids[m.ID] {
			t.Fatalf("message %s lost", m.ID)
		}
	}
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	h = nil
	st, err := storage.Open(storage.Config{Dir: hHome + "/store"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(func(tx *storage.Txn) error {
		regs, err := tx.MailboxRegistrations()
		for _, r := range regs {
			if r.Items != 0 {
				return fmt.Errorf("the mailbox still holds %d items for %s", r.Items, r.Recipient)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMailboxStrangerFlood: a stranger who fetched Bob's bundle (which
// names his mailbox) floods it while Bob is away: the mailbox takes no more
// of it than Bob's request limits, each deposit paying Bob's stamp, and
// Alice's messages still get in and reach Bob when he is back.
func TestMailboxStrangerFlood(t *testing.T) {
	useTCP(t)
	bHome := t.TempDir()
	// Bob asks strangers for a small stamp, so that the mailbox checks them.
	stamped := func(c *Config) { c.StampDifficulty, c.NoStamp = 4, false }
	h, a, b := mailboxPair(t, "", bHome, stamped)
	bID := b.ID()
	s := newTestNode(t, "", withBootstrap(h.Addrs()[0].String()), depositAt)
	if _, err := s.AddContact(t.Context(), b.invite(), ""); err != nil {
		t.Fatal(err)
	}
	s.waitState(bID, s.send(bID, "hello, a stranger here").ID, storage.StateDelivered)
	s.waitUntil("the stranger learnt bob's mailbox from his bundle", func() bool {
		ks, err := s.MailboxesOf(bID)
		return err == nil && len(ks) == 1 && !ks[0].Capability
	})
	b.stop()

	const flood = 60
	var floodSent []storage.Message
	for i := range flood {
		floodSent = append(floodSent, s.send(bID, fmt.Sprint("buy now ", i)))
	}
	limit := mailbox.DefaultLimits.PerStrangerItems
	s.waitUntil("the stranger's deposits capped", func() bool { return heldFor(t, h, bID).StrangerItems == limit })

	var fromAlice []storage.Message
	for i := range 5 {
		fromAlice = append(fromAlice, a.send(bID, fmt.Sprint("dinner at ", 7+i)))
	}
	for _, m := range fromAlice {
		a.waitState(bID, m.ID, storage.StateInMailbox)
	}
	held := heldFor(t, h, bID)
	if held.StrangerItems != limit || held.Items != limit+len(fromAlice) {
		t.Fatalf("mailbox holds %d items, %d from strangers; want %d and %d", held.Items, held.StrangerItems, limit+len(fromAlice), limit)
	}
	inMailbox := 0
	for _, m := range floodSent {
		if s.message(bID, m.ID).State == storage.StateInMailbox {
			inMailbox++
		}
	}
	if inMailbox != limit {
		t.Fatalf("%d of the stranger's messages in the mailbox, want %d (the rest wait in its outbox)", inMailbox, limit)
	}

	b = newTestNode(t, bHome, withBootstrap(h.Addrs()[0].String()), depositAt, stamped)
	for _, m := range fromAlice {
		a.waitState(bID, m.ID, storage.StateDelivered)
		if got := b.message(a.ID(), m.ID); got.Body != m.Body {
			t.Fatalf("bob has %q, want %q", got.Body, m.Body)
		}
	}
}

// TestMailboxFirstContact: Alice takes Bob's invite while Bob is away and
// writes first. Bob's mailbox, named in the invite, serves his prekey
// bundle, so Alice starts a session and deposits; Bob finds her message
// when he is back. With a one-time token the invite carries a capability;
// without one Alice deposits as a stranger and pays Bob's stamp.
func TestMailboxFirstContact(t *testing.T) {
	for _, oneTime := range []bool{true, false} {
		t.Run(fmt.Sprint("one-time token ", oneTime), func(t *testing.T) {
			useTCP(t)
			stamped := func(c *Config) { c.StampDifficulty, c.NoStamp = 4, false }
			h := newTestNode(t, "", asHelper)
			boot := withBootstrap(h.Addrs()[0].String())
			bHome := t.TempDir()
			b := newTestNode(t, bHome, boot, stamped)
			if _, err := b.AppointMailbox(t.Context(), h.ID(), time.Time{}); err != nil {
				t.Fatal(err)
			}
			invite, err := b.NewInvite(oneTime)
			if err != nil {
				t.Fatal(err)
			}
			bID := b.ID()
			b.stop()

			a := newTestNode(t, "", boot, depositAt)
			if _, err := a.AddContact(t.Context(), invite, "bob"); err != nil {
				t.Fatal(err)
			}
			ks, err := a.MailboxesOf(bID)
			if err != nil || len(ks) != 1 || ks[0].Mailbox != h.ID() || ks[0].Capability != oneTime {
				t.Fatalf("mailboxes from the invite: %+v, %v", ks, err)
			}
			m := a.send(bID, "hello bob, we have not met online")
			a.waitState(bID, m.ID, storage.StateInMailbox)

			b = newTestNode(t, bHome, boot, stamped)
			b.waitUntil("bob has alice's first message", func() bool {
				ms, err := b.Messages(a.ID(), 10, zeroTime)
				return err == nil && len(ms) == 1 && ms[0].ID == m.ID
			})
			a.waitState(bID, m.ID, storage.StateDelivered)
		})
	}
}

// TestMailboxDepositorHidden: a contact deposits from a throwaway identity,
// so the mailbox never sees the depositor's peer ID on a deposit; a
// stranger deposits as itself (its stamps name it anyway).
func TestMailboxDepositorHidden(t *testing.T) {
	useTCP(t) // a mocknet cannot make throwaway hosts
	deposits := &depositLog{}
	h := newTestNode(t, "", asHelper, func(c *Config) { c.Logger = slog.New(deposits) })
	a, b := mailboxContacts(t, h.ID(), h.Addrs()[0].String(), "", "")
	bID := b.ID()
	b.stop()
	m := a.send(bID, "only bob knows this is from me")
	a.waitState(bID, m.ID, storage.StateInMailbox)
	froms := deposits.froms()
	if len(froms) == 0 {
		t.Fatal("no deposit seen at the mailbox")
	}
	for _, f := range froms {
		if f == a.ID().String() {
			t.Fatalf("the mailbox saw alice's peer ID on a deposit")
		}
	}
}

// depositLog keeps the "from" of the mailbox's deposit records.
type depositLog struct {
	mu   sync.Mutex
	from []string
}

func (l *depositLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *depositLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "mailbox: deposit" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "from" {
			l.mu.Lock()
			l.from = append(l.from, a.Value.String())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *depositLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *depositLog) WithGroup(string) slog.Handler      { return l }

func (l *depositLog) froms() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.from...)
}
