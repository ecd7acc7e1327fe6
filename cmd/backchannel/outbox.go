package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
)

func (a *app) outboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "See and cancel your messages still waiting to be delivered",
		Long: "Your 1:1 messages the node still tries to deliver (the recipient has not been\n" +
			"reachable, and has no mailbox). A message still waiting after --fail-after (a daemon\n" +
			"flag, 30 days by default) is given up and shows failed.",
	}
	cmd.AddCommand(a.outboxListCmd(), a.outboxCancelCmd())
	return cmd
}

func (a *app) outboxListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your messages still waiting to be delivered",
		Long:  "List your messages still waiting to be delivered.\n--json prints the body of GET /v1/outbox: {\"messages\": [...]}.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ms, err := c.Outbox(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.Messages{Messages: nonNilMessages(ms)})
			}
			if len(ms) == 0 {
				fmt.Fprintln(a.stdout, "nothing waiting: every message was delivered or left in a mailbox")
				return nil
			}
			names := a.names(cmd.Context(), c)
			tw := a.table()
			fmt.Fprintln(tw, "ID\tTO\tSENT\tSTATE\tTEXT")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, sanitize(who(names[m.PeerID], m.PeerID)), showTime(m.Sent),
					showState(m.State), sanitize(oneLine(m.Text, 50)))
			}
			return tw.Flush()
		},
	}
}

func (a *app) outboxCancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Stop trying to deliver a waiting message (ID or 6+ of its first hex digits)",
		Long: "Stop trying to deliver a waiting message: it stays in the conversation, marked\n" +
			"failed. One already written to the recipient but not yet acknowledged may still\n" +
			"arrive. --json prints the message.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			m, err := c.CancelMessage(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "cancelled %s: it will not be sent\n", m.ID)
			return nil
		},
	}
}

func nonNilMessages(ms []api.Message) []api.Message {
	if ms == nil {
		return []api.Message{}
	}
	return ms
}
