// Package node is a Backchannel node: it owns the libp2p host, the Kademlia
// DHT and the local store, and wires one service per protocol over them.
//
// A Node is made with New from a Config, started with Start and stopped with
// Close. Each service gets an env.Env (store, identity, network, event bus,
// logger, lifetime, send clock) and its own Config, never the Node:
//
//   - node/dm: 1:1 chats over /backchannel/dm/1.0.0 and
//     /backchannel/prekeys/1.0.0: the sender, the persistent outbox, the
//     receive transaction, sessions and prekey bundles;
//   - node/contacts: contacts, invites, profile name, safety numbers;
//   - node/requests: the requests inbox and what strangers may do.
//
// Groups and rooms still live in this package. The Node's exported methods
// delegate to the services in one line, so callers (api, cmd, bench, demo)
// see one type.
package node
