// Package mailbox lets a 1:1 message arrive when its sender and recipient
// are never online together: the recipient appoints mailboxes (a helper it
// runs, or a contact who agreed), senders deposit there the envelopes their
// outbox already encrypted, sealed to the recipient, and the recipient
// drains them when it comes back.
//
// One service plays every part over /backchannel/mailbox/1.0.0:
//
//   - as a mailbox (server.go): it keeps appointments, holds each
//     recipient's items in the node's store under quotas per recipient and
//     per depositor, rate limits and a TTL, hands them to the recipient and
//     deletes them once the recipient committed them;
//   - as a recipient (appoint.go, drain.go): it appoints and revokes
//     mailboxes, tells its contacts where to deposit and with which
//     capability (lists.go), and drains its mailboxes at start, when it
//     connects to one, when one tells it new mail arrived, and every few
//     minutes;
//   - as a depositor (deposit.go): it seals frames to the recipient and
//     deposits them in one of the recipient's mailboxes.
//
// The 1:1 service decides when to deposit and handles what is drained
// exactly as if it had come over a DM stream; this package sees only
// sealed bytes. It does not import node/dm: dm declares what it needs as
// an interface and the node joins the two (node/mailbox_glue.go).
package mailbox
