// Package requests is the requests inbox: what peers who are not accepted
// contacts (strangers) may make a node store and do, and what the user does
// with their threads.
//
// Admission holds the rate limiters and Limits, and the stranger checks the
// 1:1 receive path asks for each envelope (per-sender and global rates, the
// thread and inbox caps, the proof-of-work stamp or a one-time invite token
// instead). Service lists request threads and accepts or declines them;
// accepting sends the stranger our profile, an acceptance notice and the
// read receipts they missed, through the small Sender interface the 1:1
// service (node/dm) satisfies.
package requests
