package group

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group/internal/grouppb"
	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/keys"
)

// An envelope travels on its epoch's topic as a frame: the ciphertext as it
// is, and the sender's key, sequence number and signature sealed under a key
// every member of the epoch derives from the epoch key (MLS's "sender
// data"). Whoever does not hold the epoch key sees a random-looking topic
// name and frames of a few sizes: no group ID, epoch, sender or sequence
// number, and no signature to test candidate keys against.
//
// The sender data is sealed with a key derived from the epoch's sender-data
// key and the first bytes of the ciphertext, which differ for every message
// (each message key is used once), so that key too is used once.

const (
	frameVersion = 1
	// maxFrameBytes bounds an encoded frame before it is parsed.
	maxFrameBytes = MaxCiphertext + senderDataSize + 64
	// sampleSize is how much of the ciphertext the sender-data key takes.
	sampleSize = 16
	// senderDataPlain is the sender's key, the sequence number and the
	// signature; senderDataSize is that sealed.
	senderDataPlain = keys.PublicKeySize + 8 + keys.SignatureSize
	senderDataSize  = senderDataPlain + aead.Overhead
	// TopicTagSize is the size of the tag that names an epoch's topic.
	TopicTagSize = 16

	labelSenderDataKey = "backchannel/group/sender-data-key/v1"
	labelSenderData    = "backchannel/group/sender-data/v1"
	labelFrameAD       = "backchannel/group/frame-ad/v1"
	labelEpochTopic    = "backchannel/group/epoch-topic/v1"
)

// epochInfo is the HKDF info for one of an epoch's derived secrets.
func (gk GroupKey) epochInfo(label string) string {
	var info canon.Builder
	return string(info.String(label).Uint64(gk.Epoch).Build())
}

// Topic returns the GossipSub topic of the key's epoch: TopicPrefix and the
// hex of a tag derived from the epoch key. Only the epoch's members can
// compute it, so a member who was removed, and so never received the next
// key, does not know the next topic; and two epochs' topics cannot be linked
// to each other or to the group. It panics on the zero GroupKey.
func (gk GroupKey) Topic() string {
	if err := gk.validate(); err != nil {
		panic("group: Topic of an invalid GroupKey")
	}
	return TopicPrefix + hex.EncodeToString(kdf.HKDF(gk.Key.k[:], gk.Group[:], gk.epochInfo(labelEpochTopic), TopicTagSize))
}

// senderDataKey is the one-time key that seals the sender data of the
// message whose ciphertext is ct (at least sampleSize bytes).
func (gk GroupKey) senderDataKey(ct []byte) kdf.Key {
	base := kdf.HKDF(gk.Key.k[:], gk.Group[:], gk.epochInfo(labelSenderDataKey), 32)
	var k kdf.Key
	copy(k[:], kdf.HKDF(base, ct[:sampleSize], labelSenderData, len(k)))
	return k
}

func frameAD() []byte {
	var b canon.Builder
	return b.String(labelFrameAD).Uint64(frameVersion).Build()
}

// Frame encodes an envelope of the key's epoch for its topic.
func (gk GroupKey) Frame(e *Envelope) ([]byte, error) {
	if err := gk.validate(); err != nil {
		return nil, err
	}
	if err := e.validate(); err != nil {
		return nil, err
	}
	if e.Group != gk.Group || e.Epoch != gk.Epoch {
		return nil, fmt.Errorf("%w: envelope of group %s epoch %d, key of group %s epoch %d", ErrWrongChain, e.Group, e.Epoch, gk.Group, gk.Epoch)
	}
	if e.legacy {
		return nil, fmt.Errorf("%w: a legacy envelope is not framed", ErrVersion)
	}
	plain := make([]byte, 0, senderDataPlain)
	plain = append(plain, e.Sender[:]...)
	plain = binary.BigEndian.AppendUint64(plain, e.Seq)
	plain = append(plain, e.Signature...)
	sd := aead.Seal(gk.senderDataKey(e.Ciphertext), labelSenderData, plain, frameAD())
	return proto.MarshalOptions{Deterministic: true}.Marshal(&grouppb.Frame{Version: frameVersion, SenderData: sd, Ciphertext: e.Ciphertext})
}

// Unframe decodes a frame of the key's epoch back into its envelope. It
// opens the sender data but neither checks the signature nor decrypts the
// message: Roster.CheckSender does the one, a ReceiveChain the other. A frame
// of another epoch, or changed in any byte, fails with ErrDecrypt; one not
// encoded the way Frame encodes, with ErrMalformed (so each envelope has one
// frame, and so one GossipSub message ID).
func (gk GroupKey) Unframe(b []byte) (*Envelope, error) {
	if err := gk.validate(); err != nil {
		return nil, err
	}
	if len(b) > maxFrameBytes {
		return nil, fmt.Errorf("%w: frame is %d bytes, limit %d", ErrTooLarge, len(b), maxFrameBytes)
	}
	var m grouppb.Frame
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: frame: %w", ErrMalformed, err)
	}
	if m.Version != frameVersion {
		return nil, fmt.Errorf("%w: frame version %d", ErrVersion, m.Version)
	}
	if len(m.SenderData) != senderDataSize || len(m.Ciphertext) < max(sampleSize, aead.Overhead) {
		return nil, fmt.Errorf("%w: frame with %d bytes of sender data and %d of ciphertext", ErrMalformed, len(m.SenderData), len(m.Ciphertext))
	}
	if len(m.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("%w: frame with unknown fields", ErrMalformed)
	}
	if canonical, err := (proto.MarshalOptions{Deterministic: true}).Marshal(&m); err != nil || !bytes.Equal(canonical, b) {
		return nil, fmt.Errorf("%w: frame not in canonical form", ErrMalformed)
	}
	plain, err := aead.Open(gk.senderDataKey(m.Ciphertext), labelSenderData, m.SenderData, frameAD())
	if err != nil {
		return nil, fmt.Errorf("%w: frame sender data (another epoch, or altered)", ErrDecrypt)
	}
	sender, err := keys.PublicKeyFromBytes(plain[:keys.PublicKeySize])
	if err != nil {
		return nil, fmt.Errorf("%w: frame sender: %w", ErrMalformed, err)
	}
	e := &Envelope{
		Group:      gk.Group,
		Epoch:      gk.Epoch,
		Sender:     sender,
		Seq:        binary.BigEndian.Uint64(plain[keys.PublicKeySize:]),
		Ciphertext: m.Ciphertext,
		Signature:  plain[keys.PublicKeySize+8:],
	}
	if err := e.validate(); err != nil {
		return nil, err
	}
	return e, nil
}
