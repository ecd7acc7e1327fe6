package node

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/internal/dmpb"
)

// preKeyTimeout bounds one bundle exchange.
const preKeyTimeout = 10 * time.Second

// handlePreKeys answers one bundle request with a bundle holding a freshly
// minted one-time prekey, within the per-peer rate limit.
func (n *Node) handlePreKeys(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(preKeyTimeout))
	var req dmpb.PreKeyRequest
	if err := readFrame(bufio.NewReader(s), &req); err != nil {
		n.log.Warn("prekey request malformed", "from", p, "err", err)
		s.Reset()
		return
	}
	var resp dmpb.PreKeyResponse
	if !n.gate.allowPreKey(p) {
		resp.Error = "rate limited"
	} else if b, err := n.mintBundle(time.Now()); err != nil {
		n.log.Error("minting bundle failed", "err", err)
		resp.Error = "internal error"
	} else if resp.Bundle, err = b.MarshalBinary(); err != nil {
		n.log.Error("encoding bundle failed", "err", err)
		resp.Bundle, resp.Error = nil, "internal error"
	}
	if err := writeFrame(s, &resp); err != nil {
		n.log.Debug("prekey response not sent", "to", p, "err", err)
		s.Reset()
	}
}

// fetchBundle asks p for a prekey bundle and verifies it is p's.
func (n *Node) fetchBundle(ctx context.Context, p peer.ID) (identity.Bundle, error) {
	ctx, cancel := context.WithTimeout(ctx, preKeyTimeout)
	defer cancel()
	s, err := n.net.Host().NewStream(ctx, p, ProtocolPreKeys)
	if err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(preKeyTimeout))
	if err := writeFrame(s, &dmpb.PreKeyRequest{}); err != nil {
		s.Reset()
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	var resp dmpb.PreKeyResponse
	if err := readFrame(bufio.NewReader(s), &resp); err != nil {
		s.Reset()
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	if resp.Error != "" {
		return identity.Bundle{}, fmt.Errorf("prekeys: %s refused: %s", p.ShortString(), resp.Error)
	}
	b, err := identity.UnmarshalBundle(resp.Bundle)
	if err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	want, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	if b.Identity.Key != want {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w: bundle of another identity", ErrProtocol)
	}
	if err := b.Verify(time.Now()); err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	return b, nil
}
