package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/client"
)

func (a *app) groupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Private groups: create, invite, join, leave; send and read",
		Long: "Private groups: end-to-end encrypted group chats. Only current members can read;\n" +
			"removing a member starts a new epoch whose key they never get.\n" +
			"GROUP is a group ID or the exact name of a group you know; PEER a contact's name\n" +
			"or a peer ID; MSG a message ID as `group read` prints it (any unique prefix of 6\n" +
			"or more digits).",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		a.groupCreateCmd(), a.groupListCmd(), a.groupMembersCmd(),
		a.groupInviteCmd("invite", "Invite contacts to a group (owner or admin): they join from the next epoch on"),
		a.groupInviteCmd("add", "Add members to a group (owner or admin); the same as invite"),
		a.groupJoinCmd(),
		a.groupSimpleCmd("decline GROUP", "Decline an invitation (the inviter is told and removes you)", (*client.Client).DeclineGroupInvite),
		a.groupSimpleCmd("leave GROUP", "Leave a group (the history stays; the keys are deleted)", (*client.Client).LeaveGroup),
		a.groupSimpleCmd("rekey GROUP", "Start a new epoch with a fresh key and the same members (owner or admin)", (*client.Client).RekeyGroup),
		a.groupPeerCmd("remove GROUP PEER", "Remove a member (owner or admin; an admin only by the owner)", (*client.Client).RemoveGroupMember),
		a.groupAdminCmd(), a.groupRenameCmd(), a.groupSendCmd(), a.groupReadCmd(),
	)
	return cmd
}

func (a *app) groupCreateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a private group you own",
		Long:  "Create a private group you own, alone in it until you invite others.\n--json prints the Group, as in GET /v1/groups.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			g, err := c.CreateGroup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(g)
			}
			printKV(a.stdout, [2]string{"id", g.ID}, [2]string{"name", g.Name}, [2]string{"role", g.Role})
			return nil
		},
	}
}

func (a *app) groupListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your groups and invitations",
		Long:  "List your groups and invitations.\n--json prints the body of GET /v1/groups: {\"groups\": [...]}.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			gs, err := c.Groups(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.Groups{Groups: gs})
			}
			if len(gs) == 0 {
				fmt.Fprintln(a.stdout, "no groups: create one with `backchannel group create`")
				return nil
			}
			names := a.names(cmd.Context(), c)
			tw := a.table()
			fmt.Fprintln(tw, "NAME\tSTATE\tROLE\tMEMBERS\tUNREAD\tEPOCH\tINVITED BY\tID")
			for _, g := range gs {
				state := g.State
				if g.KeyPending && g.State == "joined" {
					state += " (key pending)"
				}
				inviter := "-"
				if g.InviterID != "" {
					inviter = sanitize(names.of(g.InviterID))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", oneLine(g.Name, 30), state, g.Role, g.MemberCount, g.Unread, g.Epoch, inviter, g.ID)
			}
			return tw.Flush()
		},
	}
}

func (a *app) groupMembersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "members GROUP",
		Short: "Show a group and its members",
		Long: "Show a group and its members, owner first. A member shows as you, a contact by your\n" +
			"name for them (✓ once you checked their safety number), anyone else by the name they\n" +
			"announced in the group, with the end of their peer ID when another uses that name.\n" +
			"--json prints the body of GET /v1/groups/{group}.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Group(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(d)
			}
			printKV(a.stdout, [2]string{"group", d.Name}, [2]string{"id", d.ID}, [2]string{"state", d.State},
				[2]string{"epoch", fmt.Sprint(d.Epoch)}, [2]string{"you", d.Role})
			tw := a.table()
			fmt.Fprintln(tw, "ROLE\tMEMBER\tPEER ID")
			for _, m := range d.Members {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Role, sanitize(memberLabel(m)), m.PeerID)
			}
			return tw.Flush()
		},
	}
}

func (a *app) groupInviteCmd(verb, short string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " GROUP PEER...",
		Short: short,
		Long: short + ".\nThe invitation reaches each over your 1:1 session: in their inbox, or in their\n" +
			"requests if you are a stranger to them. All are added in one new epoch.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.InviteToGroup(cmd.Context(), args[0], args[1:]...); err != nil {
				return err
			}
			return a.done("invited %s to %s: each gets the invitation over 1:1", sanitize(strings.Join(args[1:], ", ")), sanitize(args[0]))
		},
	}
}

func (a *app) groupJoinCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "join GROUP",
		Short: "Accept an invitation: join the group and fetch its history from when you were added",
		Long:  "Accept an invitation: join the group and fetch its history from when you were added.\n--json prints the Group.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			g, err := c.AcceptGroupInvite(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(g)
			}
			printKV(a.stdout, [2]string{"joined", g.Name}, [2]string{"id", g.ID}, [2]string{"members", fmt.Sprint(g.MemberCount)})
			return nil
		},
	}
}

func (a *app) groupSimpleCmd(use, short string, act func(c *client.Client, ctx context.Context, group string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			return act(c, cmd.Context(), args[0])
		},
	}
}

func (a *app) groupPeerCmd(use, short string, act func(c *client.Client, ctx context.Context, group, peer string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			return act(c, cmd.Context(), args[0], args[1])
		},
	}
}

func (a *app) groupAdminCmd() *cobra.Command {
	var revoke bool
	cmd := &cobra.Command{
		Use:   "admin GROUP PEER",
		Short: "Make a member an admin, who may add and remove members (owner only)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.GrantGroupAdmin(cmd.Context(), args[0], args[1], !revoke); err != nil {
				return err
			}
			if revoke {
				return a.done("%s is no longer an admin of %s", sanitize(args[1]), sanitize(args[0]))
			}
			return a.done("%s is now an admin of %s", sanitize(args[1]), sanitize(args[0]))
		},
	}
	cmd.Flags().BoolVar(&revoke, "revoke", false, "make the admin a plain member again")
	return cmd
}

func (a *app) groupRenameCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rename GROUP NAME",
		Short: "Rename a group for every member (owner or admin)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RenameGroup(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return a.done("renamed %s to %s", sanitize(args[0]), sanitize(args[1]))
		},
	}
}

func (a *app) groupSendCmd() *cobra.Command {
	var replyTo, react, event, rsvp string
	cmd := &cobra.Command{
		Use:   "send GROUP TEXT... [--reply-to MSG | --react MSG | --event START | --rsvp EVENT]",
		Short: "Send a message, a reply, a reaction, an event or an RSVP to a group",
		Long: "Send a message to a group; the words of TEXT are joined with spaces. With --reply-to\n" +
			"it replies to MSG; with --react, TEXT is an emoji for MSG; with --event START (RFC 3339)\n" +
			"TEXT is the title of an event; with --rsvp, TEXT (yes, no or maybe) answers EVENT.\n" +
			"The message ID is printed; --json prints the GroupMessage.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			set := 0
			for _, f := range []string{replyTo, react, event, rsvp} {
				if f != "" {
					set++
				}
			}
			if set > 1 {
				return fmt.Errorf("give at most one of --reply-to, --react, --event and --rsvp")
			}
			for _, f := range []struct{ flag, ref string }{{"--reply-to", replyTo}, {"--react", react}, {"--rsvp", rsvp}} {
				if err := checkMsgRef(f.flag, f.ref, groupIDLen); err != nil {
					return err
				}
			}
			text := strings.Join(args[1:], " ")
			if rsvp != "" && !slices.Contains(rsvpAnswers, text) {
				return fmt.Errorf("--rsvp: TEXT %q: want yes, no or maybe", text)
			}
			start, err := parseStart("--event", event, clock())
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			req := api.GroupSendRequest{Text: text}
			target := ""
			switch {
			case replyTo != "":
				req.Kind, target = "reply", replyTo
			case react != "":
				req.Kind, target = "reaction", react
			case rsvp != "":
				req.Kind, target = "rsvp", rsvp
			case event != "":
				req.Kind, req.Start = "event", &start
			}
			if target != "" {
				if req.ReplyTo, err = resolveGroupMsg(cmd.Context(), c, args[0], target); err != nil {
					return err
				}
			}
			m, err := c.GroupSend(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(m)
			}
			fmt.Fprintln(a.stdout, m.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&replyTo, "reply-to", "", "reply to this message")
	cmd.Flags().StringVar(&react, "react", "", "react to this message (TEXT is the emoji)")
	cmd.Flags().StringVar(&event, "event", "", "plan an event starting then (RFC 3339; TEXT is its title)")
	cmd.Flags().StringVar(&rsvp, "rsvp", "", "answer this event (TEXT is yes, no or maybe)")
	return cmd
}

func (a *app) groupReadCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "read GROUP",
		Short: "Print a group's latest messages, oldest first, and mark the group read",
		Long: "Print a group's latest messages, oldest first, with reactions, RSVPs and who has\n" +
			"received and read yours; then mark the group read (the others learn how far you read).\n" +
			"Authors show as in `group members`.\n" +
			"--json prints the body of GET /v1/groups/{group}/messages: {\"messages\": [...]}, newest first.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(limit, maxGroupLimit); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ms, err := c.GroupMessages(cmd.Context(), args[0], limit, time.Time{})
			if err != nil {
				return err
			}
			if err := c.MarkGroupRead(cmd.Context(), args[0]); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.GroupMessages{Messages: ms})
			}
			if len(ms) == 0 {
				fmt.Fprintln(a.stdout, "no messages")
				return nil
			}
			names := a.groupNames(cmd.Context(), c, args[0], ms)
			for _, m := range slices.Backward(ms) {
				fmt.Fprintln(a.stdout, describeGroupLine(m, names))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many of the latest messages to print (1 to 1000)")
	return cmd
}

// memberLabel is how the CLI shows a group member or a line's author: as
// the node shows it, ✓ for a verified contact; sanitize it before printing.
func memberLabel(m api.GroupMember) string {
	label := cmp.Or(m.Display, m.PeerID) // a daemon from before display names
	if m.Verified {
		label += " ✓"
	}
	return label
}

// groupNames names the peers of a group's lines (authors, reactions,
// RSVPs): as the node shows its members and the lines' authors, else as
// names does.
func (a *app) groupNames(ctx context.Context, c *client.Client, group string, ms []api.GroupMessage) peerNames {
	names := a.names(ctx, c)
	if d, err := c.Group(ctx, group); err == nil {
		for _, m := range d.Members {
			names[m.PeerID] = memberLabel(m)
		}
	}
	for _, m := range ms {
		if m.Sender.PeerID != "" {
			names[m.SenderID] = memberLabel(m.Sender)
		}
	}
	return names
}

// describeGroupLine is one line of a group's thread for people.
func describeGroupLine(m api.GroupMessage, names peerNames) string {
	var b strings.Builder
	from := names.of(m.SenderID)
	if m.Sender.PeerID != "" {
		from = memberLabel(m.Sender)
	}
	fmt.Fprintf(&b, "%s  ", showTime(m.Time))
	switch m.Kind {
	case "event":
		fmt.Fprintf(&b, "%s plans %q at %s", from, m.Text, showTime(m.Start))
		answers := map[string][]string{}
		for _, r := range m.RSVPs {
			answers[r.Answer] = append(answers[r.Answer], names.of(r.PeerID))
		}
		var parts []string
		for _, a := range []string{"yes", "maybe", "no"} {
			if len(answers[a]) > 0 {
				parts = append(parts, a+": "+strings.Join(answers[a], ", "))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, "; "))
		}
	case "rename":
		fmt.Fprintf(&b, "%s renamed the group to %q", from, m.Text)
	case "left":
		fmt.Fprintf(&b, "%s left the group", from)
	case "reply":
		fmt.Fprintf(&b, "%s (re %s): %s", from, short(m.ReplyTo), m.Text)
	default:
		fmt.Fprintf(&b, "%s: %s", from, m.Text)
	}
	for _, r := range m.Reactions {
		fmt.Fprintf(&b, " %s%s", r.Emoji, names.of(r.PeerID))
	}
	if m.Outbound {
		fmt.Fprintf(&b, "  (delivered %d, read %d)", len(m.DeliveredTo), len(m.ReadBy))
	}
	fmt.Fprintf(&b, "  [%s]", short(m.ID))
	// Texts, emoji and names are the members' words: the line is sanitized.
	return sanitize(b.String())
}

// resolveGroupMsg turns a group message ID or a unique prefix of one into
// the full ID, looking in the group's latest messages.
func resolveGroupMsg(ctx context.Context, c *client.Client, group, ref string) (string, error) {
	ref = strings.ToLower(ref)
	if len(ref) == 64 {
		return ref, nil
	}
	if len(ref) < minIDPrefix {
		return "", fmt.Errorf("message ID %q: give at least %d hex digits", ref, minIDPrefix)
	}
	ms, err := c.GroupMessages(ctx, group, api.MaxGroupMessagesLimit, time.Time{})
	if err != nil {
		return "", err
	}
	var found []string
	for _, m := range ms {
		if strings.HasPrefix(m.ID, ref) {
			found = append(found, m.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no message %s in group %s", ref, group)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("message ID %s is ambiguous in group %s: give more digits", ref, group)
}
