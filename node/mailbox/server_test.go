package mailbox

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/internal/loopback"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2.(*ZapEventLogger).Warn"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
		goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators"),
	)
}

// newTestService is a mailbox service on an in-memory store and a mocknet
// host; its requests are answered by calling answer, not over streams.
func newTestService(t testing.TB, helper bool, limits Limits) *Service {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	return newTestServiceOn(t, mn, helper, limits)
}

// newTestServiceOn is newTestService on a mocknet shared with others.
func newTestServiceOn(t testing.TB, mn mocknet.Mocknet, helper bool, limits Limits) *Service {
	t.Helper()
	st, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := env.LoadOrCreateIdentity(st)
	if err != nil {
		t.Fatal(err)
	}
	net, err := p2p.New(p2p.Config{
		Key: id.Signing().Libp2p(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &loopback.Gater{},
		Logger: slog.New(slog.DiscardHandler),
		NewHost: func(k lcrypto.PrivKey) (host.Host, error) {
			h, err := mn.AddPeer(k, ma.StringCast("/ip4/127.0.0.1/tcp/4001"))
			if err != nil {
				return nil, err
			}
			return h, mn.LinkAll()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	life := env.NewLifetime()
	s := New(Config{
		Env:    env.Env{Store: st, Identity: id, Net: net, Log: slog.New(slog.DiscardHandler), Life: life, Clock: &env.SendClock{}},
		Helper: helper, Limits: limits, Sender: fakeSender{id},
	})
	t.Cleanup(func() {
		s.Close()
		life.Cancel()
		net.Close()
		life.Wait()
		st.Close()
	})
	return s
}

// fakeSender stands for the 1:1 service: it sends no lists and makes
// bundles from the identity.
type fakeSender struct{ id identity.Identity }

func (fakeSender) SendMailboxList(peer.ID, []byte) error { return nil }

func (fakeSender) Answered(peer.ID) bool { return true }

func (f fakeSender) MailboxBundle() ([]byte, error) { return bundleOf(f.id) }

// bundleOf is a bundle of id as a recipient gives its mailbox.
func bundleOf(id identity.Identity) ([]byte, error) {
	spk := id.NewSignedPreKey(1, time.Now().Add(24*time.Hour))
	return id.NewBundle(spk.SignedPreKey, nil, 0).MarshalBinary()
}

// recipient is an identity that appoints the service's node.
type recipient struct {
	id  identity.Identity
	pid peer.ID
	ck  mbcrypto.CapabilityKey
	ls  mbcrypto.LabelSecret
}

func newRecipient() recipient {
	id := identity.New()
	return recipient{id: id, pid: id.Public().Key.PeerID(), ck: mbcrypto.NewCapabilityKey(), ls: mbcrypto.NewLabelSecret()}
}

func (r recipient) appoint(t testing.TB, s *Service, difficulty uint32) error {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	a, err := mbcrypto.NewAppointment(r.id.Signing(), s.env.Net.Host().ID(), now, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.answer(r.pid, &mailboxpb.Request{Body: &mailboxpb.Request_Appoint{Appoint: &mailboxpb.Appoint{
		Appointment: b, CapabilityKey: r.ck[:], StampDifficulty: difficulty,
	}}})
	return err
}

func deposit(s *Service, from peer.ID, to peer.ID, capability []byte, sizes ...int) (*mailboxpb.Response, error) {
	d := &mailboxpb.Deposit{Recipient: []byte(to), Capability: capability}
	for _, n := range sizes {
		d.Items = append(d.Items, &mailboxpb.Item{Sealed: make([]byte, n)})
	}
	return s.answer(from, &mailboxpb.Request{Body: &mailboxpb.Request_Deposit{Deposit: d}})
}

func TestServeAppoint(t *testing.T) {
	other := newRecipient()
	for _, tc := range []struct {
		name    string
		helper  bool
		contact bool
		req     func(s *Service, r recipient) *mailboxpb.Appoint
		want    error
	}{
		{name: "helper takes anyone", helper: true},
		{name: "a node refuses a stranger", want: ErrRefused},
		{name: "a node refuses a contact until its user agreed", contact: true, want: ErrRefused},
		{name: "appointment signed by someone else", helper: true, want: errs.ErrProtocol, req: func(s *Service, r recipient) *mailboxpb.Appoint {
			now := time.Now().Truncate(time.Second)
			a, _ := mbcrypto.NewAppointment(other.id.Signing(), s.env.Net.Host().ID(), now, now.Add(time.Hour))
			b, _ := a.MarshalBinary()
			return &mailboxpb.Appoint{Appointment: b, CapabilityKey: r.ck[:]}
		}},
		{name: "appointment of another mailbox", helper: true, want: errs.ErrProtocol, req: func(s *Service, r recipient) *mailboxpb.Appoint {
			now := time.Now().Truncate(time.Second)
			a, _ := mbcrypto.NewAppointment(r.id.Signing(), other.pid, now, now.Add(time.Hour))
			b, _ := a.MarshalBinary()
			return &mailboxpb.Appoint{Appointment: b, CapabilityKey: r.ck[:]}
		}},
		{name: "too far ahead", helper: true, want: ErrRefused, req: func(s *Service, r recipient) *mailboxpb.Appoint {
			now := time.Now().Truncate(time.Second)
			a, _ := mbcrypto.NewAppointment(r.id.Signing(), s.env.Net.Host().ID(), now, now.Add(5*365*24*time.Hour))
			b, _ := a.MarshalBinary()
			return &mailboxpb.Appoint{Appointment: b, CapabilityKey: r.ck[:]}
		}},
		{name: "short capability key", helper: true, want: errs.ErrProtocol, req: func(s *Service, r recipient) *mailboxpb.Appoint {
			now := time.Now().Truncate(time.Second)
			a, _ := mbcrypto.NewAppointment(r.id.Signing(), s.env.Net.Host().ID(), now, now.Add(time.Hour))
			b, _ := a.MarshalBinary()
			return &mailboxpb.Appoint{Appointment: b, CapabilityKey: r.ck[:8]}
		}},
		{name: "garbage", helper: true, want: errs.ErrProtocol, req: func(*Service, recipient) *mailboxpb.Appoint {
			return &mailboxpb.Appoint{Appointment: []byte("nope")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestService(t, tc.helper, Limits{})
			r := newRecipient()
			if tc.contact {
				now := time.Now()
				err := s.update(func(tx *storage.Txn) error {
					return tx.PutContact(storage.Contact{Peer: r.pid, State: storage.ContactAccepted, Created: now, Updated: now})
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if tc.req == nil {
				err = r.appoint(t, s, 0)
			} else {
				_, err = s.answer(r.pid, &mailboxpb.Request{Body: &mailboxpb.Request_Appoint{Appoint: tc.req(s, r)}})
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("appoint: %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("a node takes a contact once its user agreed", func(t *testing.T) {
		s := newTestService(t, false, Limits{})
		r := newRecipient()
		now := time.Now()
		if err := s.update(func(tx *storage.Txn) error {
			return tx.PutContact(storage.Contact{Peer: r.pid, State: storage.ContactAccepted, Created: now, Updated: now})
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetServeContacts(true); err != nil {
			t.Fatal(err)
		}
		if err := r.appoint(t, s, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("recipients bounded", func(t *testing.T) {
		l := DefaultLimits
		l.MaxRecipients = 2
		s := newTestService(t, true, l)
		for i := range 3 {
			err := newRecipient().appoint(t, s, 0)
			if (i < 2) != (err == nil) {
				t.Fatalf("recipient %d: %v", i, err)
			}
		}
	})
}

func TestServeDeposit(t *testing.T) {
	l := DefaultLimits
	l.PerDepositorItems, l.PerRecipientItems, l.PerStrangerItems = 3, 6, 2
	s := newTestService(t, true, l)
	bob, alice, carol := newRecipient(), newRecipient(), newRecipient()
	stranger := newRecipient().pid
	if err := bob.appoint(t, s, 0); err != nil {
		t.Fatal(err)
	}
	aliceCap := mbcrypto.MakeCapability(bob.ck, bob.ls, alice.pid)
	carolCap := mbcrypto.MakeCapability(bob.ck, bob.ls, carol.pid)
	forged := mbcrypto.MakeCapability(mbcrypto.NewCapabilityKey(), bob.ls, alice.pid)
	for _, tc := range []struct {
		name       string
		from, to   peer.ID
		capability []byte
		sizes      []int
		accepted   uint32
		refused    string
		err        error
	}{
		{name: "no mailbox for that recipient", from: alice.pid, to: carol.pid, capability: aliceCap[:], sizes: []int{10}, err: ErrRefused},
		{name: "forged capability", from: alice.pid, to: bob.pid, capability: forged[:], sizes: []int{10}, err: ErrRefused},
		{name: "malformed capability", from: alice.pid, to: bob.pid, capability: []byte{1, 2}, sizes: []int{10}, err: errs.ErrProtocol},
		{name: "empty item", from: alice.pid, to: bob.pid, capability: aliceCap[:], sizes: []int{0}, err: errs.ErrProtocol},
		{name: "oversized item", from: alice.pid, to: bob.pid, capability: aliceCap[:], sizes: []int{mbcrypto.MaxSealed + 1}, err: errs.ErrProtocol},
		{name: "a contact, up to its quota", from: alice.pid, to: bob.pid, capability: aliceCap[:], sizes: []int{10, 10, 10, 10}, accepted: 3, refused: "too much held from you"},
		{name: "the capability, not the connection, is who deposits", from: stranger, to: bob.pid, capability: aliceCap[:], sizes: []int{10}, refused: "too much held from you"},
		{name: "a stranger, up to its limit", from: stranger, to: bob.pid, sizes: []int{10, 10, 10}, accepted: 2, refused: "wait for the recipient to accept"},
		{name: "recipient full", from: carol.pid, to: bob.pid, capability: carolCap[:], sizes: []int{10, 10}, accepted: 1, refused: "mailbox is full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := deposit(s, tc.from, tc.to, tc.capability, tc.sizes...)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("deposit: %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Accepted != tc.accepted || !strings.Contains(resp.Refused, tc.refused) || (tc.refused == "") != (resp.Refused == "") {
				t.Fatalf("accepted %d refused %q, want %d and %q", resp.Accepted, resp.Refused, tc.accepted, tc.refused)
			}
		})
	}
	held, err := s.Held()
	if err != nil || len(held) != 1 || held[0].Items != 6 || held[0].StrangerItems != 2 {
		t.Fatalf("held %+v, %v; want 6 items, 2 from strangers", held, err)
	}
}

func TestServeFetchAndDelete(t *testing.T) {
	s := newTestService(t, true, Limits{})
	bob, alice := newRecipient(), newRecipient()
	if err := bob.appoint(t, s, 0); err != nil {
		t.Fatal(err)
	}
	c := mbcrypto.MakeCapability(bob.ck, bob.ls, alice.pid)
	sizes := make([]int, maxFetchItems+10)
	for i := range sizes {
		sizes[i] = 100
	}
	if resp, err := deposit(s, alice.pid, bob.pid, c[:], sizes...); err != nil || int(resp.Accepted) != len(sizes) {
		t.Fatalf("deposit: %v %v", resp, err)
	}
	fetch := func(from peer.ID, after uint64) (*mailboxpb.Response, error) {
		return s.answer(from, &mailboxpb.Request{Body: &mailboxpb.Request_Fetch{Fetch: &mailboxpb.Fetch{After: after}}})
	}
	if _, err := fetch(alice.pid, 0); !errors.Is(err, ErrRefused) {
		t.Fatalf("alice fetching bob's mail: %v, want refused", err)
	}
	r1, err := fetch(bob.pid, 0)
	if err != nil || len(r1.Items) != maxFetchItems || !r1.More {
		t.Fatalf("first fetch: %d items, more %v, %v", len(r1.Items), r1.More, err)
	}
	r2, err := fetch(bob.pid, r1.Items[len(r1.Items)-1].Seq)
	if err != nil || len(r2.Items) != 10 || r2.More {
		t.Fatalf("second fetch: %d items, more %v, %v", len(r2.Items), r2.More, err)
	}
	var seqs []uint64
	for _, it := range append(r1.Items, r2.Items...) {
		seqs = append(seqs, it.Seq)
	}
	// Alice cannot delete Bob's mail: a delete names the asker's queue.
	if _, err := s.answer(alice.pid, &mailboxpb.Request{Body: &mailboxpb.Request_Delete{Delete: &mailboxpb.Delete{Seqs: seqs}}}); err != nil {
		t.Fatal(err)
	}
	if held, _ := s.Held(); held[0].Items != len(sizes) {
		t.Fatalf("after alice's delete: %d items, want %d", held[0].Items, len(sizes))
	}
	if _, err := s.answer(bob.pid, &mailboxpb.Request{Body: &mailboxpb.Request_Delete{Delete: &mailboxpb.Delete{Seqs: seqs}}}); err != nil {
		t.Fatal(err)
	}
	if held, _ := s.Held(); held[0].Items != 0 || held[0].Bytes != 0 {
		t.Fatalf("after bob's delete: %+v", held[0])
	}
}

func TestSweepExpires(t *testing.T) {
	s := newTestService(t, true, Limits{})
	bob, alice := newRecipient(), newRecipient()
	if err := bob.appoint(t, s, 0); err != nil {
		t.Fatal(err)
	}
	c := mbcrypto.MakeCapability(bob.ck, bob.ls, alice.pid)
	if _, err := deposit(s, alice.pid, bob.pid, c[:], 10, 10); err != nil {
		t.Fatal(err)
	}
	s.cfg.Now = func() time.Time { return time.Now().Add(DefaultLimits.TTL + time.Hour) }
	if err := s.Sweep(); err != nil {
		t.Fatal(err)
	}
	if held, err := s.Held(); err != nil || len(held) != 0 {
		t.Fatalf("after the TTL and the appointment's end: %+v, %v", held, err)
	}
}

// FuzzAnswer: no request, however malformed, panics the mailbox.
func FuzzAnswer(f *testing.F) {
	s := newTestService(f, true, Limits{})
	bob := newRecipient()
	if err := bob.appoint(f, s, 0); err != nil {
		f.Fatal(err)
	}
	c := mbcrypto.MakeCapability(bob.ck, bob.ls, bob.pid)
	for _, req := range []*mailboxpb.Request{
		{Body: &mailboxpb.Request_Deposit{Deposit: &mailboxpb.Deposit{Recipient: []byte(bob.pid), Capability: c[:], Items: []*mailboxpb.Item{{Sealed: []byte{1}}}}}},
		{Body: &mailboxpb.Request_Deposit{Deposit: &mailboxpb.Deposit{Recipient: []byte(bob.pid), Items: []*mailboxpb.Item{{Sealed: []byte{1}, Stamp: []byte{2}}}}}},
		{Body: &mailboxpb.Request_Fetch{Fetch: &mailboxpb.Fetch{After: 1}}},
		{Body: &mailboxpb.Request_Delete{Delete: &mailboxpb.Delete{Seqs: []uint64{1, 2}}}},
		{Body: &mailboxpb.Request_Appoint{Appoint: &mailboxpb.Appoint{Appointment: []byte{1}}}},
		{Body: &mailboxpb.Request_Revoke{Revoke: &mailboxpb.Revoke{}}},
		{Body: &mailboxpb.Request_Notify{Notify: &mailboxpb.Notify{}}},
	} {
		b, _ := proto.Marshal(req)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req mailboxpb.Request
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		_, _ = s.answer(bob.pid, &req)
	})
}

// FuzzCheckList: a contact's mailbox list is checked without panicking, and
// one that passes names only the contact's own appointments.
func FuzzCheckList(f *testing.F) {
	bob := newRecipient()
	now := time.Now().Truncate(time.Second)
	a, _ := mbcrypto.NewAppointment(bob.id.Signing(), newRecipient().pid, now, now.Add(time.Hour))
	ab, _ := a.MarshalBinary()
	c := mbcrypto.MakeCapability(bob.ck, bob.ls, bob.pid)
	good, _ := proto.Marshal(&mailboxpb.MailboxList{Entries: []*mailboxpb.MailboxList_Entry{{Appointment: ab, Addrs: []string{"/ip4/127.0.0.1/tcp/1"}}}, Capability: c[:], Version: 1})
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := checkList(bob.pid, b)
		if err != nil {
			return
		}
		for _, e := range l.Entries {
			a, err := mbcrypto.UnmarshalAppointment(e.Appointment)
			if err != nil || a.Recipient != bob.id.Public().Key {
				t.Fatalf("list passed with an appointment of %v (%v)", a.Recipient, err)
			}
		}
	})
}

// TestRenewDue: a running node appoints its mailbox again once a third of
// the appointment's time is left, for as long again.
func TestRenewDue(t *testing.T) {
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	h := newTestServiceOn(t, mn, true, Limits{})
	r := newTestServiceOn(t, mn, false, Limits{})
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	if err := h.Handlers(); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	if _, err := r.Appoint(t.Context(), h.env.Net.Host().ID(), start.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.renewDue(t.Context()) // a whole life left: nothing to do
	if mine, _ := r.Mine(); len(mine) != 1 || !mine[0].Expires.Equal(start.Add(30*time.Hour)) {
		t.Fatalf("renewed too early: %+v", mine)
	}
	later := start.Add(21 * time.Hour) // 9 h of 30 left
	r.cfg.Now = func() time.Time { return later }
	h.cfg.Now = r.cfg.Now
	r.renewDue(t.Context())
	mine, err := r.Mine()
	if err != nil || len(mine) != 1 || !mine[0].Expires.Equal(later.Add(30*time.Hour)) {
		t.Fatalf("after renewal: %+v, %v; want expiry %s", mine, err, later.Add(30*time.Hour))
	}
	held, err := h.Held()
	if err != nil || len(held) != 1 || !held[0].Expires.Equal(later.Add(30*time.Hour)) {
		t.Fatalf("the mailbox holds %+v, %v", held, err)
	}
}

// TestServeBundle: a mailbox keeps the bundle its recipient gives it, only
// the recipient's own and without a one-time prekey, and hands it to anyone
// who asks, within a rate limit.
func TestServeBundle(t *testing.T) {
	s := newTestService(t, true, Limits{})
	bob, other := newRecipient(), newRecipient()
	if err := bob.appoint(t, s, 0); err != nil {
		t.Fatal(err)
	}
	put := func(from peer.ID, b []byte) error {
		_, err := s.answer(from, &mailboxpb.Request{Body: &mailboxpb.Request_PutBundle{PutBundle: &mailboxpb.PutBundle{Bundle: b}}})
		return err
	}
	get := func(asker, of peer.ID) ([]byte, error) {
		resp, err := s.answer(asker, &mailboxpb.Request{Body: &mailboxpb.Request_GetBundle{GetBundle: &mailboxpb.GetBundle{Recipient: []byte(of)}}})
		if err != nil {
			return nil, err
		}
		return resp.Bundle, nil
	}
	if _, err := get(other.pid, bob.pid); !errors.Is(err, ErrRefused) {
		t.Fatalf("a bundle before bob gave one: %v", err)
	}
	own, _ := bundleOf(bob.id)
	foreign, _ := bundleOf(other.id)
	spk := bob.id.NewSignedPreKey(2, time.Now().Add(time.Hour))
	otk := identity.NewOneTimePreKey(3)
	withOTK, _ := bob.id.NewBundle(spk.SignedPreKey, &otk.OneTimePreKey, 0).MarshalBinary()
	for name, b := range map[string][]byte{"another identity's": foreign, "with a one-time prekey": withOTK, "garbage": []byte("x")} {
		if err := put(bob.pid, b); !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("bundle %s: %v, want a protocol error", name, err)
		}
	}
	if err := put(other.pid, foreign); !errors.Is(err, ErrRefused) {
		t.Errorf("a bundle from a peer with no mailbox here: %v", err)
	}
	if err := put(bob.pid, own); err != nil {
		t.Fatal(err)
	}
	got, err := get(other.pid, bob.pid)
	if err != nil || !bytes.Equal(got, own) {
		t.Fatalf("bundle served: %v", err)
	}
	var limited bool
	for range 2 * bundleBurst {
		if _, err := get(other.pid, bob.pid); errors.Is(err, ErrRefused) {
			limited = true
		}
	}
	if !limited {
		t.Error("bundle requests are not rate limited")
	}
}
