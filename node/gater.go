package node

import "github.com/backchannel/backchannel/internal/loopback"

// LoopbackGater keeps a node on loopback addresses; see loopback.Gater.
type LoopbackGater = loopback.Gater
