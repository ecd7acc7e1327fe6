package storage

import (
	"errors"
	"testing"
	"time"
)

func TestKnownPeers(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	now := time.Now().UTC().Truncate(time.Nanosecond)
	want := map[string]KnownPeer{
		"a": {Peer: a, Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}, LastSeen: now.Add(-time.Hour), Bootstrap: true, Relay: true, DHTServer: true},
		"b": {Peer: b, Addrs: []string{"/ip4/127.0.0.1/udp/4001/quic-v1"}, SignedRecord: []byte{1, 2, 3}, LastSeen: now},
	}
	update(t, s, func(tx *Txn) error {
		for _, kp := range want {
			if err := tx.PutKnownPeer(kp); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		got, err := tx.KnownPeers()
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].Peer != b || got[1].Peer != a {
			t.Fatalf("KnownPeers = %+v, want b (newest) then a", got)
		}
		for name, w := range want {
			kp, err := tx.KnownPeer(w.Peer)
			if err != nil {
				return err
			}
			if kp.Peer != w.Peer || !kp.LastSeen.Equal(w.LastSeen) || kp.Bootstrap != w.Bootstrap ||
				kp.Relay != w.Relay || kp.DHTServer != w.DHTServer || string(kp.SignedRecord) != string(w.SignedRecord) ||
				len(kp.Addrs) != 1 || kp.Addrs[0] != w.Addrs[0] {
				t.Errorf("%s: got %+v, want %+v", name, kp, w)
			}
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteKnownPeer(a) })
	view(t, s, func(tx *Txn) error {
		if _, err := tx.KnownPeer(a); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted peer: err = %v, want ErrNotFound", err)
		}
		if err := tx.DeleteKnownPeer(a); err == nil {
			t.Error("DeleteKnownPeer in a read-only transaction succeeded")
		}
		return nil
	})
}
