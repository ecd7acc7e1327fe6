// Package peerbook is the node's memory of the network: where the peers it
// has met were last seen (addresses, libp2p's signed peer record, a last-seen
// time, whether the peer relays or serves the DHT), kept in the store so that
// a node that restarts finds its peers again by itself.
//
// At start the book gives libp2p's peerstore every address it remembers,
// then dials, in this order, the peers the node has pending work for, the
// other peers it wants (contacts, fellow group members), and a bounded set of
// recently seen peers, as Kubo does with the peers it remembers. The DHT
// bootstraps from the remembered bootstrap peers and DHT servers, and a node
// behind a NAT reserves relay slots on the remembered relays (helpers).
//
// The book is bounded: at most Config.MaxPeers peers, each with at most
// maxAddrs addresses and a signed record of at most maxRecordBytes; past the
// bound the least recently seen peer is forgotten, never a bootstrap peer
// nor a peer the node wants.
package peerbook
