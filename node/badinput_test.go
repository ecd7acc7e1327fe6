package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// rawPeer is a hand-driven libp2p peer that speaks the DM protocol by hand,
// to feed a node what an honest node never sends.
type rawPeer struct {
	t     *testing.T
	id    identity.Identity
	h     host.Host
	gater *LoopbackGater
	sess  *ratchet.Session
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	id := identity.New()
	g := &LoopbackGater{}
	h, err := newTestHost(t, id.Signing().Libp2p(), g)
	if err != nil {
		t.Fatal(err)
	}
	rp := &rawPeer{t: t, id: id, h: h, gater: g}
	t.Cleanup(func() {
		h.Close()
		if g.Refused() != 0 {
			t.Errorf("raw peer's gater refused %d dials", g.Refused())
		}
	})
	return rp
}

func (rp *rawPeer) connect(n *testNode) {
	rp.t.Helper()
	if err := rp.h.Connect(context.Background(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.Host().Addrs()}); err != nil {
		rp.t.Fatal(err)
	}
}

// startSession fetches n's bundle over the prekeys protocol, starts a
// ratchet session with it and returns the bundle.
func (rp *rawPeer) startSession(n *testNode) identity.Bundle {
	rp.t.Helper()
	s, err := rp.h.NewStream(context.Background(), n.ID(), ProtocolPreKeys)
	if err != nil {
		rp.t.Fatal(err)
	}
	defer s.Close()
	if err := writeFrame(s, &dmpb.PreKeyRequest{}); err != nil {
		rp.t.Fatal(err)
	}
	var resp dmpb.PreKeyResponse
	if err := readFrame(bufio.NewReader(s), &resp); err != nil {
		rp.t.Fatal(err)
	}
	b, err := identity.UnmarshalBundle(resp.Bundle)
	if err != nil {
		rp.t.Fatal(err)
	}
	if rp.sess, err = ratchet.Initiate(rp.id, b, time.Now()); err != nil {
		rp.t.Fatal(err)
	}
	return b
}

// envelope encrypts a text message into a frame.
func (rp *rawPeer) envelope(text string) []byte { return rp.envelopeWithToken(text, "") }

// envelopeWithToken is envelope with an invite token (hex) attached.
func (rp *rawPeer) envelopeWithToken(text, token string) []byte {
	rp.t.Helper()
	tok, _ := hex.DecodeString(token)
	id := dm.NewMessageID()
	pt, _ := proto.Marshal(&dmpb.Content{Id: id[:], SentUnixNano: time.Now().UnixNano(),
		Body: &dmpb.Content_Text{Text: &dmpb.Text{Body: text}}})
	m, err := rp.sess.Encrypt(pt)
	if err != nil {
		rp.t.Fatal(err)
	}
	rm, _ := m.MarshalBinary()
	f, _ := appendFrame(nil, &dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: &dmpb.Envelope{Id: id[:], RatchetMessage: rm, InviteToken: tok}}})
	return f
}

// exchange writes raw bytes on a new DM stream and reads what comes back:
// the acks, and whether the node reset the stream.
func (rp *rawPeer) exchange(n *testNode, data []byte, wantAcks int) (acks []*dmpb.Ack, reset bool) {
	rp.t.Helper()
	s, err := rp.h.NewStream(context.Background(), n.ID(), ProtocolDM)
	if err != nil {
		rp.t.Fatal(err)
	}
	defer s.Close()
	go func() { s.Write(data) }()
	_ = s.SetReadDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(s)
	for len(acks) < wantAcks {
		var f dmpb.Frame
		if err := readFrame(r, &f); err != nil {
			return acks, errors.Is(err, network.ErrReset) || errors.Is(err, io.EOF)
		}
		acks = append(acks, f.GetAck())
	}
	if wantAcks == 0 {
		var f dmpb.Frame
		err := readFrame(r, &f)
		return acks, errors.Is(err, network.ErrReset) || errors.Is(err, io.EOF)
	}
	return acks, false
}

// TestBadInput feeds a node garbage, oversized frames, forged and replayed
// envelopes: each ends in a reset stream, nothing is stored twice, and the
// node keeps serving honest peers.
func TestBadInput(t *testing.T) {
	a := newTestNode(t, "")
	honest := newTestNode(t, "")
	if _, err := honest.AddContact(t.Context(), a.invite(), "a"); err != nil {
		t.Fatal(err)
	}
	rp := newRawPeer(t)
	rp.connect(a)
	rp.startSession(a)
	first := rp.envelope("a genuine request")

	other := newRawPeer(t) // someone whose envelope rp will replay as its own
	other.connect(a)
	other.startSession(a)
	foreign := other.envelope("not yours")

	oversized := appendUvarint(nil, maxFrameSize+1)
	tampered := append([]byte(nil), first...)
	tampered[len(tampered)-5] ^= 0x40

	tests := []struct {
		name      string
		data      []byte
		wantReset bool
		wantAcks  int
	}{
		{"garbage", []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xffnot a frame"), true, 0},
		{"oversized frame", append(oversized, make([]byte, 64)...), true, 0},
		{"not an envelope", mustFrame(t, &dmpb.Frame{Body: &dmpb.Frame_Ack{Ack: &dmpb.Ack{Id: make([]byte, 16)}}}), true, 0},
		{"bad message ID", mustFrame(t, &dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: &dmpb.Envelope{Id: []byte{1}}}}), true, 0},
		{"tampered ciphertext", tampered, true, 0},
		{"another peer's envelope", foreign, true, 0},
		{"genuine", first, false, 1},
		{"replay of the genuine one", first, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acks, reset := rp.exchange(a, tc.data, tc.wantAcks)
			if reset != tc.wantReset {
				t.Fatalf("stream reset = %v, want %v", reset, tc.wantReset)
			}
			if len(acks) != tc.wantAcks {
				t.Fatalf("%d acks, want %d", len(acks), tc.wantAcks)
			}
			for _, ack := range acks {
				if ack.Status != dmpb.Ack_OK {
					t.Fatalf("ack status %v (%s)", ack.Status, ack.Reason)
				}
			}
		})
	}
	if ms, _ := a.Messages(rp.h.ID(), 10, zeroTime); len(ms) != 1 {
		t.Fatalf("raw peer's thread holds %d messages, want exactly 1", len(ms))
	}
	// The node still serves honest peers.
	m := honest.send(a.ID(), "still there?")
	honest.waitState(a.ID(), m.ID, storage.StateDelivered)
}

// TestFlood: a stranger floods 10,000 requests; the node keeps its caps and
// keeps serving others.
func TestFlood(t *testing.T) {
	a := newTestNode(t, "", func(c *Config) {
		c.Limits = DefaultLimits
		c.Limits.RequestThreads = 3
	})
	honest := newTestNode(t, "") // a contact of a: strangers' caps do not apply
	if _, err := honest.AddContact(t.Context(), a.invite(), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddContact(t.Context(), honest.invite(), "honest"); err != nil {
		t.Fatal(err)
	}
	flooder := newRawPeer(t)
	flooder.connect(a)
	flooder.startSession(a)
	const flood = 10000
	var data []byte
	for i := range flood {
		data = append(data, flooder.envelope(fmt.Sprint("spam ", i))...)
	}
	acks, reset := flooder.exchange(a, data, flood)
	if reset || len(acks) != flood {
		t.Fatalf("flood: %d acks, reset %v", len(acks), reset)
	}
	ok := 0
	for _, ack := range acks {
		if ack.Status == dmpb.Ack_OK {
			ok++
		}
	}
	if ok > DefaultLimits.RequestMessagesPerSender {
		t.Fatalf("%d of the flood accepted, cap %d", ok, DefaultLimits.RequestMessagesPerSender)
	}
	if ms, _ := a.Messages(flooder.h.ID(), flood, zeroTime); len(ms) != ok || len(ms) > DefaultLimits.RequestMessagesPerSender {
		t.Fatalf("flooder's thread holds %d messages, %d acked, cap %d", len(ms), ok, DefaultLimits.RequestMessagesPerSender)
	}

	// More strangers than the requests inbox holds: the extra ones wait.
	for i := range 4 {
		rp := newRawPeer(t)
		rp.connect(a)
		rp.startSession(a)
		acks, _ := rp.exchange(a, rp.envelope(fmt.Sprint("hello ", i)), 1)
		if len(acks) != 1 {
			t.Fatalf("stranger %d: no ack", i)
		}
	}
	if reqs, _ := a.Requests(); len(reqs) > 3 {
		t.Fatalf("requests inbox holds %d threads, cap 3", len(reqs))
	}
	m := honest.send(a.ID(), "hello through the flood")
	honest.waitState(a.ID(), m.ID, storage.StateDelivered)
}

func mustFrame(t *testing.T, f *dmpb.Frame) []byte {
	b, err := appendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
