// Package p2p is the libp2p side of a node: it builds the host (or takes
// one a test made, such as a mocknet host), runs the private Kademlia DHT,
// connects to bootstrap peers and to peers by ID (peerstore first, then a
// DHT lookup), keeps keys announced in the DHT (Provider), and keeps a node
// that listens only on loopback behind the loopback connection gater.
//
// Nothing here speaks a Backchannel protocol: services register their own
// stream handlers on Host.
package p2p
