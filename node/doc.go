// Package node is a Backchannel node: the composition root. It owns the
// libp2p host, the Kademlia DHT, GossipSub and the local store, and wires
// one service per protocol over them.
//
// A Node is made with New from a Config, started with Start and stopped with
// Close. Each service gets an env.Env (store, identity, network, event bus,
// logger, lifetime, send clock) and its own Config, never the Node:
//
//   - node/dm: 1:1 chats over /backchannel/dm/1.0.0 and
//     /backchannel/prekeys/1.0.0: the sender, the persistent outbox, the
//     receive transaction, sessions and prekey bundles;
//   - node/contacts: contacts, invites, profile name, safety numbers;
//   - node/requests: the requests inbox and what strangers may do;
//   - node/rooms: live rooms, their GossipSub topics,
//     /backchannel/rooms/sync/1.0.0 and /backchannel/rooms/ballot/1.0.0;
//   - node/groups: private groups, their GossipSub topics and
//     /backchannel/groups/sync/1.0.0.
//
// Groups send their control contents (invitations, keys, leaves, removals)
// over 1:1 sessions: groups_glue.go joins the two through the interfaces
// package groups declares, so that dm and groups do not import each other.
// The Node's exported methods delegate to the services in one line, so
// callers (api, cmd, bench, demo) see one type.
package node
