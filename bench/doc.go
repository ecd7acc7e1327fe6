// Package bench measures how fast and how robust Backchannel is, each figure
// beside a raw go-libp2p or go-libp2p-pubsub baseline measured in the same
// run on the same machine. `backchannel bench` runs it.
//
// A run is a list of scenarios (one file each): 1:1 latency and throughput,
// live rooms of 10 to 100 nodes, a late joiner, the store with a million
// messages, the idle daemon's memory, a group of 30, and the fault
// scenarios (a recipient killed mid-burst, a room listener cut off and
// back, a node flooded by a stranger, a group member away, every node
// restarting at once with messages queued), and a mailbox drain (messages
// deposited at a helper while the recipient is away, timed from the
// recipient's start to its last commit, beside one raw stream and a raw
// Badger write of the same bytes), and a room's audience (presence, votes
// and the host's tallies of them) measured per listener as the room grows,
// with votes on the topic and handed to the host as ballots (audience.go;
// each node's bytes counted through node.Config.BandwidthReporter). Every node runs on loopback behind a
// connection gater that refuses any other address, and a scenario fails if
// the gater refused anything.
//
// Rooms and groups are compared over several runs (Options.Runs): each run
// is a round of ours, raw GossipSub and signed raw GossipSub (the baseline),
// each on nodes started afresh, and each figure is the median of the runs
// with its range, beside the process's CPU per delivered message and the
// machine's busy share during each side's window; the latency target is
// judged only where signed raw left the machine under BusyLimit busy, and
// the last run searches each side's saturation point (compare.go). 1:1 is
// set beside its durable floor (dmfloor.go).
//
// Run returns a Report: a table (WriteTable) and JSON (encoding/json). The
// PNG plot of room latency against room size is drawn from that JSON by
// cmd/benchplot, so that this package, linked into the daemon's binary
// through `backchannel bench`, does not pull in gonum/plot. Fault scenarios
// count messages sent, delivered, lost and duplicated; lost and duplicated
// must be zero.
//
// The fault scenario that kills a recipient with SIGKILL runs that recipient
// as a child process: the running executable started again with an
// environment variable. A program that calls Run must therefore call
// RunChild first thing in main (and a test binary in TestMain).
package bench
