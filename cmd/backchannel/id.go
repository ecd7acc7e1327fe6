package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
)

func (a *app) idCmd() *cobra.Command {
	var oneTime bool
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Show this node's peer ID, addresses and invite link",
		Long: "Show this node's peer ID, addresses and invite link. Give the invite link to a\n" +
			"contact: `backchannel contacts add LINK` on their side. With --one-time the link\n" +
			"carries a token that lets its first user write without the proof-of-work stamp\n" +
			"the daemon may ask of strangers (--stamp-difficulty).\n" +
			"--json prints the body of GET /v1/id: {\"peer_id\", \"name\", \"addrs\", \"invite\"}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			self, err := c.Self(cmd.Context())
			if err != nil {
				return err
			}
			if oneTime {
				if self.Invite, err = c.NewInvite(cmd.Context(), true); err != nil {
					return err
				}
			}
			if a.json {
				return a.printJSON(self)
			}
			printKV(a.stdout,
				[2]string{"peer ID", self.PeerID},
				[2]string{"name", self.Name},
				[2]string{"invite", self.Invite},
				[2]string{"addresses", strings.Join(self.Addrs, "\n\t")},
			)
			return nil
		},
	}
	cmd.Flags().BoolVar(&oneTime, "one-time", false, "put a one-time token in the invite link")
	return cmd
}

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the node's network status: peers, DHT, reachability, outbox",
		Long:  "Show the node's network status.\n--json prints the body of GET /v1/status.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(st)
			}
			rows := [][2]string{
				{"peer ID", st.PeerID},
				{"connected peers", strconv.Itoa(st.ConnectedPeers)},
				{"DHT", fmt.Sprintf("%s mode, %d peers in the routing table", st.DHTMode, st.RoutingTableSize)},
				{"reachability", st.Reachability},
				{"outbox", fmt.Sprintf("%d messages pending", st.OutboxPending)},
				{"listening on", strings.Join(st.ListenAddrs, "\n\t")},
			}
			if len(st.ObservedAddrs) > 0 {
				rows = append(rows, [2]string{"seen by peers as", strings.Join(st.ObservedAddrs, "\n\t")})
			}
			if len(st.Relays) > 0 {
				rows = append(rows, [2]string{"relays", strings.Join(st.Relays, "\n\t")})
			}
			var links []string
			for _, l := range st.Links {
				kind := l.Kind
				if l.HolePunched && kind == "direct" {
					kind = "direct (hole punched)"
				}
				links = append(links, fmt.Sprintf("%s: %s", sanitize(who(l.Name, l.PeerID)), kind))
			}
			if len(links) > 0 {
				rows = append(rows, [2]string{"contacts online", strings.Join(links, "\n\t")})
			}
			if len(st.Topics) > 0 {
				rows = append(rows, [2]string{"topics", strings.Join(topicLines(st.Topics), "\n\t")})
			}
			printKV(a.stdout, rows...)
			return nil
		},
	}
}

func (a *app) profileCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Manage the profile your contacts see",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "set NAME",
		Short: "Set the name your contacts see (sent when you accept a request)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.SetProfileName(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.done("your contacts now see you as %s", sanitize(args[0]))
		},
	})
	return cmd
}

// topicLines describes each joined topic on a line: kind and name, peers,
// mesh peers and the lowest scores.
func topicLines(ts []api.TopicStatus) []string {
	var lines []string
	for _, t := range ts {
		line := fmt.Sprintf("%s %s: %d peers, %d in the mesh", t.Kind, sanitize(t.Name), t.Peers, t.MeshPeers)
		if len(t.LowestScores) > 0 {
			var low []string
			for _, s := range t.LowestScores {
				low = append(low, fmt.Sprintf("%s %.1f", s.PeerID, s.Score))
			}
			line += "; lowest scores " + strings.Join(low, ", ")
		}
		lines = append(lines, line)
	}
	return lines
}
