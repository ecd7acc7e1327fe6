package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
)

func (a *app) eventsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "events",
		Short: "Print the node's events as they happen (new messages, states, requests, typing) until interrupted",
		Long: "Print the node's events as they happen until interrupted.\n" +
			"--json prints one JSON Event per line, as the GET /v1/events WebSocket sends them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			return c.Events(cmd.Context(), func(e api.Event) error {
				if a.json {
					return printJSONLine(a, e)
				}
				_, err := fmt.Fprintln(a.stdout, describeEvent(e))
				return err
			})
		},
	}
}

func printJSONLine(a *app, v any) error {
	return a.jsonEncoder("").Encode(v)
}

// describeEvent is one line for people.
func describeEvent(e api.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s", showTime(e.Time), e.Type)
	if e.PeerID != "" {
		fmt.Fprintf(&b, "  %s", e.PeerID)
	}
	switch {
	case e.Message != nil:
		fmt.Fprintf(&b, "  [%s %s] %s", e.Message.State, e.Message.ID, oneLine(e.Message.Text, 80))
	case e.Room != nil:
		fmt.Fprintf(&b, "  room %s  %s %s", e.Room.RoomID, e.Room.Kind, short(e.Room.MessageID))
	case e.Group != nil:
		fmt.Fprintf(&b, "  group %s  epoch %d", e.Group.GroupID, e.Group.Epoch)
		for _, s := range []string{e.Group.Kind, short(e.Group.MessageID), e.Group.State} {
			if s != "" {
				fmt.Fprintf(&b, " %s", s)
			}
		}
	case e.Contact != nil:
		fmt.Fprintf(&b, "  %s %s", e.Contact.State, who(e.Contact.Name, e.Contact.ProfileName))
	case e.Type == "typing":
		if e.Typing {
			b.WriteString("  typing")
		} else {
			b.WriteString("  stopped typing")
		}
	}
	// Bodies and names are a peer's words; kinds and states pass through
	// the API from the node: the whole line is sanitized.
	return sanitize(b.String())
}
