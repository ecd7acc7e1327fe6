package group

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group/internal/grouppb"
	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/keys"
)

const sendChainVersion = 1

// maxSendChainBytes bounds an encoded SendChain before it is parsed.
const maxSendChainBytes = 256

var errZeroSendChain = fmt.Errorf("%w: zero SendChain; use NewSendChain", ErrMalformed)

// SendChain is a sender's own chain in one epoch of a group: it seals the
// sender's messages with sequence numbers 0, 1, 2, ... and signs them.
//
// Each message key must be used once. Persist the chain (MarshalBinary) before
// publishing the envelope Seal returns, and never seal again from an older
// copy of the state: that would reuse a message key for a different message.
type SendChain struct {
	group  ID
	epoch  uint64
	signer keys.PrivateKey
	pos    chainPosition
}

// NewSendChain starts signer's chain for the epoch of gk, at sequence 0.
func NewSendChain(gk GroupKey, signer keys.PrivateKey) (*SendChain, error) {
	if err := gk.validate(); err != nil {
		return nil, err
	}
	if signer.IsZero() {
		return nil, fmt.Errorf("%w: zero signing key", ErrMalformed)
	}
	return &SendChain{
		group:  gk.Group,
		epoch:  gk.Epoch,
		signer: signer,
		pos:    chainPosition{ck: firstChainKey(gk, signer.Public())},
	}, nil
}

// Group returns the chain's group.
func (c *SendChain) Group() ID { return c.group }

// Epoch returns the chain's epoch.
func (c *SendChain) Epoch() uint64 { return c.epoch }

// Sender returns the sender's identity key.
func (c *SendChain) Sender() keys.PublicKey { return c.signer.Public() }

// Next returns the sequence number the next sealed message will carry.
func (c *SendChain) Next() uint64 { return c.pos.next }

// Seal pads plaintext to one of a few sizes, encrypts it as the chain's next
// message and signs the envelope.
// It fails on a plaintext over MaxPlaintext and when the chain is exhausted
// (MaxSeq messages), leaving the chain unchanged.
func (c *SendChain) Seal(plaintext []byte) (*Envelope, error) {
	if c.signer.IsZero() {
		return nil, errZeroSendChain
	}
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: plaintext is %d bytes, limit %d", ErrTooLarge, len(plaintext), MaxPlaintext)
	}
	if c.pos.next >= MaxSeq {
		return nil, fmt.Errorf("%w: group %s epoch %d", ErrChainExhausted, c.group, c.epoch)
	}
	mk, next := c.pos.step()
	e := &Envelope{Group: c.group, Epoch: c.epoch, Sender: c.signer.Public(), Seq: c.pos.next}
	e.Ciphertext = aead.Seal(mk, labelMessage, pad(plaintext), e.associatedData())
	e.Signature = c.signer.Sign(e.domain(), e.signedBytes())
	c.pos = next
	return e, nil
}

// String names the chain; it never prints key material.
func (c SendChain) String() string {
	if c.signer.IsZero() {
		return "group.SendChain(zero)"
	}
	return fmt.Sprintf("group.SendChain(%s, epoch %d, sender %s, next %d)", c.group, c.epoch, c.signer.Public(), c.pos.next)
}

// GoString is like String, so that %#v does not print key material either.
func (c SendChain) GoString() string { return c.String() }

// MarshalBinary encodes the chain's state for the store. It holds the secret
// chain key but not the signing key.
func (c *SendChain) MarshalBinary() ([]byte, error) {
	if c.signer.IsZero() {
		return nil, errZeroSendChain
	}
	sender := c.signer.Public()
	return proto.Marshal(&grouppb.SendChain{
		Version:  sendChainVersion,
		Group:    c.group.Bytes(),
		Epoch:    c.epoch,
		Sender:   sender.Bytes(),
		Next:     c.pos.next,
		ChainKey: append([]byte(nil), c.pos.ck[:]...),
	})
}

// UnmarshalSendChain restores a chain encoded by SendChain.MarshalBinary.
// signer must be the key the chain was made with.
func UnmarshalSendChain(b []byte, signer keys.PrivateKey) (*SendChain, error) {
	if len(b) > maxSendChainBytes {
		return nil, fmt.Errorf("%w: send chain is %d bytes, limit %d", ErrTooLarge, len(b), maxSendChainBytes)
	}
	var m grouppb.SendChain
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: send chain: %w", ErrMalformed, err)
	}
	if m.Version != sendChainVersion {
		return nil, fmt.Errorf("%w: send chain version %d", ErrVersion, m.Version)
	}
	id, err := IDFromBytes(m.Group)
	if err != nil {
		return nil, fmt.Errorf("send chain: %w", err)
	}
	sender, err := keys.PublicKeyFromBytes(m.Sender)
	if err != nil {
		return nil, fmt.Errorf("%w: send chain sender: %w", ErrMalformed, err)
	}
	if signer.IsZero() || signer.Public() != sender {
		return nil, fmt.Errorf("%w: send chain belongs to %s, not to the given signing key", ErrMalformed, sender)
	}
	ck, err := chainKeyFromBytes(m.ChainKey)
	if err != nil {
		return nil, fmt.Errorf("send chain: %w", err)
	}
	if m.Next > MaxSeq {
		return nil, fmt.Errorf("%w: send chain at %d, beyond %d", ErrMalformed, m.Next, uint64(MaxSeq))
	}
	return &SendChain{group: id, epoch: m.Epoch, signer: signer, pos: chainPosition{next: m.Next, ck: ck}}, nil
}
