package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api/client"
)

type (
	peerClient = *client.Client
	peerFunc   = func(ctx context.Context, peer string) error
)

// peerDid says what each peer command did, by its verb.
var peerDid = map[string]string{
	"accept":  "accepted %s: the conversation is in your inbox",
	"decline": "declined %s's request",
	"block":   "blocked %s",
	"unblock": "unblocked %s",
}

// peerCmd makes a command that applies one client call to one peer (a
// name or peer ID) and prints what it did (peerDid).
func (a *app) peerCmd(use, short string, pick func(peerClient) peerFunc) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := pick(c)(cmd.Context(), args[0]); err != nil {
				return err
			}
			did, ok := peerDid[cmd.Name()]
			if !ok {
				did = cmd.Name() + " %s: done"
			}
			return a.done(did, sanitize(args[0]))
		},
	}
}
