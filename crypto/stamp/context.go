package stamp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/backchannel/backchannel/crypto/keys"
)

// MessageHash identifies the message a stamp pays for: the SHA-256 of the
// message bytes under this package's domain (see HashMessage). Its zero value
// is invalid.
type MessageHash [32]byte

// messageHashDomain separates HashMessage from every other SHA-256 use.
const messageHashDomain = "backchannel/stamp/message/v1\x00"

// HashMessage hashes the message a stamp is for, normally the encoded first
// message the sender delivers to the recipient. Sender and recipient must
// hash the same bytes.
func HashMessage(msg []byte) MessageHash {
	h := sha256.New()
	h.Write([]byte(messageHashDomain))
	h.Write(msg)
	var mh MessageHash
	h.Sum(mh[:0])
	return mh
}

// IsZero reports whether h is the zero value.
func (h MessageHash) IsZero() bool { return h == MessageHash{} }

// String returns the hash in hex.
func (h MessageHash) String() string { return hex.EncodeToString(h[:]) }

// Context is what a stamp is bound to. Sender and recipient compute it
// independently; a stamp made for one Context never verifies for another.
type Context struct {
	// Recipient is the identity the message is for.
	Recipient keys.PublicKey
	// Sender is the identity the message is from.
	Sender keys.PublicKey
	// MessageHash identifies the message, see HashMessage.
	MessageHash MessageHash
}

// check reports ErrInvalidContext for a zero field.
func (c Context) check() error {
	switch {
	case c.Recipient.IsZero():
		return fmt.Errorf("%w: zero recipient", ErrInvalidContext)
	case c.Sender.IsZero():
		return fmt.Errorf("%w: zero sender", ErrInvalidContext)
	case c.MessageHash.IsZero():
		return fmt.Errorf("%w: zero message hash", ErrInvalidContext)
	}
	return nil
}
