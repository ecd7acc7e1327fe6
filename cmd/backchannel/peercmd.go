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

// peerCmd makes a command that applies one client call to one peer (a
// name or peer ID) and prints nothing on success.
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
			return pick(c)(cmd.Context(), args[0])
		},
	}
}
