package p2p

import (
	"context"
	"errors"
	"fmt"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	"github.com/multiformats/go-base32"
)

// provKey is kad-dht's datastore key of peer p's provider record for key.
func provKey(key, p string) ds.Key {
	return ds.NewKey(providersPrefix + base32.RawStdEncoding.EncodeToString([]byte(key)) +
		"/" + base32.RawStdEncoding.EncodeToString([]byte(p)))
}

func b32(p string) string { return base32.RawStdEncoding.EncodeToString([]byte(p)) }

// checkUsage fails unless s holds records records of bytes bytes, ofPeer
// of them provided by p.
func checkUsage(t *testing.T, s *boundedStore, p string, records, bytes, ofPeer int) {
	t.Helper()
	r, b, o := s.Usage(b32(p))
	if r != records || b != bytes || o != ofPeer {
		t.Fatalf("usage: %d records, %d bytes, %d of %s; want %d, %d, %d", r, b, o, p, records, bytes, ofPeer)
	}
	res, err := s.inner.Query(context.Background(), dsq.Query{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != records {
		t.Fatalf("the map holds %d records, the count says %d", len(all), records)
	}
}

func TestBoundedStoreCapsRecords(t *testing.T) {
	ctx := context.Background()
	s := newBoundedStore(dhtStoreCaps{Records: 3, Bytes: 1 << 20, PerPeer: 100}, nil)
	var size int
	for i := range 3 {
		k := provKey(fmt.Sprint("key", i), fmt.Sprint("peer", i))
		if err := s.Put(ctx, k, []byte{1}); err != nil {
			t.Fatal(err)
		}
		size += len(k.String()) + 1
	}
	k := provKey("key3", "peer3")
	if err := s.Put(ctx, k, []byte{1}); !errors.Is(err, errDHTStoreFull) {
		t.Fatalf("4th record: %v, want errDHTStoreFull", err)
	}
	if ok, _ := s.Has(ctx, k); ok {
		t.Fatal("a refused record was stored")
	}
	checkUsage(t, s, "peer0", 3, size, 1)
	// A record already held is rewritten (a reprovide) at the cap.
	if err := s.Put(ctx, provKey("key0", "peer0"), []byte{2, 2}); err != nil {
		t.Fatalf("rewrite at the cap: %v", err)
	}
	checkUsage(t, s, "peer0", 3, size+1, 1)
	// Deleting makes room again.
	if err := s.Delete(ctx, provKey("key0", "peer0")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, provKey("key0", "peer0")); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if err := s.Put(ctx, k, []byte{1}); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	if s.Refused() != 1 {
		t.Fatalf("refused %d, want 1", s.Refused())
	}
}

func TestBoundedStoreCapsBytes(t *testing.T) {
	ctx := context.Background()
	k1, k2 := ds.NewKey("/pk/a"), ds.NewKey("/pk/b")
	s := newBoundedStore(dhtStoreCaps{Records: 100, Bytes: len(k1.String()) + 100, PerPeer: 100}, nil)
	if err := s.Put(ctx, k1, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, k2, []byte{1}); !errors.Is(err, errDHTStoreFull) {
		t.Fatalf("over the bytes: %v, want errDHTStoreFull", err)
	}
	// Growing a record past the cap is refused and keeps the old value.
	if err := s.Put(ctx, k1, make([]byte, 101)); !errors.Is(err, errDHTStoreFull) {
		t.Fatalf("growing past the bytes: %v, want errDHTStoreFull", err)
	}
	if v, err := s.Get(ctx, k1); err != nil || len(v) != 100 {
		t.Fatalf("after a refused rewrite: %d bytes, %v", len(v), err)
	}
	checkUsage(t, s, "nobody", 1, len(k1.String())+100, 0)
	// Shrinking makes room.
	if err := s.Put(ctx, k1, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, k2, []byte{1}); err != nil {
		t.Fatalf("after shrinking: %v", err)
	}
	checkUsage(t, s, "nobody", 2, len(k1.String())+10+len(k2.String())+1, 0)
}

func TestBoundedStoreCapsPerPeer(t *testing.T) {
	ctx := context.Background()
	var refused []ds.Key
	s := newBoundedStore(dhtStoreCaps{Records: 100, Bytes: 1 << 20, PerPeer: 2}, func(k ds.Key) { refused = append(refused, k) })
	for i := range 2 {
		if err := s.Put(ctx, provKey(fmt.Sprint("key", i), "flood"), []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	over := provKey("key2", "flood")
	if err := s.Put(ctx, over, []byte{1}); !errors.Is(err, errDHTStoreFull) {
		t.Fatalf("3rd record of one peer: %v, want errDHTStoreFull", err)
	}
	if len(refused) != 1 || refused[0] != over {
		t.Fatalf("refused callback got %v, want %v", refused, over)
	}
	// Another peer, same keys: its own count.
	for i := range 2 {
		if err := s.Put(ctx, provKey(fmt.Sprint("key", i), "honest"), []byte{1}); err != nil {
			t.Fatalf("another peer: %v", err)
		}
	}
	_, _, of := s.Usage(b32("honest"))
	if of != 2 {
		t.Fatalf("honest has %d records, want 2", of)
	}
	// Non-provider keys count in the totals only.
	if err := s.Put(ctx, ds.NewKey("/pk/x"), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, provKey("key0", "flood")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, over, []byte{1}); err != nil {
		t.Fatalf("after one of its records left: %v", err)
	}
}

// TestBoundedStoreBatch: a batch commits what fits and drops what does not,
// without failing (kad-dht's provider manager would retry, then drop, the
// whole batch).
func TestBoundedStoreBatch(t *testing.T) {
	ctx := context.Background()
	s := newBoundedStore(dhtStoreCaps{Records: 100, Bytes: 1 << 20, PerPeer: 3}, nil)
	b, err := s.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := b.Put(ctx, provKey(fmt.Sprint("key", i), "flood"), []byte{1}); err != nil {
			t.Fatal(err)
		}
		if i == 5 {
			if err := b.Put(ctx, provKey("k", "honest"), []byte{1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Delete(ctx, provKey("key0", "flood")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if ok, _ := s.Has(ctx, provKey("k", "honest")); !ok {
		t.Fatal("the honest record in a batch past another peer's cap was dropped")
	}
	if ok, _ := s.Has(ctx, provKey("key3", "flood")); ok {
		t.Fatal("a record past the peer's cap was stored")
	}
	r, _, of := s.Usage(b32("flood"))
	if r != 3 || of != 2 {
		t.Fatalf("%d records, %d of the flooder; want 3, 2", r, of)
	}
	if s.Refused() != 7 {
		t.Fatalf("refused %d, want 7", s.Refused())
	}
}

func TestProviderPeer(t *testing.T) {
	for _, c := range []struct {
		key  string
		want string
	}{
		{provKey("k", "p").String(), b32("p")},
		{"/providers/abc", ""},
		{"/providers/abc/def/ghi", ""},
		{"/pk/abc/def", ""},
		{"/providers//x", ""},
	} {
		if got := providerPeer(ds.RawKey(c.key)); got != c.want {
			t.Errorf("providerPeer(%q) = %q, want %q", c.key, got, c.want)
		}
	}
	if got := string(providerKey(provKey("room", "p"))); got != "room" {
		t.Errorf("providerKey = %q, want room", got)
	}
}
