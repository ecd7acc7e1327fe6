// Package dm is the 1:1 chat service: X3DH + Double Ratchet sessions over
// two stream protocols.
//
//   - /backchannel/prekeys/1.0.0: a peer asks for a prekey bundle; the
//     service mints a fresh one-time prekey for each request (rate limited
//     by the Gate) and rotates its signed prekey.
//   - /backchannel/dm/1.0.0: varint-delimited dmpb frames. The sender
//     writes encrypted envelopes; the recipient commits each batch to its
//     store and only then acks it.
//
// Sends are committed in groups by one goroutine (send.go). Messages wait
// in a persistent outbox until acked: it retries with backoff, flushes when
// the peer connects and finds a moved peer through the DHT (outbox.go,
// deliver.go). Every encryption goes through sealEntry (seal.go). The
// receive transaction (receive.go, apply.go) asks the Gate about strangers
// and hands group control contents to the GroupHandler in Config; this
// package knows nothing of groups beyond carrying their bytes.
package dm
