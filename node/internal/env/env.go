// Package env is what the node hands each of its services (1:1 chats,
// contacts, rooms, groups): the store, the identity, the network, the event
// bus, a logger, a clock for send times and the node's lifetime. A service
// gets this and nothing else of the node, so it can be read, built and
// tested on its own.
package env

import (
	"log/slog"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

// Env is a service's environment. Every field is set by the node.
type Env struct {
	Store    *storage.Store
	Identity identity.Identity
	Net      *p2p.Network
	Bus      *event.Bus
	Log      *slog.Logger
	Life     *Lifetime
	Clock    *SendClock
}
