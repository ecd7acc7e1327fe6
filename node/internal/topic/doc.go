// Package topic is the machinery a joined GossipSub topic needs, shared by
// live rooms (node/rooms) and private groups (node/groups), each with its
// own policy as parameters:
//
//   - Queue: our messages, already stored, waiting to be published in
//     order; each publish waits a bounded time for the topic's mesh, and
//     what is not sent then is left to the protocol's history sync;
//   - ReadBatches: a topic's reader that takes what is already waiting,
//     up to a batch, at once, so that one transaction or one wake-up
//     serves many messages;
//   - Go, Every and AfterPoke: goroutines and timers scoped to a join,
//     which leaving the topic (or closing the service) ends and waits for.
//
// Nothing here adds a goroutine hop or an allocation per message: the
// queue is the one channel between the sender and the publishing
// goroutine, and the reader reuses its batch.
package topic
