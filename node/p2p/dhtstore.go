package p2p

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/simplelru"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/multiformats/go-base32"
)

// The DHT's store bounds (see boundedStore). A provider record is a key of
// at most 11 + 128 + 1 + 62 bytes (kad-dht refuses keys over 80 bytes before
// base32) and a varint time of at most 10: about 210 bytes, so the byte
// bound and the count bound meet near 40,000 records.
const (
	// dhtMaxRecords is the number of records the DHT keeps for others.
	dhtMaxRecords = 32 << 10
	// dhtMaxBytes bounds their keys and values together.
	dhtMaxBytes = 8 << 20
	// dhtMaxPerPeer is the number of provider records one providing peer
	// may have here: a node announces a room under its ID and its name, so
	// 512 rooms.
	dhtMaxPerPeer = 1 << 10
	// dhtCacheSize is the provider manager's LRU of provider sets (kad-dht's
	// default).
	dhtCacheSize = 256
)

// providersPrefix is kad-dht's datastore prefix of provider records
// (records.ProvidersKeyPrefix): "/providers/<base32 key>/<base32 peer ID>".
const providersPrefix = "/providers/"

// errDHTStoreFull refuses a record over one of boundedStore's caps.
var errDHTStoreFull = errors.New("DHT store full")

// dhtStoreCaps are boundedStore's caps; zero fields take the defaults.
type dhtStoreCaps struct {
	Records, Bytes, PerPeer int
}

func (c dhtStoreCaps) orDefaults() dhtStoreCaps {
	if c.Records <= 0 {
		c.Records = dhtMaxRecords
	}
	if c.Bytes <= 0 {
		c.Bytes = dhtMaxBytes
	}
	if c.PerPeer <= 0 {
		c.PerPeer = dhtMaxPerPeer
	}
	return c
}

// boundedStore is the DHT's datastore (dht.Datastore): an in-memory map,
// like kad-dht's default, that holds at most caps.Records records of
// caps.Bytes bytes (keys and values) in all, and at most caps.PerPeer
// provider records naming one providing peer. kad-dht's ADD_PROVIDER
// handler stores a record only for the peer that sends it, and the
// provider key ends with that peer's ID, so the per-peer count is a count
// per sending peer. Other keys (value records, were they enabled) count
// in the totals only: a value record's key names a key pair, which anyone
// can make, not the peer that sent it.
//
// Over a cap, a new record is refused, never an old one evicted: a peer
// flooding the store then cannot push out the records honest peers put
// before it, and once it reaches its own cap, only its own new records are
// refused. Records leave as kad-dht expires them (48 h, swept hourly).
// Rewriting a record already held (a reprovide) is always accepted unless
// it grows past the byte cap.
//
// Put returns errDHTStoreFull for a refused record. A Batch, which is how
// kad-dht's provider manager writes, commits the records that fit and
// drops the refused ones (counted in Refused, reported to refused): had
// the commit failed, the manager would keep and retry the whole batch,
// honest records included, and drop it all after a few failures.
type boundedStore struct {
	inner ds.Batching
	caps  dhtStoreCaps
	// refused, when set, is told each refused key (under mu).
	refused func(ds.Key)

	mu      sync.Mutex // serialises writes with the accounting
	records int
	bytes   int
	perPeer map[string]int // provider records per peer (its base32 ID)
	nRefuse int
}

var _ ds.Batching = (*boundedStore)(nil)

func newBoundedStore(caps dhtStoreCaps, refused func(ds.Key)) *boundedStore {
	return &boundedStore{
		inner:   dssync.MutexWrap(ds.NewMapDatastore()),
		caps:    caps.orDefaults(),
		refused: refused,
		perPeer: make(map[string]int),
	}
}

// splitProviderKey splits a provider record's datastore key,
// "/providers/<base32 key>/<base32 peer ID>", into its two parts; ok is
// false for any other key.
func splitProviderKey(k ds.Key) (key, peer string, ok bool) {
	rest, ok := strings.CutPrefix(k.String(), providersPrefix)
	if !ok {
		return "", "", false
	}
	key, peer, ok = strings.Cut(rest, "/")
	if !ok || key == "" || peer == "" || strings.Contains(peer, "/") {
		return "", "", false
	}
	return key, peer, true
}

// providerPeer is the providing peer's base32 ID of a provider record's
// key, or "" for any other key.
func providerPeer(k ds.Key) string {
	_, p, _ := splitProviderKey(k)
	return p
}

// providerKey is the DHT key of a provider record's datastore key, or nil.
func providerKey(k ds.Key) []byte {
	enc, _, ok := splitProviderKey(k)
	if !ok {
		return nil
	}
	b, err := base32.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return nil
	}
	return b
}

// Usage returns the records and bytes held, and the provider records of
// the peer whose base32 ID is p.
func (s *boundedStore) Usage(p string) (records, bytes, ofPeer int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records, s.bytes, s.perPeer[p]
}

// Refused returns how many records were refused.
func (s *boundedStore) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nRefuse
}

func (s *boundedStore) Put(ctx context.Context, key ds.Key, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putLocked(ctx, key, value)
}

func (s *boundedStore) putLocked(ctx context.Context, key ds.Key, value []byte) error {
	size := len(key.String()) + len(value)
	old, err := s.inner.GetSize(ctx, key)
	switch {
	case err == nil:
		old += len(key.String())
		if s.bytes-old+size > s.caps.Bytes {
			return s.refuse(key, "bytes", s.caps.Bytes)
		}
		if err := s.inner.Put(ctx, key, value); err != nil {
			return fmt.Errorf("DHT store: %w", err)
		}
		s.bytes += size - old
		return nil
	case !errors.Is(err, ds.ErrNotFound):
		return fmt.Errorf("DHT store: %w", err)
	}
	p := providerPeer(key)
	switch {
	case s.records+1 > s.caps.Records:
		return s.refuse(key, "records", s.caps.Records)
	case s.bytes+size > s.caps.Bytes:
		return s.refuse(key, "bytes", s.caps.Bytes)
	case p != "" && s.perPeer[p]+1 > s.caps.PerPeer:
		return s.refuse(key, "provider records of one peer", s.caps.PerPeer)
	}
	if err := s.inner.Put(ctx, key, value); err != nil {
		return fmt.Errorf("DHT store: %w", err)
	}
	s.records++
	s.bytes += size
	if p != "" {
		s.perPeer[p]++
	}
	return nil
}

func (s *boundedStore) refuse(key ds.Key, what string, limit int) error {
	s.nRefuse++
	if s.refused != nil {
		s.refused(key)
	}
	return fmt.Errorf("%w: %s over %d", errDHTStoreFull, what, limit)
}

func (s *boundedStore) Delete(ctx context.Context, key ds.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteLocked(ctx, key)
}

func (s *boundedStore) deleteLocked(ctx context.Context, key ds.Key) error {
	old, err := s.inner.GetSize(ctx, key)
	if errors.Is(err, ds.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("DHT store: %w", err)
	}
	if err := s.inner.Delete(ctx, key); err != nil {
		return fmt.Errorf("DHT store: %w", err)
	}
	s.records--
	s.bytes -= len(key.String()) + old
	if p := providerPeer(key); p != "" {
		if s.perPeer[p]--; s.perPeer[p] <= 0 {
			delete(s.perPeer, p)
		}
	}
	return nil
}

func (s *boundedStore) Get(ctx context.Context, key ds.Key) ([]byte, error) {
	return s.inner.Get(ctx, key)
}

func (s *boundedStore) Has(ctx context.Context, key ds.Key) (bool, error) {
	return s.inner.Has(ctx, key)
}

func (s *boundedStore) GetSize(ctx context.Context, key ds.Key) (int, error) {
	return s.inner.GetSize(ctx, key)
}

func (s *boundedStore) Query(ctx context.Context, q dsq.Query) (dsq.Results, error) {
	return s.inner.Query(ctx, q)
}

func (s *boundedStore) Sync(ctx context.Context, prefix ds.Key) error {
	return s.inner.Sync(ctx, prefix)
}

func (s *boundedStore) Close() error { return s.inner.Close() }

// Batch buffers writes and applies them at Commit, in order, under the
// caps: a refused Put is dropped (see boundedStore), the rest committed.
func (s *boundedStore) Batch(context.Context) (ds.Batch, error) {
	return &boundedBatch{s: s}, nil
}

type batchOp struct {
	key    ds.Key
	value  []byte
	delete bool
}

type boundedBatch struct {
	s   *boundedStore
	ops []batchOp
}

func (b *boundedBatch) Put(_ context.Context, key ds.Key, value []byte) error {
	b.ops = append(b.ops, batchOp{key: key, value: append([]byte(nil), value...)})
	return nil
}

func (b *boundedBatch) Delete(_ context.Context, key ds.Key) error {
	b.ops = append(b.ops, batchOp{key: key, delete: true})
	return nil
}

func (b *boundedBatch) Commit(ctx context.Context) error {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	for _, op := range b.ops {
		var err error
		if op.delete {
			err = b.s.deleteLocked(ctx, op.key)
		} else {
			err = b.s.putLocked(ctx, op.key, op.value)
		}
		if err != nil && !errors.Is(err, errDHTStoreFull) {
			return err
		}
	}
	b.ops = nil
	return nil
}

// providerCache is the provider manager's LRU of provider sets, safe for
// concurrent use, that forgets a key's set when the store refuses a record
// of that key. kad-dht adds a provider to the cached set of its key before
// the record reaches the store; without this, a refused provider would
// still be served, and held, for as long as its key stays cached.
type providerCache struct {
	mu  sync.Mutex
	lru *lru.LRU
}

var _ lru.LRUCache = (*providerCache)(nil)

func newProviderCache(size int) (*providerCache, error) {
	l, err := lru.NewLRU(size, nil)
	if err != nil {
		return nil, fmt.Errorf("provider cache: %w", err)
	}
	return &providerCache{lru: l}, nil
}

// forget drops the cached set of the provider record key k.
func (c *providerCache) forget(k ds.Key) {
	if key := providerKey(k); key != nil {
		c.Remove(string(key))
	}
}

func (c *providerCache) Add(key, value any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Add(key, value)
}

func (c *providerCache) Get(key any) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *providerCache) Contains(key any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Contains(key)
}

func (c *providerCache) Peek(key any) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Peek(key)
}

func (c *providerCache) Remove(key any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Remove(key)
}

func (c *providerCache) RemoveOldest() (any, any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.RemoveOldest()
}

func (c *providerCache) GetOldest() (any, any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.GetOldest()
}

func (c *providerCache) Keys() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Keys()
}

func (c *providerCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *providerCache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
}

func (c *providerCache) Resize(size int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Resize(size)
}
