package group

import (
	"cmp"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group/internal/grouppb"
	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/keys"
)

// Limits on a receive chain.
const (
	// MaxSkip is the most message keys one message may skip: a message more
	// than MaxSkip ahead of the chain fails with ErrTooFarAhead.
	MaxSkip = 2000
	// MaxSkippedKeys is the most keys of missing messages a chain keeps. Past
	// it the oldest are discarded, and their messages fail with ErrReplay.
	MaxSkippedKeys = 2000
)

const receiveChainVersion = 1

// maxReceiveChainBytes bounds an encoded ReceiveChain before it is parsed.
const maxReceiveChainBytes = MaxSkippedKeys*64 + 256

// ReceiveChain is a receiver's chain for one sender in one epoch of a group.
// It opens that sender's envelopes in any order, each once.
//
// It keeps the chain key of the next message in order and the message keys
// of messages skipped over, until they arrive. Used message keys are
// forgotten at once. The store persists the chain (MarshalBinary) together
// with the messages it opened.
type ReceiveChain struct {
	group   ID
	epoch   uint64
	sender  keys.PublicKey
	pos     chainPosition
	skipped []skippedKey // ascending by seq, all below pos.next
}

type skippedKey struct {
	seq uint64
	mk  kdf.Key
}

// NewReceiveChain starts the chain of sender for the epoch of gk, at
// sequence 0.
func NewReceiveChain(gk GroupKey, sender keys.PublicKey) (*ReceiveChain, error) {
	if err := gk.validate(); err != nil {
		return nil, err
	}
	if sender.IsZero() {
		return nil, fmt.Errorf("%w: zero sender", ErrMalformed)
	}
	return &ReceiveChain{
		group:  gk.Group,
		epoch:  gk.Epoch,
		sender: sender,
		pos:    chainPosition{ck: firstChainKey(gk, sender)},
	}, nil
}

// Group returns the chain's group.
func (c *ReceiveChain) Group() ID { return c.group }

// Epoch returns the chain's epoch.
func (c *ReceiveChain) Epoch() uint64 { return c.epoch }

// Sender returns the identity key of the chain's sender.
func (c *ReceiveChain) Sender() keys.PublicKey { return c.sender }

// Next returns the lowest sequence number the chain has not yet reached: every
// message from here on can still be opened (within MaxSkip). With Missing it
// is the high-water mark that history sync exchanges.
func (c *ReceiveChain) Next() uint64 { return c.pos.next }

// Missing returns, in ascending order, the sequence numbers below Next whose
// messages have not arrived and can still be opened.
func (c *ReceiveChain) Missing() []uint64 {
	seqs := make([]uint64, len(c.skipped))
	for i, s := range c.skipped {
		seqs[i] = s.seq
	}
	return seqs
}

// Open verifies the envelope's signature and decrypts it. It fails with
// ErrWrongChain for another group, epoch or sender, ErrBadSignature,
// ErrReplay for a message already opened or too old, ErrTooFarAhead beyond
// MaxSkip, and ErrDecrypt for a ciphertext that does not authenticate. A
// failed Open leaves the chain unchanged.
func (c *ReceiveChain) Open(e *Envelope) ([]byte, error) {
	if err := c.check(e); err != nil {
		return nil, err
	}
	// The signature comes first: only the sender can make the chain do work.
	if err := e.VerifySignature(); err != nil {
		return nil, err
	}
	return c.open(e)
}

// OpenVerified is Open for an envelope whose signature the caller has just
// checked (with Envelope.VerifySignature or Roster.CheckSender, as a topic
// validator does), so that the costly check is not made twice. Every
// member holds the epoch key, so decryption alone does not tell who wrote
// a message: never call it on an envelope whose signature was not checked.
func (c *ReceiveChain) OpenVerified(e *Envelope) ([]byte, error) {
	if err := c.check(e); err != nil {
		return nil, err
	}
	if err := e.validate(); err != nil {
		return nil, err
	}
	return c.open(e)
}

func (c *ReceiveChain) check(e *Envelope) error {
	if e.Group != c.group || e.Epoch != c.epoch || e.Sender != c.sender {
		return fmt.Errorf("%w: envelope for group %s epoch %d sender %s, chain for group %s epoch %d sender %s",
			ErrWrongChain, e.Group, e.Epoch, e.Sender, c.group, c.epoch, c.sender)
	}
	return nil
}

func (c *ReceiveChain) open(e *Envelope) ([]byte, error) {
	if e.Seq < c.pos.next {
		i, found := slices.BinarySearchFunc(c.skipped, e.Seq, func(s skippedKey, seq uint64) int {
			return cmp.Compare(s.seq, seq)
		})
		if !found {
			return nil, fmt.Errorf("%w: message %d from %s in epoch %d", ErrReplay, e.Seq, c.sender, c.epoch)
		}
		pt, err := open(c.skipped[i].mk, e)
		if err != nil {
			return nil, err
		}
		c.skipped = slices.Delete(c.skipped, i, i+1)
		return pt, nil
	}
	if gap := e.Seq - c.pos.next; gap > MaxSkip {
		return nil, fmt.Errorf("%w: message %d from %s would skip %d keys, limit %d", ErrTooFarAhead, e.Seq, c.sender, gap, MaxSkip)
	}
	// Walk a copy of the chain to the message; commit only once it opens.
	pos := c.pos
	var newlySkipped []skippedKey
	for pos.next < e.Seq {
		var mk kdf.Key
		seq := pos.next
		mk, pos = pos.step()
		newlySkipped = append(newlySkipped, skippedKey{seq: seq, mk: mk})
	}
	mk, pos := pos.step()
	pt, err := open(mk, e)
	if err != nil {
		return nil, err
	}
	c.pos = pos
	c.skipped = append(c.skipped, newlySkipped...)
	if over := len(c.skipped) - MaxSkippedKeys; over > 0 {
		c.skipped = slices.Delete(c.skipped, 0, over)
	}
	return pt, nil
}

func open(mk kdf.Key, e *Envelope) ([]byte, error) {
	pt, err := aead.Open(mk, labelMessage, e.Ciphertext, e.associatedData())
	if err != nil {
		return nil, fmt.Errorf("%w: message %d from %s in group %s epoch %d", ErrDecrypt, e.Seq, e.Sender, e.Group, e.Epoch)
	}
	if e.legacy {
		return pt, nil
	}
	if pt, err = unpad(pt); err != nil {
		return nil, fmt.Errorf("message %d from %s in group %s epoch %d: %w", e.Seq, e.Sender, e.Group, e.Epoch, err)
	}
	return pt, nil
}

// String names the chain; it never prints key material.
func (c ReceiveChain) String() string {
	return fmt.Sprintf("group.ReceiveChain(%s, epoch %d, sender %s, next %d, %d missing)", c.group, c.epoch, c.sender, c.pos.next, len(c.skipped))
}

// GoString is like String, so that %#v does not print key material either.
func (c ReceiveChain) GoString() string { return c.String() }

// MarshalBinary encodes the chain's state for the store. It holds secret
// keys.
func (c *ReceiveChain) MarshalBinary() ([]byte, error) {
	if c.group.IsZero() {
		return nil, fmt.Errorf("%w: zero ReceiveChain; use NewReceiveChain", ErrMalformed)
	}
	m := &grouppb.ReceiveChain{
		Version:  receiveChainVersion,
		Group:    c.group.Bytes(),
		Epoch:    c.epoch,
		Sender:   c.sender.Bytes(),
		Next:     c.pos.next,
		ChainKey: append([]byte(nil), c.pos.ck[:]...),
		Skipped:  make([]*grouppb.SkippedKey, len(c.skipped)),
	}
	for i, s := range c.skipped {
		m.Skipped[i] = &grouppb.SkippedKey{Seq: s.seq, Key: append([]byte(nil), s.mk[:]...)}
	}
	return proto.Marshal(m)
}

// UnmarshalReceiveChain restores a chain encoded by ReceiveChain.MarshalBinary.
func UnmarshalReceiveChain(b []byte) (*ReceiveChain, error) {
	if len(b) > maxReceiveChainBytes {
		return nil, fmt.Errorf("%w: receive chain is %d bytes, limit %d", ErrTooLarge, len(b), maxReceiveChainBytes)
	}
	var m grouppb.ReceiveChain
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: receive chain: %w", ErrMalformed, err)
	}
	if m.Version != receiveChainVersion {
		return nil, fmt.Errorf("%w: receive chain version %d", ErrVersion, m.Version)
	}
	id, err := IDFromBytes(m.Group)
	if err != nil {
		return nil, fmt.Errorf("receive chain: %w", err)
	}
	sender, err := keys.PublicKeyFromBytes(m.Sender)
	if err != nil {
		return nil, fmt.Errorf("%w: receive chain sender: %w", ErrMalformed, err)
	}
	ck, err := chainKeyFromBytes(m.ChainKey)
	if err != nil {
		return nil, fmt.Errorf("receive chain: %w", err)
	}
	if m.Next > MaxSeq {
		return nil, fmt.Errorf("%w: receive chain at %d, beyond %d", ErrMalformed, m.Next, uint64(MaxSeq))
	}
	if len(m.Skipped) > MaxSkippedKeys {
		return nil, fmt.Errorf("%w: receive chain keeps %d skipped keys, limit %d", ErrTooLarge, len(m.Skipped), MaxSkippedKeys)
	}
	c := &ReceiveChain{group: id, epoch: m.Epoch, sender: sender, pos: chainPosition{next: m.Next, ck: ck}}
	if len(m.Skipped) > 0 {
		c.skipped = make([]skippedKey, len(m.Skipped))
	}
	for i, s := range m.Skipped {
		if s.Seq >= m.Next || (i > 0 && s.Seq <= m.Skipped[i-1].Seq) {
			return nil, fmt.Errorf("%w: receive chain skipped key %d out of order", ErrMalformed, s.Seq)
		}
		mk, err := chainKeyFromBytes(s.Key)
		if err != nil {
			return nil, fmt.Errorf("receive chain skipped key %d: %w", s.Seq, err)
		}
		c.skipped[i] = skippedKey{seq: s.Seq, mk: mk}
	}
	return c, nil
}
