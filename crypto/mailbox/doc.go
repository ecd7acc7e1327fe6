// Package mailbox is the cryptography of mailboxes: peers that hold mail for
// a recipient while it is offline. Senders deposit 1:1 frames, already
// end-to-end encrypted, at the recipient's mailboxes; the recipient drains
// them later. The package is pure: it reads no clock and does no I/O.
//
// It has three parts:
//
//   - Appointment: the recipient's signed statement that a peer holds its mail
//     until a given time. A mailbox shows it to senders, which check it
//     (Verify) before depositing, so a peer cannot pose as someone's
//     mailbox.
//   - SealBatch and Opener: each deposited frame is sealed to the
//     recipient's X25519 identity key with a per-batch ephemeral key, naming
//     the sender inside and padded to a multiple of PadUnit. The mailbox
//     holds items it cannot open and cannot tie to a sender.
//   - Capability: a depositor presents one to prove the recipient allowed it
//     to deposit. It carries a pseudonymous label under the recipient's
//     LabelSecret and a MAC under the CapabilityKey the recipient gave the
//     mailbox, so the mailbox can check it and limit each depositor without
//     learning who it is.
//
// What a mailbox learns: whose mailbox it is (the appointment), each
// depositor's label (stable, so its deposits are linkable to one another but
// not to its peer ID, unless the connection it deposits over gives that
// away), how many items arrive and when, their sizes to within PadUnit bytes,
// and which items were sealed in one batch (they share an ephemeral key). It
// learns neither the senders' identities from the items nor their content.
//
// The sender named inside a sealed item is a claim: sealing authenticates no
// sender. The recipient trusts it only once the frame opens in the 1:1
// session with that sender.
package mailbox
