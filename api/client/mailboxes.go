package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/backchannel/backchannel/api"
)

// Mailboxes lists the mailboxes the node appointed.
func (c *Client) Mailboxes(ctx context.Context) ([]api.Mailbox, error) {
	v, err := get[api.Mailboxes](ctx, c, "/v1/mailboxes")
	return v.Mailboxes, err
}

// AppointMailbox asks a peer (a peer ID or a contact's name) to hold the
// node's mail while it is offline, for days (0: the default, 90 days).
func (c *Client) AppointMailbox(ctx context.Context, peer string, days int) (api.Mailbox, error) {
	var v api.Mailbox
	err := c.do(ctx, http.MethodPost, "/v1/mailboxes", api.AppointMailboxRequest{Peer: peer, Days: days}, &v)
	return v, err
}

// RevokeMailbox ends a mailbox's appointment, draining it first if it can.
func (c *Client) RevokeMailbox(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodDelete, "/v1/mailboxes/"+url.PathEscape(peer), nil, nil)
}

// DrainMailboxes takes what the node's mailboxes hold for it now.
func (c *Client) DrainMailboxes(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/mailboxes/drain", nil, nil)
}

// MailboxHeld lists what the node holds as a mailbox, per recipient.
func (c *Client) MailboxHeld(ctx context.Context) ([]api.MailboxHeld, error) {
	v, err := get[api.MailboxesHeld](ctx, c, "/v1/mailbox/held")
	return v.Held, err
}

// MailboxServing reports whom the node holds mail for.
func (c *Client) MailboxServing(ctx context.Context) (api.MailboxServing, error) {
	return get[api.MailboxServing](ctx, c, "/v1/mailbox/serve")
}

// SetMailboxServeContacts says whether the node holds mail for accepted
// contacts that appoint it.
func (c *Client) SetMailboxServeContacts(ctx context.Context, on bool) (api.MailboxServing, error) {
	var v api.MailboxServing
	err := c.do(ctx, http.MethodPut, "/v1/mailbox/serve", api.MailboxServeRequest{Contacts: on}, &v)
	return v, err
}

// MailboxesOf lists the mailboxes a peer (ID or name) told the node of,
// with the peer's resolved ID.
func (c *Client) MailboxesOf(ctx context.Context, peer string) (api.KnownMailboxes, error) {
	return get[api.KnownMailboxes](ctx, c, peerPath("contacts", peer, "mailboxes"))
}
