package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
)

// mailboxCmd manages mailboxes: the peers that hold our 1:1 mail while we
// are offline, and what this node holds for others.
func (a *app) mailboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mailbox",
		Short: "Appoint peers that hold your mail while you are offline; hold mail for others",
		Long: "A mailbox holds your 1:1 mail, sealed to you, while you are offline: a helper\n" +
			"(`backchannel daemon --helper` on an always-on machine) or a contact who agreed\n" +
			"(`backchannel mailbox serve on` on their side). Your contacts deposit there what\n" +
			"they cannot deliver; your node drains it when it comes back.",
	}
	cmd.AddCommand(a.mailboxAppointCmd(), a.mailboxListCmd(), a.mailboxRevokeCmd(), a.mailboxDrainCmd(),
		a.mailboxHeldCmd(), a.mailboxServeCmd())
	return cmd
}

func (a *app) mailboxAppointCmd() *cobra.Command {
	var days int
	cmd := &cobra.Command{
		Use:   "appoint PEER",
		Short: "Ask a peer (a helper, or a contact who agreed) to hold your mail while you are offline",
		Long: "Ask a peer (a peer ID or a contact's name) to hold your mail while you are offline,\n" +
			"for --days (default 90), and tell your contacts to deposit there. Appointing a\n" +
			"mailbox again renews it. At most four mailboxes.\n" +
			"--json prints the mailbox, as in GET /v1/mailboxes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Left out, days is 0: the daemon's default. Given, it is
			// checked, as --limit is: --days 0 is not read as the default.
			if cmd.Flags().Changed("days") {
				if err := checkRange("--days", days, 1, api.MaxMailboxDays); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			m, err := c.AppointMailbox(cmd.Context(), args[0], days)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "appointed %s as your mailbox until %s\n", m.PeerID, showTime(m.Expires))
			return nil
		},
	}
	cmd.Flags().IntVar(&days, "days", 0, fmt.Sprintf("how many days the appointment lasts, 1 to %d (default 90)", api.MaxMailboxDays))
	return cmd
}

func (a *app) mailboxListCmd() *cobra.Command {
	var of string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your mailboxes (or, with --of, a contact's): when they expire, when they were last drained",
		Long: "List the mailboxes you appointed.\n--json prints the body of GET /v1/mailboxes: {\"mailboxes\": [...]}.\n" +
			"With --of PEER, the mailboxes that peer told you of, where your node deposits for it\n" +
			"(--json: the body of GET /v1/contacts/{peer}/mailboxes).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// --of "" would list your own mailboxes instead.
			if err := checkNotEmpty(cmd, "--of", of, "a peer ID or a contact's name"); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if of != "" {
				ms, err := c.MailboxesOf(cmd.Context(), of)
				if err != nil {
					return err
				}
				return a.printKnownMailboxes(of, ms, a.names(cmd.Context(), c))
			}
			ms, err := c.Mailboxes(cmd.Context())
			if err != nil {
				return err
			}
			return a.printMailboxes(ms, a.names(cmd.Context(), c))
		},
	}
	cmd.Flags().StringVar(&of, "of", "", "list the mailboxes this peer (ID or contact name) told you of")
	return cmd
}

// printKnownMailboxes prints the mailboxes a peer told us of.
func (a *app) printKnownMailboxes(of string, known api.KnownMailboxes, names peerNames) error {
	if a.json {
		return a.printJSON(known)
	}
	ms := known.Mailboxes
	if len(ms) == 0 {
		fmt.Fprintf(a.stdout, "%s told you of no mailbox: messages to it wait until it is online\n", sanitize(of))
		return nil
	}
	tw := a.table()
	fmt.Fprintln(tw, "MAILBOX\tPEER ID\tEXPIRES\tAS")
	for _, m := range ms {
		as := "stranger (with stamps)"
		if m.Capability {
			as = "contact"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sanitize(dash(names[m.PeerID])), m.PeerID, showTime(m.Expires), as)
	}
	return tw.Flush()
}

// printMailboxes prints our mailboxes; the last drain's error may quote
// the mailbox, and a name may be one a peer gave itself, so both are made
// safe for the terminal.
func (a *app) printMailboxes(ms []api.Mailbox, names peerNames) error {
	if a.json {
		return a.printJSON(api.Mailboxes{Mailboxes: ms})
	}
	if len(ms) == 0 {
		fmt.Fprintln(a.stdout, "no mailboxes: appoint one with `backchannel mailbox appoint PEER`")
		return nil
	}
	tw := a.table()
	fmt.Fprintln(tw, "MAILBOX\tPEER ID\tEXPIRES\tLAST DRAINED\tERROR")
	for _, m := range ms {
		last := showTime(m.LastDrain)
		if m.LastDrain == nil {
			last = "not since start"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sanitize(dash(names[m.PeerID])), m.PeerID, showTime(m.Expires), last,
			sanitize(dash(oneLine(m.DrainError, 80))))
	}
	return tw.Flush()
}

func (a *app) mailboxRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke PEER",
		Short: "End a mailbox's appointment (after draining it if it can be reached)",
		Long: "End a mailbox's appointment: your node drains it first if it can be reached, asks it\n" +
			"to delete what it holds for you, and tells your contacts.\n" +
			"--json prints the mailboxes left, as GET /v1/mailboxes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RevokeMailbox(cmd.Context(), args[0]); err != nil {
				return err
			}
			if a.json {
				ms, err := c.Mailboxes(cmd.Context())
				if err != nil {
					return err
				}
				return a.printJSON(api.Mailboxes{Mailboxes: ms})
			}
			fmt.Fprintf(a.stdout, "revoked mailbox %s\n", sanitize(args[0]))
			return nil
		},
	}
}

func (a *app) mailboxDrainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "drain",
		Short: "Take what your mailboxes hold for you now",
		Long: "Take what your mailboxes hold for you now (the node also drains them at start, when\n" +
			"told of new mail, and every few minutes), then list them.\n" +
			"--json prints the mailboxes, as GET /v1/mailboxes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DrainMailboxes(cmd.Context()); err != nil {
				return err
			}
			ms, err := c.Mailboxes(cmd.Context())
			if err != nil {
				return err
			}
			if !a.json {
				fmt.Fprintf(a.stdout, "drained %d %s\n", len(ms), plural(len(ms), "mailbox", "mailboxes"))
				if len(ms) == 0 {
					return nil
				}
			}
			return a.printMailboxes(ms, a.names(cmd.Context(), c))
		},
	}
}

func (a *app) mailboxHeldCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "held",
		Short: "List what this node holds as a mailbox for others: counts and sizes, never contents",
		Long: "List what this node holds as a mailbox, per recipient: items (those from the\n" +
			"recipient's strangers apart), bytes, when it was appointed and until when. The items\n" +
			"are sealed to their recipient: this node cannot read them, nor see who wrote them.\n" +
			"--json prints the body of GET /v1/mailbox/held: {\"held\": [...]}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			hs, err := c.MailboxHeld(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.MailboxesHeld{Held: hs})
			}
			if len(hs) == 0 {
				sv, err := c.MailboxServing(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, "holding no mail for anyone; "+servingLine(sv))
				return nil
			}
			names := a.names(cmd.Context(), c)
			tw := a.table()
			fmt.Fprintln(tw, "RECIPIENT\tPEER ID\tITEMS\tFROM STRANGERS\tSIZE\tAPPOINTED\tEXPIRES")
			for _, h := range hs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", sanitize(dash(names[h.Recipient])), h.Recipient,
					h.Items, h.StrangerItems, showBytes(h.Bytes), showTime(h.Appointed), showTime(h.Expires))
			}
			return tw.Flush()
		},
	}
}

func (a *app) mailboxServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve [on|off]",
		Short: "Say whether this node holds mail for your contacts who appoint it; without an argument, show it",
		Long: "With on, this node holds mail for your accepted contacts who appoint it as their\n" +
			"mailbox; with off, it refuses new appointments from them. Without an argument, show\n" +
			"whom it holds mail for. A helper (`backchannel daemon --helper`) holds mail for anyone.\n" +
			"--json prints {\"helper\", \"contacts\"}, as GET /v1/mailbox/serve.",
		Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var sv api.MailboxServing
			if len(args) == 0 {
				sv, err = c.MailboxServing(cmd.Context())
			} else {
				sv, err = c.SetMailboxServeContacts(cmd.Context(), args[0] == "on")
			}
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(sv)
			}
			if len(args) > 0 {
				fmt.Fprintf(a.stdout, "holding mail for your contacts: %s\n", args[0])
			}
			fmt.Fprintln(a.stdout, servingLine(sv))
			return nil
		},
	}
}

// servingLine says whom the node holds mail for.
func servingLine(sv api.MailboxServing) string {
	switch {
	case sv.Helper:
		return "as a helper, this node holds mail for anyone who appoints it"
	case sv.Contacts:
		return "this node holds mail for your contacts who appoint it"
	}
	return "this node holds mail for no one (`backchannel mailbox serve on` holds your contacts')"
}

// showBytes is a size for people: bytes, KiB, MiB or GiB.
func showBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
