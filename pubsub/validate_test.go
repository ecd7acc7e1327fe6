package pubsub

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

func isBad(data string) bool { return strings.HasPrefix(data, "bad") }

// TestRejectNotForwarded: on a line A-B-C, what B rejects reaches neither
// B's subscriber nor C, while what B accepts reaches both.
func TestRejectNotForwarded(t *testing.T) {
	const name = "/test/line"
	a, wa := meshPubSub(t)
	b, wb := meshPubSub(t)
	c, wc := meshPubSub(t)
	connect(t, a, b)
	connect(t, b, c)
	vb := newRecorder(isBad)
	vc := newRecorder(nil)
	tc := join(t, c, name, vc.validate)
	tb := join(t, b, name, vb.validate)
	ta := join(t, a, name, acceptAll) // A's own validator lets the bad ones out
	waitMesh(t, wa, name, b)
	waitMesh(t, wb, name, a, c)
	waitMesh(t, wc, name, b)
	const k = 3
	for i := range k {
		publish(t, ta, fmt.Sprintf("bad %d", i))
		publish(t, ta, fmt.Sprintf("good %d", i))
	}

	var atB, atC []string
	for range k {
		atB = append(atB, string(next(t, tb).Data))
		atC = append(atC, string(next(t, tc).Data))
	}
	for range k {
		select {
		case <-vb.rejected:
		case <-time.After(deadline):
			t.Fatal("B did not reject every bad message")
		}
	}
	// B has now decided on everything A sent; a rejected message is never
	// forwarded, so C's validator must not have seen one.
	for _, s := range vc.saw() {
		if isBad(s) {
			t.Errorf("C saw %q, which B rejected", s)
		}
	}
	for _, got := range [][]string{atB, atC} {
		slices.Sort(got)
		if want := []string{"good 0", "good 1", "good 2"}; !slices.Equal(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
	}
}

// TestLocalReject: a node's own validator runs on its publishes; a rejected
// publish returns an error and is not delivered.
func TestLocalReject(t *testing.T) {
	a, b := testPubSub(t), testPubSub(t)
	connect(t, a, b)
	ta := join(t, a, "/test/localreject", newRecorder(isBad).validate)
	tb := join(t, b, "/test/localreject", acceptAll)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := ta.Publish(ctx, []byte("bad")); err == nil {
		t.Fatal("publishing what the own validator rejects succeeded")
	}
	publish(t, ta, "good")
	if m := next(t, tb); string(m.Data) != "good" {
		t.Fatalf("B received %q, want only good", m.Data)
	}
}

// TestScoringGraylists: a peer M that keeps sending messages B rejects falls
// below B's graylist threshold. Asserted deterministically through B's
// score inspector; B logs it once at INFO, and its Stats show the topic's
// two peers, M's score the lowest. The follow-up check that B then ignores M's valid
// messages is weaker: it can only show that a valid message M publishes
// before H's marker has not reached B when the marker has, so it could pass
// if M's message were merely slow, but it never fails falsely.
func TestScoringGraylists(t *testing.T) {
	const name = "/test/score"
	scores := make(chan map[peer.ID]*lpubsub.PeerScoreSnapshot, 16)
	logs := newLogCounter()
	b := testPubSub(t, func(c *Config) {
		c.Scoring = true
		c.Logger = slog.New(logs)
		c.inspect = func(s map[peer.ID]*lpubsub.PeerScoreSnapshot) {
			select {
			case scores <- s:
			default:
			}
		}
	})
	m, h := testPubSub(t), testPubSub(t)
	connect(t, m, b)
	connect(t, h, b)
	vb := newRecorder(isBad)
	tb := join(t, b, name, vb.validate)
	tm := join(t, m, name, acceptAll)
	th := join(t, h, name, acceptAll)

	publish(t, tm, "bad 0") // waits for the mesh
	for i := 1; i < 5; i++ {
		// Not through Publish: B prunes M after the first reject, and M's
		// mesh empties; a flood publish still reaches B.
		if err := tm.lib.Publish(context.Background(), []byte(fmt.Sprintf("bad %d", i))); err != nil {
			t.Fatal(err)
		}
	}

	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for graylisted := false; !graylisted; {
		select {
		case s := <-scores:
			snap, ok := s[m.host.ID()]
			if !ok {
				continue
			}
			if ts := snap.Topics[name]; ts != nil && ts.InvalidMessageDeliveries >= 3 && snap.Score >= graylistThreshold {
				t.Fatalf("M has %v invalid deliveries but score %v, above the graylist", ts.InvalidMessageDeliveries, snap.Score)
			}
			graylisted = snap.Score < graylistThreshold
		case <-timer.C:
			t.Fatal("M never fell below the graylist threshold")
		}
	}
	for range 3 { // inspections after the fall
		select {
		case s := <-scores:
			if hs := s[h.host.ID()]; hs != nil && hs.Score < 0 {
				t.Errorf("honest H has a negative score %v", hs.Score)
			}
		case <-timer.C:
			t.Fatal("no score snapshot")
		}
	}
	if got := logs.count(slog.LevelInfo, graylistedLog); got != 1 {
		t.Errorf("B logged M's graylisting %d times at INFO, want once", got)
	}
	stats := b.Stats()
	if len(stats) != 1 || stats[0].Topic != name || stats[0].Peers != 2 || len(stats[0].Lowest) != 2 {
		t.Fatalf("B's stats: %+v, want %s with 2 peers and their 2 scores", stats, name)
	}
	if low := stats[0].Lowest[0]; low.Peer != m.host.ID() || low.Score >= graylistThreshold {
		t.Errorf("lowest score %v, want M's, below %v", low, graylistThreshold)
	}
	if mesh := stats[0].Mesh; mesh > 1 {
		t.Errorf("B's mesh holds %d peers, want at most H (M is pruned)", mesh)
	}

	// The weaker part: B drops M's RPCs unread now.
	if err := tm.lib.Publish(context.Background(), []byte("good from M")); err != nil {
		t.Fatal(err)
	}
	publish(t, th, "marker from H")
	if got := string(next(t, tb).Data); got != "marker from H" {
		t.Errorf("B delivered %q from a graylisted peer", got)
	}
	if slices.Contains(vb.saw(), "good from M") {
		t.Error("B validated a message from a graylisted peer")
	}
}
