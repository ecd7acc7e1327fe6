package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/storage"
)

// commitEchoProtocol is the durable floor's protocol: the responder commits
// what it reads to its Badger store (fsynced) and only then echoes it.
const commitEchoProtocol = "/backchannel-bench/commit-echo/1.0.0"

// durableFloor is the floor of a durable 1:1 message: what a node's path
// must do at the least, with nothing else of ours. A node's Send commits
// the message (fsynced) before the outbox sends it, and the recipient
// commits it (fsynced) before it announces it and acks it; between them a
// new stream carries it. The floor does exactly that with raw parts: a
// commit of a message-sized record to one raw Badger store with storage's
// options (sync writes), a new stream between two raw go-libp2p hosts, a
// commit at the other end to a second store on the same disk, and the echo
// back (a round trip, as the raw baseline always was).
type durableFloor struct {
	from   host.Host
	to     peer.ID
	dbA    *badger.DB // the sender's store
	dbB    *badger.DB // the recipient's
	n      uint64
	mu     sync.Mutex
	recvCs []time.Duration // the recipient's commits
}

// newDurableFloor opens the two stores under dir and sets the recipient's
// handler on h2.
func newDurableFloor(dir string, h1, h2 host.Host) (_ *durableFloor, err error) {
	f := &durableFloor{from: h1, to: h2.ID()}
	if f.dbA, err = badger.Open(storage.BadgerOptions(storage.Config{Dir: filepath.Join(dir, "floor-sender")})); err != nil {
		return nil, err
	}
	if f.dbB, err = badger.Open(storage.BadgerOptions(storage.Config{Dir: filepath.Join(dir, "floor-recipient")})); err != nil {
		f.dbA.Close()
		return nil, err
	}
	var seq uint64
	var seqMu sync.Mutex
	h2.SetStreamHandler(commitEchoProtocol, func(s network.Stream) {
		defer s.Close()
		buf := make([]byte, rawMessageSize)
		if _, err := io.ReadFull(s, buf); err != nil {
			s.Reset()
			return
		}
		seqMu.Lock()
		seq++
		k := binary.BigEndian.AppendUint64([]byte("in/"), seq)
		seqMu.Unlock()
		start := time.Now()
		if err := f.dbB.Update(func(tx *badger.Txn) error { return tx.Set(k, buf) }); err != nil {
			s.Reset()
			return
		}
		f.mu.Lock()
		f.recvCs = append(f.recvCs, time.Since(start))
		f.mu.Unlock()
		_, _ = s.Write(buf)
	})
	return f, nil
}

// once runs one message through the floor and returns its time and the
// sender's commit's.
func (f *durableFloor) once(ctx context.Context) (total, commit time.Duration, err error) {
	f.n++
	msg := make([]byte, rawMessageSize)
	binary.BigEndian.PutUint64(msg, f.n)
	start := time.Now()
	k := binary.BigEndian.AppendUint64([]byte("out/"), f.n)
	if err := f.dbA.Update(func(tx *badger.Txn) error { return tx.Set(k, msg) }); err != nil {
		return 0, 0, err
	}
	commit = time.Since(start)
	s, err := f.from.NewStream(ctx, f.to, commitEchoProtocol)
	if err != nil {
		return 0, 0, err
	}
	if _, err := s.Write(msg); err != nil {
		s.Reset()
		return 0, 0, err
	}
	if _, err := io.ReadFull(s, msg); err != nil {
		s.Reset()
		return 0, 0, err
	}
	total = time.Since(start)
	s.Close()
	return total, commit, nil
}

// recipientCommits returns the recipient's commit times so far.
func (f *durableFloor) recipientCommits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.recvCs...)
}

func (f *durableFloor) close() error {
	return errors.Join(f.dbA.Close(), f.dbB.Close())
}

// ratchetCost times n messages of rawMessageSize bytes through an
// established ratchet session, one direction as in a burst: encryption,
// the wire encoding and decoding, and decryption, on one goroutine locked
// to its thread. It returns the thread's CPU time per message (the wall
// time where the system does not tell a thread's CPU time), so that other
// work on the machine does not count.
func ratchetCost(n int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	alice, bob := identity.New(), identity.New()
	spk := bob.NewSignedPreKey(1, time.Now().Add(24*time.Hour))
	opk := identity.NewOneTimePreKey(1)
	a, err := ratchet.Initiate(alice, bob.NewBundle(spk.SignedPreKey, &opk.OneTimePreKey, 0), time.Now())
	if err != nil {
		return 0, err
	}
	msg := make([]byte, rawMessageSize)
	first, err := a.Encrypt(msg)
	if err != nil {
		return 0, err
	}
	if first.X3DH == nil {
		return 0, fmt.Errorf("ratchet: the first message carries no X3DH header")
	}
	b, err := ratchet.Respond(bob, spk, &opk, *first.X3DH)
	if err != nil {
		return 0, err
	}
	if _, err := b.Decrypt(first); err != nil {
		return 0, err
	}
	reply, err := b.Encrypt(msg) // established both ways: no X3DH header from here
	if err != nil {
		return 0, err
	}
	if _, err := a.Decrypt(reply); err != nil {
		return 0, err
	}
	start := time.Now()
	cpu0, onThread := threadCPU()
	for range n {
		m, err := a.Encrypt(msg)
		if err != nil {
			return 0, err
		}
		data, err := m.MarshalBinary()
		if err != nil {
			return 0, err
		}
		back, err := ratchet.UnmarshalMessage(data)
		if err != nil {
			return 0, err
		}
		if _, err := b.Decrypt(back); err != nil {
			return 0, err
		}
	}
	spent := time.Since(start)
	if cpu1, ok := threadCPU(); ok && onThread {
		spent = cpu1 - cpu0
	}
	return spent / time.Duration(max(1, n)), nil
}
