// Package groups runs a node's private groups: end-to-end encrypted group
// chats of up to ~100 members over one GossipSub topic per group, with
// epoch keys rotated on every membership change (see DESIGN.md, Groups).
//
// A Service is made with New from a Config, started with Start (which
// serves /backchannel/groups/sync/1.0.0 and joins again the groups joined
// before) and stopped with Close. Package node delegates its group
// operations to it.
//
// Invitations, epoch keys and roster notices travel over the members' 1:1
// sessions. Groups do not import the 1:1 code: they declare what they need
// of it, Chats (queue a control content into a peer's outbox in a store
// transaction) and Inbound (the 1:1 receive transaction a control content
// arrived in, handed to HandleControl). Control contents cross as a
// ControlKind and the bytes of the groupspb message, so groups own their
// wire types.
//
// Files: service.go (Service, lifecycle, per-group locks), chats.go (the
// 1:1 interfaces, HandleControl), control.go (control contents received),
// roster.go (roster changes, forks re-applied), membership.go (accept,
// decline, leave), live.go (a joined group's topic and goroutines, over
// node/internal/topic), send.go and receive.go (sealing, storing,
// opening), receipts.go and messages.go (delivery and read state, the
// thread), sync.go (when and with whom to sync, adopting the answer),
// info.go (listing), types.go (the types package node re-exports).
//
// Subpackages, each with one job and none importing this one:
// rosterchain (the verified roster chain, its adoption and fork rules, the
// keys stored and parked on it), content (message kinds, encoding an
// outgoing message, applying an opened one to the store, receipts' marks),
// gate (the topic validator, its rosters view and the envelopes kept
// aside) and groupsync (the history sync protocol: asking, serving,
// answering from the store, checking an answer).
package groups
