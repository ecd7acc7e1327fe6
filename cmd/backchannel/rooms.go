package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/client"
	"github.com/backchannel/backchannel/crypto/room"
)

// shortID is how many hex digits of a room message ID the CLI shows; any
// unique prefix of at least minIDPrefix digits names a message.
const (
	shortID     = 12
	minIDPrefix = 6
)

func (a *app) roomCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "room",
		Short: "Live rooms: create, find and join rooms; chat, ask and moderate",
		Long: "Live rooms: public rooms with a host, a chat and a Q&A queue.\n" +
			"ROOM is a room ID or the name of a room you created or joined. MSG and QUESTION\n" +
			"are message IDs as `room read` and `room questions` print them (any unique prefix\n" +
			"of 6 or more digits).",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		a.roomCreateCmd(), a.roomJoinCmd(), a.roomNickCmd(), a.roomListCmd(), a.roomDiscoverCmd(), a.roomWhoCmd(),
		a.roomPostCmd("say", "Send a chat line to a room", (*client.Client).RoomSay),
		a.roomPostCmd("ask", "Ask the speakers a question", (*client.Client).RoomAsk),
		a.roomReadCmd(), a.roomQuestionsCmd(),
		a.roomMsgCmd("upvote ROOM QUESTION", "Upvote a question (once; more votes do not count)", "upvoted question %s in %s", (*client.Client).RoomUpvote),
		a.roomMsgCmd("answer ROOM QUESTION", "Mark a question answered (host or moderator)", "marked question %s answered in %s", (*client.Client).RoomAnswer),
		a.roomMsgCmd("pin ROOM MSG", "Pin a message: a room has one pinned message (host or moderator)", "pinned message %s in %s", (*client.Client).RoomPin),
		a.roomMsgCmd("hide ROOM MSG", "Hide a message for everyone (host or moderator)", "hid message %s in %s", (*client.Client).RoomHide),
		a.roomReactCmd(), a.roomMuteCmd(), a.roomGrantCmd(), a.roomAskSpeakerCmd(),
		&cobra.Command{
			Use:   "leave ROOM",
			Short: "Leave a room (its history stays)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client()
				if err != nil {
					return err
				}
				if err := c.LeaveRoom(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.done("left %s: its history stays here", sanitize(args[0]))
			},
		},
	)
	return cmd
}

// roomNameFlags are the flags of a room command that choose the name we
// give ourselves in the room: --nick NAME or --no-nick, else the profile
// name (or, joining again, the choice made before).
type roomNameFlags struct {
	nick   string
	noNick bool
}

func (f *roomNameFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.nick, "nick", "", "the name others see you by in this room (default: your profile name)")
	cmd.Flags().BoolVar(&f.noNick, "no-nick", false, "no name in this room: others see your peer ID only")
}

// choice is the choice the flags make; nil when they make none.
func (f *roomNameFlags) choice(cmd *cobra.Command) (*api.RoomNameChoice, error) {
	nick := cmd.Flags().Changed("nick")
	switch {
	case nick && f.noNick:
		return nil, errors.New("--nick and --no-nick: give one of them")
	case nick && strings.TrimSpace(f.nick) == "":
		return nil, errors.New("--nick is empty: give a name, or --no-nick for none")
	case nick:
		return &api.RoomNameChoice{Name: f.nick}, nil
	case f.noNick:
		return &api.RoomNameChoice{}, nil
	}
	return nil, nil
}

func (a *app) roomCreateCmd() *cobra.Command {
	var description, start string
	var names roomNameFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a room you host, and join it",
		Long: "Create a room you host, and join it. Others find it by NAME with `room discover`\n" +
			"or `room join NAME`, or by the ID printed.\n--json prints the Room, as in GET /v1/rooms.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := names.choice(cmd)
			if err != nil {
				return err
			}
			at, err := parseStart("--start", start, clock())
			if err != nil {
				return err
			}
			if len(description) > room.MaxDescriptionSize {
				return fmt.Errorf("--description is %d bytes: want at most %d", len(description), room.MaxDescriptionSize)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.CreateRoom(cmd.Context(), args[0], description, at, as)
			if err != nil {
				return err
			}
			return a.printRoom(r)
		},
	}
	cmd.Flags().StringVar(&description, "description", "", "what the room is about")
	cmd.Flags().StringVar(&start, "start", "", "when it starts (RFC 3339), shown to those who find it")
	names.add(cmd)
	return cmd
}

func (a *app) roomJoinCmd() *cobra.Command {
	var names roomNameFlags
	cmd := &cobra.Command{
		Use:   "join ROOM",
		Short: "Join a room by its ID or its name (looked up in the DHT)",
		Long: "Join a room by its ID or its name (looked up in the DHT; when two rooms have the name, join by ID).\n" +
			"Others in the room see you by your profile name, unless you give --nick or --no-nick\n" +
			"(joining again keeps the choice made before).\n--json prints the Room.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			as, err := names.choice(cmd)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			a.lookingFor(cmd.Context(), c, args[0])
			r, err := c.JoinRoom(cmd.Context(), args[0], as)
			if err != nil {
				return err
			}
			return a.printRoom(r)
		},
	}
	names.add(cmd)
	return cmd
}

func (a *app) roomNickCmd() *cobra.Command {
	var profile, none bool
	cmd := &cobra.Command{
		Use:   "nick ROOM [NAME]",
		Short: "Choose the name others see you by in a room",
		Long: "Choose the name others see you by in a room: NAME, your profile name (--profile)\n" +
			"or none (--none: others see your peer ID only). The room is told at once.\n" +
			"--json prints {\"ok\": true}.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var as api.RoomNameChoice
			switch {
			case len(args) == 2 && (profile || none), profile && none:
				return errors.New("give one of NAME, --profile and --none")
			case len(args) == 2 && strings.TrimSpace(args[1]) == "":
				return errors.New("the name is empty: give a name, or --none for none")
			case len(args) == 2:
				as.Name = args[1]
			case profile:
				as.UseProfile = true
			case !none:
				return errors.New("give a NAME, --profile or --none")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RoomSetName(cmd.Context(), args[0], as); err != nil {
				return err
			}
			return a.done("%s", sanitize("in room "+args[0]+" you are now "+describeChoice(as, "")))
		},
	}
	cmd.Flags().BoolVar(&profile, "profile", false, "use your profile name, as it changes")
	cmd.Flags().BoolVar(&none, "none", false, "no name: others see your peer ID only")
	return cmd
}

// describeChoice says in words what name a choice gives; myName is the
// name it gives now, if known.
func describeChoice(as api.RoomNameChoice, myName string) string {
	switch {
	case as.UseProfile && myName != "":
		return myName + " (your profile name)"
	case as.UseProfile:
		return "your profile name (none set: others see your peer ID)"
	case as.Name != "":
		return as.Name + " (your name for this room)"
	}
	return "nameless: others see your peer ID only"
}

// lookingFor says on stderr, before a room is looked up in the network by
// name, how many peers the daemon has to ask: the lookup is one request
// that may take its 20 s. It says nothing for a room ID, and nothing when
// there is no peer, since the daemon then answers at once that it has none.
func (a *app) lookingFor(ctx context.Context, c *client.Client, name string) {
	if _, err := room.ParseID(name); err == nil {
		return
	}
	st, err := c.Status(ctx)
	if err != nil || st.ConnectedPeers == 0 {
		return
	}
	peers := "peers"
	if st.ConnectedPeers == 1 {
		peers = "peer"
	}
	fmt.Fprintf(a.stderr, "looking for room %q among %d connected %s…\n", name, st.ConnectedPeers, peers)
}

func (a *app) printRoom(r api.Room) error {
	if a.json {
		return a.printJSON(r)
	}
	rows := [][2]string{{"id", r.ID}, {"name", r.Name}}
	if r.Description != "" {
		rows = append(rows, [2]string{"description", r.Description})
	}
	rows = append(rows, [2]string{"host", r.HostID})
	if r.Start != nil {
		rows = append(rows, [2]string{"start", showTime(r.Start)})
	}
	printKV(a.stdout, rows...)
	return nil
}

func (a *app) roomListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the rooms you created or joined",
		Long:  "List the rooms you created or joined.\n--json prints the body of GET /v1/rooms: {\"rooms\": [...]}.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			rs, err := c.Rooms(cmd.Context())
			if err != nil {
				return err
			}
			return a.printRooms(rs, "no rooms: create one with `backchannel room create` or join one with `backchannel room join`")
		},
	}
}

func (a *app) roomDiscoverCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "discover NAME",
		Short: "Find rooms by name (through the DHT)",
		Long:  "Find rooms by name, in any case, through the DHT.\n--json prints the body of GET /v1/rooms/discover: {\"rooms\": [...]}.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			a.lookingFor(cmd.Context(), c, args[0])
			rs, err := c.DiscoverRooms(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printRooms(rs, fmt.Sprintf("no room named %q found", args[0]))
		},
	}
}

func (a *app) printRooms(rs []api.Room, empty string) error {
	if a.json {
		return a.printJSON(api.Rooms{Rooms: rs})
	}
	if len(rs) == 0 {
		fmt.Fprintln(a.stdout, empty)
		return nil
	}
	tw := a.table()
	fmt.Fprintln(tw, "NAME\tJOINED\tLISTENERS\tSTART\tHOST\tID")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", oneLine(r.Name, 30), yesNo(r.Joined), r.Listeners, showTime(r.Start), r.HostID, r.ID)
	}
	return tw.Flush()
}

func (a *app) roomWhoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "who ROOM",
		Short: "Show a room: who is in it, by role, and the name you go by",
		Long: "Show a room: who is in it (host, moderators, speakers, then listeners) and the name you go by.\n" +
			"A name anyone could claim is followed by the end of its peer ID when another key uses it too;\n" +
			"a contact shows by your name for them, ✓ once you checked their safety number.\n" +
			"--json prints the body of GET /v1/rooms/{room}.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Room(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(d)
			}
			rows := [][2]string{{"room", d.Name}, {"id", d.ID}, {"host", d.HostID}, {"joined", yesNo(d.Joined)}}
			if !d.Joined {
				printKV(a.stdout, rows...)
				return nil
			}
			if d.As != nil {
				rows = append(rows, [2]string{"you are", describeChoice(*d.As, d.MyName)})
			}
			rows = append(rows, [2]string{"listeners", fmt.Sprint(d.Listeners)})
			printKV(a.stdout, rows...)
			fmt.Fprintln(a.stdout)
			tw := a.table()
			fmt.Fprintln(tw, "ROLE\tNAME\tPEER")
			for _, p := range d.People {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Role, personLabel(p), p.ID)
			}
			if d.PeopleMore > 0 {
				fmt.Fprintf(tw, "\tand %d more listeners\t\n", d.PeopleMore)
			}
			return tw.Flush()
		},
	}
}

type roomPostFunc = func(c *client.Client, ctx context.Context, room, text string) (string, error)

func (a *app) roomPostCmd(verb, short string, post roomPostFunc) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ROOM TEXT...",
		Short: short,
		Long:  short + ". The words of TEXT are joined with spaces; the message ID is printed.",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			id, err := post(c, cmd.Context(), args[0], strings.Join(args[1:], " "))
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.RoomPosted{ID: id})
			}
			fmt.Fprintln(a.stdout, id)
			return nil
		},
	}
}

func (a *app) roomReadCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "read ROOM",
		Short: "Print a room's latest chat, oldest first",
		Long:  "Print a room's latest chat lines, oldest first.\n--json prints the body of GET /v1/rooms/{room}/chat: {\"messages\": [...]}.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(limit, maxRoomChatLimit); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ms, err := c.RoomChat(cmd.Context(), args[0], limit)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.RoomChat{Messages: ms})
			}
			if len(ms) == 0 {
				fmt.Fprintln(a.stdout, "no messages")
				return nil
			}
			for _, m := range ms {
				fmt.Fprintln(a.stdout, sanitize(fmt.Sprintf("%s  %s: %s%s  [%s]", showTime(m.Time), speaker(m.Sender), m.Text, reactions(m.Reactions), short(m.ID))))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many of the latest lines to print (1 to 1000)")
	return cmd
}

func (a *app) roomQuestionsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "questions ROOM",
		Short: "List a room's questions, most upvoted first",
		Long:  "List a room's questions, most upvoted first.\n--json prints the body of GET /v1/rooms/{room}/questions: {\"questions\": [...]}.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			qs, err := c.RoomQuestions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(api.RoomQuestions{Questions: qs})
			}
			if len(qs) == 0 {
				fmt.Fprintln(a.stdout, "no questions")
				return nil
			}
			tw := a.table()
			fmt.Fprintln(tw, "ID\tVOTES\tSTATE\tFROM\tQUESTION")
			for _, q := range qs {
				var state []string
				if q.Answered {
					state = append(state, "answered")
				}
				if q.Pinned {
					state = append(state, "pinned")
				}
				votes := strconv.Itoa(q.Upvotes)
				if q.Upvoted {
					votes += " (you)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", short(q.ID), votes, cmp.Or(strings.Join(state, ","), "open"), personLabel(q.Sender), oneLine(q.Text, 60), sanitize(reactions(q.Reactions)))
			}
			return tw.Flush()
		},
	}
}

type roomMsgFunc = func(c *client.Client, ctx context.Context, room, msg string) error

// roomMsgCmd makes a command that applies one action to one room message.
// roomMsgCmd makes a command that applies act to one message of a room and
// prints did, formatted with the message's ID and the room as typed.
func (a *app) roomMsgCmd(use, short, did string, act roomMsgFunc) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			id, err := resolveMsg(cmd.Context(), c, args[0], args[1])
			if err != nil {
				return err
			}
			if err := act(c, cmd.Context(), args[0], id); err != nil {
				return err
			}
			return a.done(did, id, sanitize(args[0]))
		},
	}
}

func (a *app) roomReactCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "react ROOM MSG EMOJI",
		Short: "React to a message with an emoji",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			id, err := resolveMsg(cmd.Context(), c, args[0], args[1])
			if err != nil {
				return err
			}
			if err := c.RoomReact(cmd.Context(), args[0], id, args[2]); err != nil {
				return err
			}
			return a.done("reacted %s to %s in %s", sanitize(args[2]), id, sanitize(args[0]))
		},
	}
}

func (a *app) roomMuteCmd() *cobra.Command {
	var d time.Duration
	cmd := &cobra.Command{
		Use:   "mute ROOM PEER",
		Short: "Mute a peer (a name or peer ID) in a room for a while (host or moderator)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d <= 0 || d > 24*time.Hour {
				return fmt.Errorf("--for %s: want more than 0 and at most 24h", d)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			until := time.Now().Add(d)
			if err := c.RoomMute(cmd.Context(), args[0], args[1], until); err != nil {
				return err
			}
			return a.done("muted %s in %s until %s", sanitize(args[1]), sanitize(args[0]), until.Format("15:04"))
		},
	}
	cmd.Flags().DurationVar(&d, "for", 10*time.Minute, "how long (at most 24h)")
	return cmd
}

func (a *app) roomAskSpeakerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ask-speaker ROOM PEER TEXT...",
		Short: "Send a speaker of a room (the host, a moderator or a speaker) a private question",
		Long: "Send a speaker of a room a private, end-to-end encrypted 1:1 message. If the\n" +
			"speaker has not accepted you, it lands in their requests marked with the room.\n" +
			"PEER is a peer ID as `room who` prints it, or a contact's name.\n" +
			"--json prints the message, as in GET /v1/conversations/{peer}/messages.",
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			m, err := c.RoomAskSpeaker(cmd.Context(), args[0], args[1], strings.Join(args[2:], " "))
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "%s %s\n", m.State, m.ID)
			return nil
		},
	}
}

func (a *app) roomGrantCmd() *cobra.Command {
	var d time.Duration
	cmd := &cobra.Command{
		Use:   "grant ROOM PEER speaker|moderator",
		Short: "Give a peer (a name or peer ID) a role in a room you host, for a while",
		Long: "Give a peer a role in a room you host: a speaker may speak on stage; a moderator\n" +
			"may mark answered, pin, hide and mute. The grant expires after --for.",
		Args:      cobra.ExactArgs(3),
		ValidArgs: []string{"speaker", "moderator"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[2] != "speaker" && args[2] != "moderator" {
				return fmt.Errorf("role %q: want speaker or moderator", args[2])
			}
			if d < time.Second || d > 30*24*time.Hour {
				return fmt.Errorf("--for %s: want 1s to 720h (30 days)", d)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RoomGrant(cmd.Context(), args[0], args[1], args[2], d); err != nil {
				return err
			}
			return a.done("%s is a %s of %s for %s", sanitize(args[1]), args[2], sanitize(args[0]), d)
		},
	}
	cmd.Flags().DurationVar(&d, "for", 2*time.Hour, "how long the role lasts (at most 720h)")
	return cmd
}

// resolveMsg turns a message ID or a unique prefix of one into the full ID,
// looking in the room's chat and questions.
func resolveMsg(ctx context.Context, c *client.Client, room, ref string) (string, error) {
	ref = strings.ToLower(ref)
	if len(ref) == 64 {
		return ref, nil
	}
	if len(ref) < minIDPrefix {
		return "", fmt.Errorf("message ID %q: give at least %d hex digits", ref, minIDPrefix)
	}
	chat, err := c.RoomChat(ctx, room, api.MaxRoomChatLimit)
	if err != nil {
		return "", err
	}
	qs, err := c.RoomQuestions(ctx, room)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, m := range chat {
		ids = append(ids, m.ID)
	}
	for _, q := range qs {
		ids = append(ids, q.ID)
	}
	var found []string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no message %s in room %s", ref, room)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("message ID %s is ambiguous in room %s: give more digits", ref, room)
}

func short(id string) string {
	if len(id) > shortID {
		return id[:shortID]
	}
	return id
}

func reactions(rs []api.RoomReaction) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, " %s%d", r.Emoji, r.Count)
		if r.Mine {
			b.WriteString("(you)")
		}
	}
	return b.String()
}

// personLabel is how the CLI shows a person of a room: as the room shows
// them, ✓ for a verified contact, sanitized.
func personLabel(p api.RoomPerson) string {
	label := p.Display
	if p.Verified {
		label += " ✓"
	}
	return sanitize(label)
}

// speaker is the author of a room line: personLabel and, for any role
// above listener, the role.
func speaker(p api.RoomPerson) string {
	if p.Role != "" && p.Role != "listener" {
		return personLabel(p) + " · " + p.Role
	}
	return personLabel(p)
}

// peerNames names peers for people: "you", a contact's name, else the peer
// ID.
type peerNames map[string]string

func (n peerNames) of(p string) string { return cmp.Or(n[p], p) }

func (a *app) names(ctx context.Context, c *client.Client) peerNames {
	n := peerNames{}
	if cs, err := c.Contacts(ctx); err == nil {
		for _, ct := range cs {
			if name := cmp.Or(ct.Name, ct.ProfileName); name != "" {
				if ct.Verified {
					name += " ✓"
				}
				n[ct.PeerID] = name
			}
		}
	}
	if self, err := c.Self(ctx); err == nil {
		n[self.PeerID] = "you"
	}
	return n
}
