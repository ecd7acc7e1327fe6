package main

import (
	"github.com/spf13/cobra"
)

func (a *app) requestsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "List message requests from strangers; accept, decline or block them",
		Long: "List message requests: conversations started by peers who are not your contacts.\n" +
			"They get no read receipts, typing or profile until you accept.\n" +
			"--json prints the body of GET /v1/requests: {\"conversations\": [...]}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			cs, err := c.Requests(cmd.Context())
			if err != nil {
				return err
			}
			names := map[string]string{}
			if rs, err := c.Rooms(cmd.Context()); err == nil { // names are a nicety
				for _, r := range rs {
					names[r.ID] = r.Name
				}
			}
			return a.printConversationsFrom(cs, "no requests", names)
		},
	}
	cmd.AddCommand(
		a.peerCmd("accept PEER", "Accept a request: the thread moves to the inbox and the peer gets your profile", func(c peerClient) peerFunc { return c.Accept }),
		a.peerCmd("decline PEER", "Decline a request: the thread is deleted and the peer is not told", func(c peerClient) peerFunc { return c.Decline }),
		a.peerCmd("block PEER", "Block the peer: the thread is deleted and their later messages dropped (they are not told)", func(c peerClient) peerFunc { return c.BlockRequest }),
	)
	return cmd
}
