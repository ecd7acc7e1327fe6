package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/client"
)

func (a *app) sendCmd() *cobra.Command {
	var replyTo, react, key string
	cmd := &cobra.Command{
		Use:   "send TO TEXT...",
		Short: "Send a message to a contact (a name or a peer ID)",
		Long: "Send a message to a contact, named by your name for them or their peer ID.\n" +
			"The words of TEXT are joined with spaces. The message is queued and delivered\n" +
			"when the peer is reachable. --react ID sends TEXT (an emoji) as a reaction to\n" +
			"message ID.\n--json prints the message, as in GET /v1/conversations/{peer}/messages.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if react != "" && replyTo != "" {
				return fmt.Errorf("--react and --reply-to: choose one")
			}
			if err := checkMsgRef("--reply-to", replyTo, dmIDLen); err != nil {
				return err
			}
			if err := checkMsgRef("--react", react, dmIDLen); err != nil {
				return err
			}
			if err := checkSendKey(key); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if key == "" {
				key = rand.Text() // the daemon stores one message per key
			}
			req := api.SendRequest{To: args[0], Text: strings.Join(args[1:], " "), ReplyTo: replyTo, Key: key}
			if react != "" {
				req.Kind, req.ReplyTo = "reaction", react
			}
			m, err := c.Send(cmd.Context(), req)
			if errors.Is(err, client.ErrNoAnswer) {
				// It may have stored the message before it went: the same
				// key once it is back sends it at most once.
				return fmt.Errorf("the daemon stopped before it answered; it may have stored your message, "+
					"and then sends it when it runs again. To be sure, once it is back run the same command "+
					"with --key %s: the message is then sent once, whether or not it was stored", key)
			}
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "%s %s\n", showState(m.State), m.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&replyTo, "reply-to", "", "ID of the message this replies to (or 6+ of its first hex digits)")
	cmd.Flags().StringVar(&react, "react", "", "ID of the message this reacts to, or 6+ of its first hex digits (TEXT is the emoji)")
	cmd.Flags().StringVar(&key, "key", "", "idempotency key: a send retried with the same key stores one message (random by default)")
	return cmd
}

func (a *app) inboxCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inbox",
		Short: "List conversations with your contacts, newest first",
		Long:  "List conversations with your contacts, newest first. Strangers' messages are in `backchannel requests`.\n--json prints the body of GET /v1/inbox: {\"conversations\": [...]}.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			cs, err := c.Inbox(cmd.Context())
			if err != nil {
				return err
			}
			return a.printConversations(cs, "inbox empty")
		},
	}
}

func (a *app) readCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "read PEER",
		Short: "Print the conversation with a peer and mark it read",
		Long: "Print the latest messages with a peer (a name or a peer ID), oldest first, and mark\n" +
			"the conversation read.\n--json prints the body of GET /v1/conversations/{peer}/messages: {\"messages\": [...]}, newest first.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(limit, maxMessagesLimit); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ms, err := c.Messages(cmd.Context(), args[0], limit, time.Time{})
			if err != nil {
				return err
			}
			if err := c.MarkRead(cmd.Context(), args[0]); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.Messages{Messages: ms})
			}
			if len(ms) == 0 {
				fmt.Fprintln(a.stdout, "no messages")
				return nil
			}
			name := a.peerName(cmd.Context(), c, ms[0].PeerID, args[0])
			for _, m := range slices.Backward(ms) {
				from := name
				if m.Direction == "outbound" {
					from = "you"
				}
				text := m.Text
				if m.ReplyTo != "" {
					text = fmt.Sprintf("(%s to %s) %s", m.Kind, m.ReplyTo, text)
				}
				// The whole line is sanitized: the body, a reaction's emoji,
				// the peer's name are the peer's words.
				line := fmt.Sprintf("%s  %s: %s  [%s %s]", showTime(m.Sent), from, text, showState(m.State), m.ID)
				fmt.Fprintln(a.stdout, sanitize(line))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many of the latest messages to print (1 to 1000)")
	return cmd
}

// peerName is how read shows a peer: our name for them, else their profile
// name, else what the user typed.
func (a *app) peerName(ctx context.Context, c *client.Client, peerID, typed string) string {
	cs, err := c.Contacts(ctx)
	if err != nil {
		return typed
	}
	for _, ct := range cs {
		if ct.PeerID == peerID {
			return cmp.Or(ct.Name, ct.ProfileName, typed)
		}
	}
	return typed
}
