package node

import (
	"testing"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// TestStampRequired: a node that asks strangers for proof of work gets it
// from an honest node (which reads the difficulty from the bundle), and
// refuses a stranger's message without it.
func TestStampRequired(t *testing.T) {
	a := newTestNode(t, "", func(c *Config) { c.StampDifficulty = 6 }) // cheap, for the test
	b := newTestNode(t, "")
	if _, err := b.AddContact(t.Context(), a.invite(), "a"); err != nil {
		t.Fatal(err)
	}
	m := b.send(a.ID(), "stamped hello")
	b.waitState(a.ID(), m.ID, storage.StateDelivered)
	if reqs, _ := a.Requests(); !threadPeers(reqs)[b.ID()] {
		t.Fatal("stamped request not in requests")
	}

	rp := newRawPeer(t)
	rp.connect(a)
	rp.startSession(a)
	acks, reset := rp.exchange(a, rp.envelope("no stamp"), 1)
	if reset || len(acks) != 1 {
		t.Fatalf("%d acks, reset %v", len(acks), reset)
	}
	if acks[0].Status != dmpb.Ack_RETRY_LATER {
		t.Fatalf("unstamped request: ack %v, want RETRY_LATER", acks[0].Status)
	}
	if ms, _ := a.Messages(rp.h.ID(), 10, zeroTime); len(ms) != 0 {
		t.Fatal("unstamped request stored")
	}
}

// TestInviteTokenSkipsStamp: a one-time invite token lets its first user
// write without a stamp; the token works once.
func TestInviteTokenSkipsStamp(t *testing.T) {
	a := newTestNode(t, "", func(c *Config) { c.StampDifficulty = 24 }) // far too costly to pay
	b := newTestNode(t, "")
	link, err := a.NewInvite(true)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := ParseInvite(link)
	if err != nil || inv.Token == "" {
		t.Fatalf("one-time invite %q: %v", link, err)
	}
	if _, err := b.AddContact(t.Context(), link, "a"); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"hello with a token", "and again"} {
		m := b.send(a.ID(), text)
		b.waitState(a.ID(), m.ID, storage.StateDelivered)
	}
	if ms, _ := a.Messages(b.ID(), 10, zeroTime); len(ms) != 2 {
		t.Fatalf("a holds %d of b's messages, want 2", len(ms))
	}

	// The token is used up: a raw peer replaying it must still stamp.
	rp := newRawPeer(t)
	rp.connect(a)
	rp.startSession(a)
	frame := rp.envelopeWithToken("replayed token", inv.Token)
	acks, _ := rp.exchange(a, frame, 1)
	if len(acks) != 1 || acks[0].Status != dmpb.Ack_RETRY_LATER {
		t.Fatalf("reused token: acks %v, want RETRY_LATER", acks)
	}
}

// TestStampDefault: a node configured with nothing about stamps publishes
// DefaultStampDifficulty (the 11 bits DESIGN.md documents) in its bundle
// and refuses a stranger's message without a stamp; NoStamp turns it off.
func TestStampDefault(t *testing.T) {
	if DefaultStampDifficulty != 11 {
		t.Fatalf("DefaultStampDifficulty = %d; DESIGN.md and --stamp-difficulty's help say 11", DefaultStampDifficulty)
	}
	for _, tt := range []struct {
		name    string
		noStamp bool
		want    uint8
		status  dmpb.Ack_Status
	}{
		{"default", false, DefaultStampDifficulty, dmpb.Ack_RETRY_LATER},
		{"NoStamp", true, 0, dmpb.Ack_OK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestNode(t, "", func(c *Config) { c.NoStamp = tt.noStamp })
			rp := newRawPeer(t)
			rp.connect(a)
			if b := rp.startSession(a); b.StampDifficulty != tt.want {
				t.Fatalf("bundle asks %d bits, want %d", b.StampDifficulty, tt.want)
			}
			acks, reset := rp.exchange(a, rp.envelope("no stamp"), 1)
			if reset || len(acks) != 1 || acks[0].Status != tt.status {
				t.Fatalf("unstamped request: acks %v, reset %v; want %v", acks, reset, tt.status)
			}
		})
	}
}
