package mailbox

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// maxPeerIDSize bounds the peer IDs this package encodes (the mailbox in an
// appointment, the sender in a sealed item). An Ed25519 peer ID is 38 bytes.
const maxPeerIDSize = 64

// checkPeerID checks that id is a multihash, exactly, of at most
// maxPeerIDSize bytes.
func checkPeerID(what string, id peer.ID) error {
	if len(id) == 0 || len(id) > maxPeerIDSize {
		return fmt.Errorf("%w: %s peer ID is %d bytes, want 1 to %d", ErrInvalid, what, len(id), maxPeerIDSize)
	}
	if _, err := peer.IDFromBytes([]byte(id)); err != nil {
		return fmt.Errorf("%w: %s peer ID: %w", ErrInvalid, what, err)
	}
	return nil
}
