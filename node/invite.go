package node

import "github.com/backchannel/backchannel/node/contacts"

// Invite is what a link or QR code carries so that someone can reach a node;
// see contacts.Invite.
type Invite = contacts.Invite

// ParseInvite reads an invite link, or a bare peer ID.
func ParseInvite(s string) (Invite, error) { return contacts.ParseInvite(s) }
