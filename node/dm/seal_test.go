package dm

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// answeredPair gives a sender service with a session to peer bob that bob
// has answered (so sends need no stamp and carry no X3DH header), and bob's
// session, to decrypt what the sender queues.
func answeredPair(t *testing.T) (d *Service, bob peer.ID, bs *ratchet.Session) {
	t.Helper()
	now := time.Now()
	b := preKeyService(t, &now)
	bundle, err := b.mintBundle(now, peer.ID("alice"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d = &Service{env: env.Env{Store: st, Identity: identity.New(), Log: slog.New(slog.DiscardHandler), Clock: &env.SendClock{}},
		peers: newPeerTable()}
	as, err := ratchet.Initiate(d.env.Identity, bundle, now)
	if err != nil {
		t.Fatal(err)
	}
	first, err := as.Encrypt([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.env.Store.Update(func(tx *storage.Txn) error {
		bs, err = (&receipt{d: b, tx: tx}).respond(first)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.Decrypt(first); err != nil {
		t.Fatal(err)
	}
	reply, err := bs.Encrypt([]byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.Decrypt(reply); err != nil {
		t.Fatal(err)
	}
	bob = peer.ID("bob")
	ps := d.peers.acquire(bob)
	defer d.peers.release(ps)
	ps.cur, ps.loaded = as, true
	if err := st.Update(func(tx *storage.Txn) error { return ps.save(tx, bob) }); err != nil {
		t.Fatal(err)
	}
	return d, bob, bs
}

// TestSealOrder: whatever mix of encrypted and plain entries the outbox
// holds, the deliverer encrypts so that the ratchet counters follow the
// outbox order (a plain entry older than an encrypted one moves behind it,
// plain entries keeping their own order), and the recipient decrypts them
// in that order without skipping a key.
func TestSealOrder(t *testing.T) {
	tests := []struct {
		name   string
		layout string // the outbox, oldest first: s encrypted when queued, p plain
		want   string // the order sent, by index into layout
	}{
		{"all plain", "ppp", "012"},
		{"all encrypted", "sss", "012"},
		{"encrypted then plain", "ssp", "012"},
		{"plain before encrypted", "psp", "102"},
		{"plain between encrypted", "spssp", "02314"},
		{"plain runs before encrypted", "ppsps", "24013"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, bob, bs := answeredPair(t)
			ps := d.peers.acquire(bob)
			defer d.peers.release(ps)
			var ids []storage.MessageID
			err := d.env.Store.Update(func(tx *storage.Txn) error {
				for i, k := range tt.layout {
					id := NewMessageID()
					ids = append(ids, id)
					c := &dmpb.Content{Id: id[:], Body: &dmpb.Content_Text{Text: &dmpb.Text{Body: string(rune('a' + i))}}}
					now := d.env.Clock.Now()
					e := storage.OutboxEntry{ID: id, Peer: bob, Created: now, NextTry: now}
					if k == 's' {
						if err := d.sealEntry(tx, ps, &e, c, proof{}, true); err != nil {
							return err
						}
						continue
					}
					b, err := proto.Marshal(c)
					if err != nil {
						return err
					}
					e.Content = b
					if err := tx.AddOutbox(e); err != nil {
						return err
					}
				}
				return ps.save(tx, bob)
			})
			if err != nil {
				t.Fatal(err)
			}
			entries, err := d.encryptQueued(bob)
			if err != nil {
				t.Fatal(err)
			}
			var stored []storage.OutboxEntry
			if err := d.env.Store.View(func(tx *storage.Txn) (err error) { stored, err = tx.Outbox(bob); return err }); err != nil {
				t.Fatal(err)
			}
			var got, inStore []int
			for i, e := range entries {
				got = append(got, slices.Index(ids, e.ID))
				inStore = append(inStore, slices.Index(ids, stored[i].ID))
			}
			want := make([]int, len(tt.want))
			for i, c := range tt.want {
				want[i] = int(c - '0')
			}
			if !slices.Equal(got, want) || !slices.Equal(inStore, want) {
				t.Fatalf("sent in order %v, stored in order %v; want %v", got, inStore, want)
			}
			if !ps.sealOK {
				t.Error("sends are not encrypted at once after the deliverer encrypted every entry")
			}
			for i, e := range entries {
				m := entryMessage(t, e)
				if prev := entryMessage(t, entries[max(0, i-1)]).Header.N; i > 0 && m.Header.N != 1+prev {
					t.Fatalf("entry %d has counter %d after %d: the recipient would skip", i, m.Header.N, prev)
				}
				if _, err := bs.Decrypt(m); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
			}
		})
	}
}

// entryMessage is the ratchet message an encrypted outbox entry carries.
func entryMessage(t *testing.T, e storage.OutboxEntry) ratchet.Message {
	t.Helper()
	var f dmpb.Frame
	if err := proto.Unmarshal(e.Frame, &f); err != nil {
		t.Fatal(err)
	}
	m, err := ratchet.UnmarshalMessage(f.GetEnvelope().GetRatchetMessage())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
