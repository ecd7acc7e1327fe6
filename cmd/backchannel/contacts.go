package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
)

func (a *app) contactsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "Add, list, block and verify contacts",
	}
	var name string
	add := &cobra.Command{
		Use:   "add INVITE-OR-PEER-ID",
		Short: "Add a contact from their invite link or peer ID",
		Long:  "Add a contact from their invite link or peer ID.\n--json prints the contact, as in GET /v1/contacts.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkText("--name", name, maxNameBytes); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ct, err := c.AddContact(cmd.Context(), args[0], name)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(ct)
			}
			fmt.Fprintf(a.stdout, "added %s\n", describe(ct))
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "your name for the contact (used by send and read)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List contacts",
		Long:  "List contacts.\n--json prints the body of GET /v1/contacts: {\"contacts\": [...]}.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			cs, err := c.Contacts(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.Contacts{Contacts: cs})
			}
			if len(cs) == 0 {
				fmt.Fprintln(a.stdout, "no contacts yet: add one with `backchannel contacts add INVITE`")
				return nil
			}
			tw := a.table()
			fmt.Fprintln(tw, "NAME\tPROFILE NAME\tSTATE\tVERIFIED\tPEER ID")
			for _, ct := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sanitize(dash(ct.Name)), sanitize(dash(ct.ProfileName)), ct.State, yesNo(ct.Verified), ct.PeerID)
			}
			return tw.Flush()
		},
	}

	var confirm bool
	verify := &cobra.Command{
		Use:   "verify PEER",
		Short: "Show the safety number shared with a contact; --confirm marks it checked",
		Long: "Show the safety number shared with a contact. Compare it with theirs, in person or\n" +
			"over a channel you trust; if they match, run again with --confirm.\n" +
			"--json prints {\"peer_id\", \"safety_number\", \"verified\"}.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if confirm {
				if err := c.SetVerified(cmd.Context(), args[0], true); err != nil {
					return err
				}
			}
			sn, err := c.SafetyNumber(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(sn)
			}
			fmt.Fprintf(a.stdout, "safety number with %s:\n\n  %s\n\n", args[0], sn.SafetyNumber)
			if sn.Verified {
				fmt.Fprintln(a.stdout, "verified")
			} else {
				fmt.Fprintln(a.stdout, "not verified: if it matches theirs, run `backchannel contacts verify "+args[0]+" --confirm`")
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&confirm, "confirm", false, "mark the safety number as checked")

	cmd.AddCommand(add, list, verify,
		a.peerCmd("block PEER", "Block a peer: their thread is deleted and their later messages dropped", func(c peerClient) peerFunc { return c.Block }),
		a.peerCmd("unblock PEER", "Unblock a peer: their next message is a request again", func(c peerClient) peerFunc { return c.Unblock }),
	)
	return cmd
}

func describe(c api.Contact) string {
	if n := who(c.Name, c.ProfileName); n != "" {
		return n + " (" + c.PeerID + ")"
	}
	return c.PeerID
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
