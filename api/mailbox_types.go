package api

import "time"

// The JSON bodies of the mailbox endpoints. A mailbox holds a recipient's
// 1:1 mail, sealed to the recipient, while the recipient is offline.

// Mailbox is one mailbox we appointed: PeerID holds our mail from Issued
// until Expires. LastDrain is when we last took what it held (left out:
// not since the node started); DrainError says why the last drain failed,
// if it did (the mailbox's own words may be in it).
type Mailbox struct {
	PeerID     string     `json:"peer_id"`
	Issued     *time.Time `json:"issued,omitempty"`
	Expires    *time.Time `json:"expires,omitempty"`
	LastDrain  *time.Time `json:"last_drain,omitempty"`
	DrainError string     `json:"drain_error,omitempty"`
}

// Mailboxes is the body of GET /v1/mailboxes.
type Mailboxes struct {
	Mailboxes []Mailbox `json:"mailboxes"`
}

// KnownMailbox is a mailbox a peer told us of: we deposit there what we
// cannot deliver to the peer. Capability: we deposit as the peer's
// contact; else as a stranger, under the stranger limits.
type KnownMailbox struct {
	PeerID     string     `json:"peer_id"`
	Expires    *time.Time `json:"expires,omitempty"`
	Capability bool       `json:"capability"`
}

// KnownMailboxes is the body of GET /v1/contacts/{peer}/mailboxes.
type KnownMailboxes struct {
	PeerID    string         `json:"peer_id"`
	Mailboxes []KnownMailbox `json:"mailboxes"`
}

// MailboxHeld is what this node holds, as a mailbox, for one recipient:
// counts and sizes only, since the items are sealed to the recipient.
// StrangerItems counts the items deposited by strangers of the recipient.
type MailboxHeld struct {
	Recipient     string     `json:"recipient"`
	Items         int        `json:"items"`
	StrangerItems int        `json:"stranger_items"`
	Bytes         int64      `json:"bytes"`
	Appointed     *time.Time `json:"appointed,omitempty"`
	Expires       *time.Time `json:"expires,omitempty"`
}

// MailboxesHeld is the body of GET /v1/mailbox/held.
type MailboxesHeld struct {
	Held []MailboxHeld `json:"held"`
}

// MailboxServing is the body of GET and PUT /v1/mailbox/serve: whether
// this node holds mail for others. Helper: it runs as a helper (the
// daemon's --helper), holding mail for anyone who appoints it; Contacts:
// it holds mail for accepted contacts who appoint it.
type MailboxServing struct {
	Helper   bool `json:"helper"`
	Contacts bool `json:"contacts"`
}

// AppointMailboxRequest is the body of POST /v1/mailboxes. Peer is a peer
// ID or a contact's name; Days is how long the appointment lasts (0: the
// node's default, 90 days).
type AppointMailboxRequest struct {
	Peer string `json:"peer"`
	Days int    `json:"days,omitempty"`
}

// MailboxServeRequest is the body of PUT /v1/mailbox/serve.
type MailboxServeRequest struct {
	Contacts bool `json:"contacts"`
}
