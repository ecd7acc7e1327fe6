// Package demo runs a small Backchannel network on loopback beside a user's
// node, so that someone new sees everything working at once: a live room
// hosted by a demo node, with an audience that chats, asks and upvotes;
// two contacts who write to the user and answer back; and one stranger
// whose message lands in the user's requests.
//
// Every demo node is a real node in this process, listening on 127.0.0.1
// only, behind the loopback connection gater; none contacts anything else.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// RoomName is the name of the demo's room.
const RoomName = "Backchannel demo"

// Config configures a Network.
type Config struct {
	// Dir holds the demo nodes' homes (one folder each). Required.
	Dir string
	// Pace is the time between two scripted actions in the room; 4 s when
	// zero.
	Pace time.Duration
	// PubSubHeartbeat shortens GossipSub's heartbeat (tests); 0: default.
	PubSubHeartbeat time.Duration
	// Logger receives the demo's logs; nil discards them.
	Logger *slog.Logger
}

// person is one demo node and how it behaves.
type person struct {
	name  string
	n     *node.Node
	reply []string // what it answers the user, in turn
	next  int
	voted map[room.MessageID]bool
}

// Network is the demo network: a host, an audience, contacts and a stranger.
type Network struct {
	cfg Config
	log *slog.Logger

	host     *person
	audience []*person // the stranger is the last of them
	contacts []*person
	stranger *person
	roomID   room.ID

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// New makes a Network; Start starts it.
func New(cfg Config) (*Network, error) {
	if cfg.Dir == "" {
		return nil, errors.New("demo: config: Dir is required")
	}
	if cfg.Pace == 0 {
		cfg.Pace = 4 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Network{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel}, nil
}

// Start starts the demo nodes and the room: the host creates it and the
// audience joins it.
func (d *Network) Start(ctx context.Context) error {
	var err error
	if d.host, err = d.startPerson(ctx, "Maya", nil, nil); err != nil {
		return err
	}
	boot := []string{d.BootstrapAddr()}
	for _, name := range []string{"Ravi", "Lena", "Tomás"} {
		p, err := d.startPerson(ctx, name, boot, nil)
		if err != nil {
			return err
		}
		d.audience = append(d.audience, p)
	}
	if d.stranger, err = d.startPerson(ctx, "Sam", boot, []string{
		"Thanks for answering! I run a small book club, would you like to join?",
		"No worries, I'll send details later.",
	}); err != nil {
		return err
	}
	d.audience = append(d.audience, d.stranger)
	for _, c := range []struct {
		name  string
		reply []string
	}{
		{"Ada", []string{"Ha, nice! Did you see the room Maya is hosting?", "Sounds good. Talk later!", "👍"}},
		{"Grace", []string{"Got it, thanks!", "Let me check and get back to you.", "Perfect."}},
	} {
		p, err := d.startPerson(ctx, c.name, boot, c.reply)
		if err != nil {
			return err
		}
		d.contacts = append(d.contacts, p)
	}

	info, err := d.host.n.CreateRoom(ctx, RoomName, "A live room run by demo nodes on your machine: chat, ask questions, upvote the ones you like.", time.Time{}, nil)
	if err != nil {
		return fmt.Errorf("demo: create the room: %w", err)
	}
	d.roomID = info.ID
	for _, p := range d.audience {
		if err := join(ctx, p.n, d.roomID); err != nil {
			return fmt.Errorf("demo: %s joins the room: %w", p.name, err)
		}
	}
	if _, err := d.host.n.RoomSay(ctx, d.roomID, "Welcome to the demo room! Ask away: the most upvoted questions come first."); err != nil {
		return fmt.Errorf("demo: the host speaks: %w", err)
	}
	if _, err := d.stranger.n.RoomSay(ctx, d.roomID, "Hi all! Anyone here want to chat about books later?"); err != nil {
		return fmt.Errorf("demo: %s speaks: %w", d.stranger.name, err)
	}
	return nil
}

// BootstrapAddr is the host's address, for the user's node to join the
// network through.
func (d *Network) BootstrapAddr() string {
	return d.host.n.Addrs()[0].String() + "/p2p/" + d.host.n.ID().String()
}

// RoomID is the demo room's ID.
func (d *Network) RoomID() room.ID { return d.roomID }

// Welcome brings the user's node in: the contacts and the user add each
// other and the contacts write; the stranger writes (a request); the user
// joins the room. Then the room and the contacts come alive until Close.
func (d *Network) Welcome(ctx context.Context, user *node.Node) error {
	userInvite := user.Self().Invite
	for _, c := range d.contacts {
		if _, err := c.n.AddContact(ctx, userInvite, "you"); err != nil {
			return fmt.Errorf("demo: %s adds the user: %w", c.name, err)
		}
		if _, err := user.AddContact(ctx, c.n.Self().Invite, c.name); err != nil {
			return fmt.Errorf("demo: the user adds %s: %w", c.name, err)
		}
	}
	if _, err := d.stranger.n.AddContact(ctx, userInvite, "you"); err != nil {
		return fmt.Errorf("demo: %s adds the user: %w", d.stranger.name, err)
	}
	if err := join(ctx, user, d.roomID); err != nil {
		return fmt.Errorf("demo: the user joins the room: %w", err)
	}
	for _, p := range append(append([]*person{}, d.contacts...), d.stranger) {
		d.answerUser(p, user.ID())
	}
	first := map[*person]string{
		d.contacts[0]: "Hi! Welcome to Backchannel 👋 This chat is end-to-end encrypted.",
		d.contacts[1]: "Are we still on for Friday?",
	}
	for p, text := range first {
		if _, err := p.n.Send(ctx, user.ID(), node.Outgoing{Body: text}); err != nil {
			return fmt.Errorf("demo: %s writes to the user: %w", p.name, err)
		}
	}
	// The host makes the user a speaker, so that the stranger can ask the
	// user a private question from the room: a request marked with the room.
	if err := d.host.n.RoomGrant(ctx, d.roomID, user.ID(), room.RoleSpeaker, 24*time.Hour); err != nil {
		return fmt.Errorf("demo: the host makes the user a speaker: %w", err)
	}
	d.wg.Add(3)
	go func() {
		defer d.wg.Done()
		d.askUser(user.ID())
	}()
	go func() {
		defer d.wg.Done()
		d.runGroup(user.ID())
	}()
	go func() {
		defer d.wg.Done()
		d.runRoom()
	}()
	return nil
}

// askUser has the stranger ask the user a private question from the room,
// once the host's grant has reached the stranger's node.
func (d *Network) askUser(user peer.ID) {
	for {
		_, err := d.stranger.n.RoomAskSpeaker(d.ctx, d.roomID, user, "Hello! I'm in the demo room: may I ask you something in private?")
		if err == nil || !errors.Is(err, node.ErrNotSpeaker) {
			if err != nil && d.ctx.Err() == nil {
				d.log.Warn("demo: private question", "err", err)
			}
			return
		}
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runGroup has the first contact start a private group with the second and
// the user: the second joins, and they plan a dinner, with an event to
// answer. The user finds the invitation in Groups.
func (d *Network) runGroup(user peer.ID) {
	if len(d.contacts) < 2 {
		return
	}
	owner, friend := d.contacts[0], d.contacts[1]
	evs, cancel := friend.n.Subscribe()
	defer cancel()
	warn := func(what string, err error) {
		if d.ctx.Err() == nil {
			d.log.Warn("demo: group", "step", what, "err", err)
		}
	}
	g, err := owner.n.CreateGroup(d.ctx, "Friday dinner")
	if err != nil {
		warn("create", err)
		return
	}
	if err := owner.n.InviteToGroup(d.ctx, g.ID, user, friend.n.ID()); err != nil {
		warn("invite", err)
		return
	}
	for joined := false; !joined; {
		select {
		case <-d.ctx.Done():
			return
		case e, ok := <-evs:
			if !ok {
				return
			}
			if e.Type == node.EventGroupInvite && e.Group != nil && e.Group.Group == g.ID {
				if _, err := friend.n.AcceptGroupInvite(d.ctx, g.ID); err != nil {
					warn("accept", err)
					return
				}
				joined = true
			}
		}
	}
	friday := time.Now().AddDate(0, 0, (int(time.Friday)-int(time.Now().Weekday())+7)%7+7).Truncate(24 * time.Hour).Add(19*time.Hour + 30*time.Minute)
	if _, err := owner.n.GroupSend(d.ctx, g.ID, node.GroupOutgoing{Body: "I made a group so we can plan Friday's dinner 🍝"}); err != nil {
		warn("send", err)
		return
	}
	ev, err := owner.n.GroupSend(d.ctx, g.ID, node.GroupOutgoing{Kind: node.KindEvent, Body: "Dinner at Rosa's", Start: friday})
	if err != nil {
		warn("event", err)
		return
	}
	// The friend answers once its key for the epoch has arrived.
	for try := 0; try < 50; try++ {
		_, err := friend.n.GroupSend(d.ctx, g.ID, node.GroupOutgoing{Kind: node.KindRSVP, Body: node.RSVPYes, ReplyTo: ev.ID})
		if err == nil {
			_, _ = friend.n.GroupSend(d.ctx, g.ID, node.GroupOutgoing{Body: "I'm in! Rosa's is great."})
			return
		}
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	warn("rsvp", errors.New("the friend never got the group's key"))
}

// Close stops the demo's activity and its nodes. It is safe to call more
// than once.
func (d *Network) Close() error {
	d.closeOnce.Do(func() {
		d.cancel()
		d.wg.Wait()
		var errs []error
		for _, p := range d.people() {
			errs = append(errs, p.n.Close())
		}
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// Refused is how many dials or connections the demo nodes' gaters refused;
// it stays 0 on a loopback-only demo.
func (d *Network) Refused() int64 {
	var n int64
	for _, p := range d.people() {
		n += p.n.Gater().Refused()
	}
	return n
}

func (d *Network) people() []*person {
	var ps []*person
	if d.host != nil {
		ps = append(ps, d.host)
	}
	ps = append(ps, d.audience...)
	return append(ps, d.contacts...)
}

func (d *Network) startPerson(ctx context.Context, name string, bootstrap []string, reply []string) (*person, error) {
	n, err := node.New(node.Config{
		Home:             fmt.Sprintf("%s/%s", d.cfg.Dir, name),
		ListenAddrs:      []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:        bootstrap,
		Gater:            &node.LoopbackGater{},
		PubSubHeartbeat:  d.cfg.PubSubHeartbeat,
		RoomSyncInterval: 2 * time.Second,
		RetryBase:        100 * time.Millisecond,
		RetryMax:         2 * time.Second,
		NoStamp:          true, // its strangers are the demo's own
		Logger:           d.log.With("demo", name),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	if err := n.SetProfileName(name); err != nil {
		n.Close()
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	return &person{name: name, n: n, reply: reply, voted: map[room.MessageID]bool{}}, nil
}

// join joins a room by ID, retrying while the node finds no peer that has
// its descriptor yet (right after start).
func join(ctx context.Context, n *node.Node, id room.ID) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := n.JoinRoom(ctx, id.String(), nil)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// answerUser makes p answer each message the user sends it: typing for a
// moment, then the next of its lines.
func (d *Network) answerUser(p *person, user peer.ID) {
	events, cancel := p.n.Subscribe()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer cancel()
		for {
			select {
			case <-d.ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				if e.Type != "message" || e.Peer != user || e.Message == nil || e.Message.Direction != storage.Inbound ||
					e.Message.Kind != node.KindText && e.Message.Kind != node.KindReply {
					continue
				}
				if len(p.reply) == 0 {
					continue
				}
				p.n.MarkRead(user)
				p.n.Typing(user, true)
				select {
				case <-d.ctx.Done():
					return
				case <-time.After(1500 * time.Millisecond):
				}
				text := p.reply[p.next%len(p.reply)]
				p.next++
				if _, err := p.n.Send(d.ctx, user, node.Outgoing{Body: text}); err != nil {
					d.log.Debug("demo: answer", "from", p.name, "err", err)
				}
			}
		}
	}()
}

var (
	chatLines = []string{
		"Hi all, first time in a live room here.",
		"The audio is great today.",
		"Could you repeat the last point?",
		"+1 to that question.",
		"Thanks Maya, very clear.",
		"Greetings from Lisbon!",
		"Is there a recording?",
		"Love the Q&A format.",
	}
	questions = []string{
		"How does a message find me when my laptop was offline?",
		"Can a room host see who is listening?",
		"What stops a stranger from flooding my inbox?",
		"Will there be groups with end-to-end encryption?",
		"How do I check that I am talking to the right person?",
	}
)

// runRoom plays the room: audience members chat, ask and upvote; the host
// now and then marks the top question answered. It runs until Close.
func (d *Network) runRoom() {
	rng := rand.New(rand.NewPCG(1, 2))
	tick := time.NewTicker(d.cfg.Pace)
	defer tick.Stop()
	ctx := d.ctx
	asked := 0
	for step := 0; ; step++ {
		who := d.audience[rng.IntN(len(d.audience))]
		var err error
		switch {
		case step%3 == 1 && asked < len(questions):
			_, err = who.n.RoomAsk(ctx, d.roomID, questions[asked])
			asked++
		case step%3 == 2:
			err = d.upvoteSome(rng)
		case step%11 == 10:
			err = d.answerTop()
		default:
			_, err = who.n.RoomSay(ctx, d.roomID, chatLines[step%len(chatLines)])
		}
		if err != nil && ctx.Err() == nil {
			d.log.Debug("demo: room", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// upvoteSome has a few audience members upvote a question each.
func (d *Network) upvoteSome(rng *rand.Rand) error {
	qs, err := d.host.n.RoomQuestions(d.roomID)
	if err != nil || len(qs) == 0 {
		return err
	}
	for _, p := range d.audience {
		if rng.IntN(2) == 0 {
			continue
		}
		// Earlier questions get more votes, so the order settles.
		q := qs[rng.IntN(len(qs)+1)%len(qs)]
		if p.voted[q.ID] {
			continue
		}
		if err := p.n.RoomUpvote(d.ctx, d.roomID, q.ID); err != nil {
			return err
		}
		p.voted[q.ID] = true
	}
	return nil
}

// answerTop marks the most upvoted open question answered.
func (d *Network) answerTop() error {
	qs, err := d.host.n.RoomQuestions(d.roomID)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if !q.Answered && q.Upvotes > 1 {
			return d.host.n.RoomAnswer(d.ctx, d.roomID, q.ID)
		}
	}
	return nil
}
