package p2p

import (
	"context"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

type mdnsNotifee struct {
	h   host.Host
	log *slog.Logger
}

// HandlePeerFound connects to peers found on the local network (opt-in).
func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.h.Connect(ctx, ai); err != nil {
		m.log.Debug("mdns connect failed", "peer", ai.ID, "err", err)
	}
}
