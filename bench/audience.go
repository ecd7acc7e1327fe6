package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// The audience scenario: what a room's audience (presence, upvotes,
// reactions, and the host's tallies of them) costs each listener as the
// room grows, with votes on the topic ("topic" mode, RoomBallotFrom off)
// and handed to the host as ballots ("ballots" mode), and whether the
// per-listener budget DESIGN.md's capacity model sets holds.
const (
	// audienceLineRate is the host's lines a second during the window: low,
	// so that the audience's traffic shows.
	audienceLineRate = 1
	// audienceBallotFrom is RoomBallotFrom in ballots mode: every room of
	// the scenario counts more peers present, so each is in ballot mode.
	audienceBallotFrom = 2
	// The budget per listener, in ballots mode, at every size: audience
	// messages a second received on the room's topic (presence, votes,
	// tallies), and bytes a second each way (all of the node's streams:
	// the host's lines, sync and the DHT included). DESIGN.md's model
	// gives ≤ 3.2 msg/s and some 15 KB/s in plus 2–5 KB/s of gossip at
	// 10,000 listeners.
	audienceMsgBudget  = 4.0
	audienceByteBudget = 20_000.0
	// audienceGrowthLimit bounds the bytes a message costs the median
	// listener of the largest room over the smallest's, in ballots mode.
	audienceGrowthLimit = 1.5
	// audienceModelSlack bounds the median listener's audience msg/s over
	// what the capacity model allows (audienceModel).
	audienceModelSlack = 1.25
	// modelListeners is the room the capacity model is stated for.
	modelListeners = 10_000
	// audienceConverge bounds the wait for every listener to show the
	// host's counts after the window (sync repairs what GossipSub dropped
	// within its 10 s interval).
	audienceConverge = time.Minute
)

// The modes of an audience room.
const (
	modeTopic   = "topic"
	modeBallots = "ballots"
)

// protocolRowFrom is the share of a listener's bytes from which a stream
// protocol gets rows of its own in the table (all are in the report).
const protocolRowFrom = 0.03

// audienceEmojis are the reactions, listener i reacting with i mod 2.
var audienceEmojis = []string{"👍", "🎉"}

// AudiencePoint is one room size in one mode of the audience scenario.
// Rates are per second of the window; "per listener" figures are the
// median, smallest and largest over the listeners.
type AudiencePoint struct {
	Nodes     int     `json:"nodes"`
	Mode      string  `json:"mode"` // "topic" or "ballots"
	WindowS   float64 `json:"window_s"`
	LineRate  float64 `json:"line_rate"`
	VoteEvery float64 `json:"vote_every_s"` // each listener upvotes and reacts once per this many seconds
	// Audience is the audience messages a second a listener received
	// (presence, upvotes, reactions, tallies); the kinds follow.
	Audience Spread `json:"audience_msgs"`
	Presence Spread `json:"presence_msgs"`
	Votes    Spread `json:"vote_msgs"` // upvotes and reactions on the topic
	Tallies  Spread `json:"tally_msgs"`
	// PacedPresence is what the node's presence pacing predicts a listener
	// receives a second in a steady room of this size.
	PacedPresence float64 `json:"paced_presence"`
	// BytesIn and BytesOut are a listener's bytes a second on all its
	// streams (byteMeter).
	BytesIn  Spread `json:"bytes_in"`
	BytesOut Spread `json:"bytes_out"`
	// ByProtocol breaks BytesIn and BytesOut down by stream protocol: the
	// median listener's bytes a second of each, largest first.
	ByProtocol []ProtocolBytes `json:"by_protocol"`
	// GossipIn and GossipOut break the median listener's GossipSub bytes a
	// second down by what they carry (rpcMeter); Copies is the message
	// copies it received per message it applied (median).
	GossipIn  GossipBytes `json:"gossip_in"`
	GossipOut GossipBytes `json:"gossip_out"`
	Copies    float64     `json:"copies_per_message"`
	// BytesPerMessage is a listener's bytes in per room message it applied
	// (every kind, lines included; median listener): what a message costs,
	// whatever the rate.
	BytesPerMessage float64 `json:"bytes_per_message"`
	// CPU is the process's CPU time over the window per room message
	// delivered at a listener (every kind, lines included), µs.
	CPU        float64 `json:"cpu_us_per_msg"`
	Deliveries int     `json:"deliveries"`
	Busy       float64 `json:"busy"`
	// VotesCast counts the listeners' upvotes and reactions in the window;
	// Published those the host got on the topic (all in topic mode; in
	// ballots mode, those whose ballot was not taken).
	VotesCast int `json:"votes_cast"`
	Published int `json:"published"`
	// The host, in ballots mode: ballots taken a second over the window,
	// bytes of the ballot protocol per ballot (stream payload, its
	// negotiation not included), and a burst of one ballot from every
	// listener at once: how many were taken, how fast, and the process's
	// CPU per ballot over it (both ends, the tally included).
	BallotRate       float64 `json:"ballot_rate,omitempty"`
	BallotBytesIn    float64 `json:"ballot_bytes_in,omitempty"`
	BallotBytesOut   float64 `json:"ballot_bytes_out,omitempty"`
	BurstBallots     int     `json:"burst_ballots,omitempty"`
	BurstTaken       int     `json:"burst_taken,omitempty"`
	BurstRate        float64 `json:"burst_rate,omitempty"`
	BurstCPUPerVote  float64 `json:"burst_cpu_us_per_ballot,omitempty"`
	ListenersCorrect int     `json:"listeners_correct"` // listeners showing the host's counts
	Listeners        int     `json:"listeners"`
}

// ProtocolBytes is the median listener's bytes a second on one stream
// protocol ("" is multistream's negotiation of new streams).
type ProtocolBytes struct {
	Protocol string  `json:"protocol"`
	In       float64 `json:"in"`
	Out      float64 `json:"out"`
}

// GossipBytes is a listener's GossipSub bytes a second by part (medians
// over the listeners, each part on its own).
type GossipBytes struct {
	Messages  float64 `json:"messages"`
	IHave     float64 `json:"ihave"`
	IWant     float64 `json:"iwant"`
	IDontWant float64 `json:"idontwant"`
	Mesh      float64 `json:"mesh"` // GRAFT and PRUNE
}

// gossipBytes is the median listener's GossipSub bytes a second by part,
// of one direction (pick) of the listeners' rpcMeter differences.
func gossipBytes(ds []rpcMark, secs float64, pick func(rpcMark) rpcCounts) GossipBytes {
	med := func(part func(rpcCounts) int64) float64 {
		v := make([]float64, len(ds))
		for i, d := range ds {
			v[i] = float64(part(pick(d))) / secs
		}
		return spreadOf(v).Median
	}
	return GossipBytes{
		Messages:  med(func(c rpcCounts) int64 { return c.msgs }),
		IHave:     med(func(c rpcCounts) int64 { return c.ihave }),
		IWant:     med(func(c rpcCounts) int64 { return c.iwant }),
		IDontWant: med(func(c rpcCounts) int64 { return c.idontwant }),
		Mesh:      med(func(c rpcCounts) int64 { return c.mesh }),
	}
}

// byProtocol is the median listener's bytes a second per protocol over ds,
// the listeners' meter differences over secs, largest first.
func byProtocol(ds []meterMark, secs float64) []ProtocolBytes {
	protos := map[protocol.ID]bool{}
	for _, d := range ds {
		for p := range d.protoIn {
			protos[p] = true
		}
		for p := range d.protoOut {
			protos[p] = true
		}
	}
	out := make([]ProtocolBytes, 0, len(protos))
	for p := range protos {
		in, o := make([]float64, len(ds)), make([]float64, len(ds))
		for i, d := range ds {
			in[i], o[i] = float64(d.protoIn[p])/secs, float64(d.protoOut[p])/secs
		}
		out = append(out, ProtocolBytes{Protocol: string(p), In: spreadOf(in).Median, Out: spreadOf(o).Median})
	}
	slices.SortFunc(out, func(a, b ProtocolBytes) int {
		if c := cmp.Compare(b.In+b.Out, a.In+a.Out); c != 0 {
			return c
		}
		return strings.Compare(a.Protocol, b.Protocol)
	})
	return out
}

// audienceModel is the most audience messages a second DESIGN.md's
// capacity model lets a listener of a room of n members receive in ballots
// mode: the paced presence of the others, and the host's tallies, at most
// one a second. It grows with n up to 120 present and is flat past it.
func audienceModel(n int) float64 { return pacedPresence(n) + 1/rooms.DefaultTallyInterval.Seconds() }

// pacedPresence is the presence messages a second a listener of a steady
// room of n members receives under the node's pacing (node/rooms's
// presencePace, mirrored): each of the other n-2 listeners announces every
// max(1 min, n / 2 s), the host every minute.
func pacedPresence(n int) float64 {
	every := max(60.0, float64(n)/2)
	return float64(max(0, n-2))/every + 1.0/60
}

// audienceCase is one room of the scenario.
type audienceCase struct {
	n    int
	mode string
}

// audienceCases are the rooms a run takes: every size in both modes, but
// sizes from ballotsOnlyFrom on (0: none) in ballots mode only.
func audienceCases(sizes []int, ballotsOnlyFrom int) []audienceCase {
	var out []audienceCase
	for _, n := range sizes {
		if ballotsOnlyFrom == 0 || n < ballotsOnlyFrom {
			out = append(out, audienceCase{n, modeTopic})
		}
		out = append(out, audienceCase{n, modeBallots})
	}
	return out
}

// runAudience measures each audience room. A room that fails ends the
// scenario with an error, keeping the rooms before it; a listener left with
// counts other than the host's is an error.
func runAudience(ctx context.Context, e *env) (res ScenarioResult, err error) {
	defer func() {
		res.Note = e.audienceNote()
	}()
	for _, ac := range audienceCases(e.audienceSizes, e.audienceBallotsOnly) {
		p, err := e.audienceRoom(ctx, ac)
		if p != nil {
			res.Audience = append(res.Audience, *p)
			res.Figures = append(res.Figures, audienceFigures(*p)...)
		}
		if err != nil {
			return res, fmt.Errorf("%d nodes, %s: %w", ac.n, ac.mode, err)
		}
	}
	res.Figures = append(res.Figures, audienceVerdicts(res.Audience)...)
	return res, nil
}

func (e *env) audienceNote() string {
	presence := "listeners announce on joining, before the window, and then first at a moment drawn anywhere within the interval, " +
		"so the window sees presence near its steady rate (the paced rate beside it)"
	return fmt.Sprintf("all nodes in one process on this machine, loopback TCP, no fsync, GossipSub heartbeat %v; one run per room; "+
		"the host speaks %d line a second; every listener upvotes the window's question and reacts to a line once per %v window, at random moments "+
		"(%.1f votes a minute each), with the node's real presence pacing and tally interval (1 s) and census (1 min); "+
		"bytes by protocol and GossipSub's by part (messages, IHAVE, ...) get rows of their own from 3%% of a listener's bytes, all in the report; "+
		"modes: topic = RoomBallotFrom off (votes published on the topic), ballots = RoomBallotFrom %d (votes handed to the host); "+
		"%s; audience msg/s counts the presence, upvote, reaction and tally messages a listener's node applied (its events); "+
		"bytes are every stream of the listener's host (libp2p's bandwidth reporter: payload after the muxer, lines, sync and DHT included, "+
		"no handshake or encryption overhead); CPU is the whole process's over the window per room message delivered at a listener (lines included); "+
		"budget, ballots mode: every listener ≤ %s audience msg/s and ≤ %s KB/s each way at every size, "+
		"the largest room's median listener within %s× of the capacity model's audience msg/s (paced presence and a tally a second: flat past 120 present, %s msg/s at %s listeners), "+
		"and a message costing the median listener of the largest room ≤ %s× the bytes it costs in the smallest; a missed budget is reported, not failed; "+
		"a listener whose counts differ from the host's after %v is an error; "+
		"ballot burst: every listener upvotes a fresh question at once, timed to the host counting them all",
		roomHeartbeat, audienceLineRate, e.audienceWindow, 2*60/e.audienceWindow.Seconds(), audienceBallotFrom, presence,
		num(audienceMsgBudget), num(audienceByteBudget/1000), num(audienceModelSlack), num(audienceModel(modelListeners)), num(modelListeners),
		num(audienceGrowthLimit), audienceConverge)
}

// audienceRoom runs one room: starts it, lets it settle, runs the window,
// checks the counts, and in ballots mode runs the burst.
func (e *env) audienceRoom(ctx context.Context, ac audienceCase) (_ *AudiencePoint, err error) {
	n := ac.n
	label := fmt.Sprintf("%d nodes, %s", n, ac.mode)
	ballotFrom := -1
	if ac.mode == modeBallots {
		ballotFrom = audienceBallotFrom
	}
	c := newCluster(e)
	e.step("%s: starting the host and %d listeners", label, n-1)
	f, err := newRoomFixture(ctx, e, c, n, 0, func(cfg *node.Config) {
		cfg.RoomBallotFrom = ballotFrom
		cfg.BandwidthReporter = newByteMeter()
		cfg.PubSubTracer = &rpcMeter{}
	})
	if err != nil {
		return nil, errors.Join(err, c.close())
	}
	a := &audience{e: e, f: f, n: n, counts: make([]kindCounts, n-1)}
	defer func() {
		a.close()
		f.close()
		err = errors.Join(err, c.close())
	}()
	a.meters = make([]*byteMeter, n-1)
	a.rpcs = make([]*rpcMeter, n-1)
	for i, nd := range f.listeners {
		a.meters[i] = c.configOf(nd).BandwidthReporter.(*byteMeter)
		a.rpcs[i] = c.configOf(nd).PubSubTracer.(*rpcMeter)
		a.count(nd, &a.counts[i])
	}
	a.hostMeter = c.configOf(f.host).BandwidthReporter.(*byteMeter)
	a.count(f.host, &a.hostCounts)

	e.step("%s: letting the mesh form (%v)", label, e.meshSettle)
	if err := settleFor(ctx, e.meshSettle); err != nil {
		return nil, err
	}
	line, err := f.host.RoomSay(ctx, f.id, "the line to react to")
	if err != nil {
		return nil, err
	}
	q, err := f.host.RoomAsk(ctx, f.id, "the question to upvote")
	if err != nil {
		return nil, err
	}
	if err := a.waitVisible(ctx, q, line); err != nil {
		return nil, err
	}
	e.step("%s: window of %v", label, e.audienceWindow)
	p, err := a.window(ctx, ac, q, line)
	if err != nil {
		return p, err
	}
	e.step("%s: waiting for every listener to show the host's counts", label)
	if err := a.converge(ctx, p, q, line); err != nil {
		return p, err
	}
	p.Published = int(a.hostCounts[room.KindUpvote].Load() + a.hostCounts[room.KindReaction].Load())
	if ac.mode != modeBallots {
		return p, nil
	}
	taken := p.VotesCast - p.Published
	if taken > 0 {
		p.BallotRate = float64(taken) / p.WindowS
		p.BallotBytesIn = float64(a.hostBallot.protoIn[rooms.ProtocolBallot]) / float64(taken)
		p.BallotBytesOut = float64(a.hostBallot.protoOut[rooms.ProtocolBallot]) / float64(taken)
	}
	e.step("%s: ballot burst", label)
	return p, a.burst(ctx, p)
}

// kindCounts counts a node's applied room messages by kind.
type kindCounts [16]atomic.Int64

// total is the messages counted, every kind.
func (k *kindCounts) total() int64 {
	var n int64
	for i := range k {
		n += k[i].Load()
	}
	return n
}

func (k *kindCounts) reset() {
	for i := range k {
		k[i].Store(0)
	}
}

// audience is one room of the scenario while it runs.
type audience struct {
	e          *env
	f          *roomFixture
	n          int
	counts     []kindCounts // per listener
	hostCounts kindCounts   // votes the host got on the topic
	meters     []*byteMeter
	rpcs       []*rpcMeter
	hostMeter  *byteMeter
	hostBallot meterMark // the host's bytes over the window
	readers    eventReaders
}

// count counts nd's room message events by kind in the scenario's room
// (its own messages too, which the host's counters do not see: the host
// never votes).
func (a *audience) count(nd *node.Node, k *kindCounts) {
	id := a.f.id
	self := nd.ID()
	a.readers.read(nd, func(ev node.Event) {
		if ev.Type == node.EventRoomMessage && ev.Room != nil && ev.Room.Room == id && ev.Peer != self && int(ev.Room.Kind) < len(k) {
			k[ev.Room.Kind].Add(1)
		}
	})
}

func (a *audience) close() { a.readers.close() }

// waitVisible waits until every listener holds the question and the line.
func (a *audience) waitVisible(ctx context.Context, q, line room.MessageID) error {
	return waitFor(ctx, "every listener holding the question and the line", audienceConverge, 50*time.Millisecond, func() (bool, error) {
		for _, nd := range a.f.listeners {
			c, err := countsAt(nd, a.f.id, q, line)
			if err != nil || !c.hasQ || !c.hasLine {
				return false, err
			}
		}
		return true, nil
	})
}

// window runs the measured window: the host speaks at audienceLineRate and
// each listener upvotes q and reacts to line once, at random moments.
func (a *audience) window(ctx context.Context, ac audienceCase, q, line room.MessageID) (*AudiencePoint, error) {
	f, w := a.f, a.e.audienceWindow
	for i := range a.counts {
		a.counts[i].reset()
	}
	a.hostCounts.reset()
	before := make([]meterMark, len(a.meters))
	for i, m := range a.meters {
		before[i] = m.mark()
	}
	hostBefore := a.hostMeter.mark()
	rpcBefore := make([]rpcMark, len(a.rpcs))
	for i, m := range a.rpcs {
		rpcBefore[i] = m.mark()
	}
	start := markUsage()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(f.listeners)+1)
	wg.Go(func() {
		tick := time.NewTicker(time.Second / audienceLineRate)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			if _, err := f.host.RoomSay(wctx, f.id, fmt.Sprint("line ", i)); err != nil && wctx.Err() == nil {
				errs[0] = fmt.Errorf("host speaks: %w", err)
				return
			}
		}
	})
	var voters sync.WaitGroup
	for i, nd := range f.listeners {
		voters.Go(func() {
			upvote := func() error { return nd.RoomUpvote(ctx, f.id, q) }
			react := func() error { return nd.RoomReact(ctx, f.id, line, audienceEmojis[i%len(audienceEmojis)]) }
			ats, votes := []time.Duration{randIn(w), randIn(w)}, []func() error{upvote, react}
			if ats[1] < ats[0] {
				ats[0], ats[1], votes[0], votes[1] = ats[1], ats[0], react, upvote
			}
			for j, vote := range votes {
				if err := sleep(ctx, time.Until(start.at.Add(ats[j]))); err != nil {
					errs[i+1] = err
					return
				}
				if err := vote(); err != nil {
					errs[i+1] = fmt.Errorf("listener %d votes: %w", i, err)
					return
				}
			}
		})
	}
	voters.Wait()
	if err := sleep(ctx, time.Until(start.at.Add(w))); err != nil {
		return nil, err
	}
	use := usageSince(start)
	cancel()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	secs := use.wall.Seconds()
	p := &AudiencePoint{Nodes: a.n, Mode: ac.mode, WindowS: secs, LineRate: audienceLineRate, VoteEvery: w.Seconds(),
		PacedPresence: pacedPresence(a.n), Busy: use.busy, VotesCast: 2 * len(f.listeners), Listeners: len(f.listeners)}
	var aud, pres, votes, tallies, in, out []float64
	deltas := make([]meterMark, len(a.counts))
	rpcDeltas := make([]rpcMark, len(a.counts))
	var copies, perMsg []float64
	for i := range a.counts {
		k := &a.counts[i]
		pr, up, re, ta := k[room.KindPresence].Load(), k[room.KindUpvote].Load(), k[room.KindReaction].Load(), k[room.KindTally].Load()
		applied := k.total()
		p.Deliveries += int(applied)
		pres, votes, tallies = append(pres, float64(pr)/secs), append(votes, float64(up+re)/secs), append(tallies, float64(ta)/secs)
		aud = append(aud, float64(pr+up+re+ta)/secs)
		d := a.meters[i].mark().since(before[i])
		deltas[i] = d
		rpcDeltas[i] = a.rpcs[i].mark().since(rpcBefore[i])
		if applied > 0 {
			copies = append(copies, float64(rpcDeltas[i].in.copies)/float64(applied))
			perMsg = append(perMsg, float64(d.in)/float64(applied))
		}
		in, out = append(in, float64(d.in)/secs), append(out, float64(d.out)/secs)
	}
	p.ByProtocol = byProtocol(deltas, secs)
	p.GossipIn = gossipBytes(rpcDeltas, secs, func(m rpcMark) rpcCounts { return m.in })
	p.GossipOut = gossipBytes(rpcDeltas, secs, func(m rpcMark) rpcCounts { return m.out })
	p.Copies = spreadOf(copies).Median
	p.BytesPerMessage = spreadOf(perMsg).Median
	a.hostBallot = a.hostMeter.mark().since(hostBefore)
	p.Audience, p.Presence, p.Votes, p.Tallies = spreadOf(aud), spreadOf(pres), spreadOf(votes), spreadOf(tallies)
	p.BytesIn, p.BytesOut = spreadOf(in), spreadOf(out)
	if p.Deliveries > 0 {
		p.CPU = µs(use.cpu) / float64(p.Deliveries)
	}
	return p, nil
}

// randIn is a random duration in [0, d).
func randIn(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(max(d, 1)))) }

// voteCounts is what a node shows of the window's question and line.
type voteCounts struct {
	hasQ, hasLine bool
	upvotes       int
	reactions     map[string]int
}

func countsAt(nd *node.Node, id room.ID, q, line room.MessageID) (voteCounts, error) {
	c := voteCounts{reactions: map[string]int{}}
	qs, err := nd.RoomQuestions(id)
	if err != nil {
		return c, err
	}
	for _, x := range qs {
		if x.ID == q {
			c.hasQ, c.upvotes = true, x.Upvotes
		}
	}
	chat, err := nd.RoomChat(id, 0)
	if err != nil {
		return c, err
	}
	for _, x := range chat {
		if x.ID == line {
			c.hasLine = true
			for _, r := range x.Reactions {
				c.reactions[r.Emoji] = r.Count
			}
		}
	}
	return c, nil
}

// wantCounts is what every node must show once every listener voted.
func wantCounts(listeners int) voteCounts {
	c := voteCounts{hasQ: true, hasLine: true, upvotes: listeners, reactions: map[string]int{}}
	for i := range listeners {
		c.reactions[audienceEmojis[i%len(audienceEmojis)]]++
	}
	return c
}

func (c voteCounts) equal(d voteCounts) bool {
	if c.hasQ != d.hasQ || c.hasLine != d.hasLine || c.upvotes != d.upvotes || len(c.reactions) != len(d.reactions) {
		return false
	}
	for k, v := range c.reactions {
		if d.reactions[k] != v {
			return false
		}
	}
	return true
}

func (c voteCounts) String() string {
	return fmt.Sprintf("%d upvotes, reactions %v", c.upvotes, c.reactions)
}

// converge waits until the host counts every listener's votes and every
// listener shows the host's counts; what is still wrong after
// audienceConverge is an error.
func (a *audience) converge(ctx context.Context, p *AudiencePoint, q, line room.MessageID) error {
	want := wantCounts(len(a.f.listeners))
	var wrong []string
	err := waitFor(ctx, "the counts", audienceConverge, 100*time.Millisecond, func() (bool, error) {
		wrong = wrong[:0]
		hc, err := countsAt(a.f.host, a.f.id, q, line)
		if err != nil {
			return false, err
		}
		if !hc.equal(want) {
			wrong = append(wrong, fmt.Sprintf("the host counts %v, want %v", hc, want))
			return false, nil
		}
		p.ListenersCorrect = 0
		for i, nd := range a.f.listeners {
			c, err := countsAt(nd, a.f.id, q, line)
			if err != nil {
				return false, err
			}
			if c.equal(want) {
				p.ListenersCorrect++
			} else if len(wrong) < 3 {
				wrong = append(wrong, fmt.Sprintf("listener %d shows %v", i, c))
			}
		}
		return p.ListenersCorrect == len(a.f.listeners), nil
	})
	if errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w: %d of %d listeners show the host's counts (%v): %v", ErrWrongCounts, p.ListenersCorrect, len(a.f.listeners), want, wrong)
	}
	return err
}

// burst has every listener upvote a fresh question at once and times the
// host taking them: ballots taken a second, and the process's CPU per
// ballot over the burst.
func (a *audience) burst(ctx context.Context, p *AudiencePoint) error {
	f := a.f
	q, err := f.host.RoomAsk(ctx, f.id, "the burst's question")
	if err != nil {
		return err
	}
	if err := waitFor(ctx, "every listener holding the burst's question", audienceConverge, 50*time.Millisecond, func() (bool, error) {
		for _, nd := range f.listeners {
			qs, err := nd.RoomQuestions(f.id)
			if err != nil || !slices.ContainsFunc(qs, func(x node.RoomQuestionLine) bool { return x.ID == q }) {
				return false, err
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	published := a.hostCounts[room.KindUpvote].Load()
	start := markUsage()
	errs := make([]error, len(f.listeners))
	var wg sync.WaitGroup
	for i, nd := range f.listeners {
		wg.Go(func() { errs[i] = nd.RoomUpvote(ctx, f.id, q) })
	}
	err = waitFor(ctx, "the host counting the burst", audienceConverge, 5*time.Millisecond, func() (bool, error) {
		qs, err := f.host.RoomQuestions(f.id)
		if err != nil {
			return false, err
		}
		i := slices.IndexFunc(qs, func(x node.RoomQuestionLine) bool { return x.ID == q })
		return i >= 0 && qs[i].Upvotes == len(f.listeners), nil
	})
	use := usageSince(start)
	wg.Wait()
	if err := errors.Join(append(errs, err)...); err != nil {
		return err
	}
	p.BurstBallots = len(f.listeners)
	p.BurstTaken = p.BurstBallots - int(a.hostCounts[room.KindUpvote].Load()-published)
	if s := use.wall.Seconds(); s > 0 {
		p.BurstRate = float64(p.BurstTaken) / s
	}
	p.BurstCPUPerVote = µs(use.cpu) / float64(p.BurstBallots)
	return nil
}

// audienceFigures are one room's rows of the table.
func audienceFigures(p AudiencePoint) []Figure {
	pre := fmt.Sprintf("%d nodes, %s: ", p.Nodes, p.Mode)
	spread := func(name, unit string, s Spread, scale float64) Figure {
		f := fig(pre+name, unit, s.Median*scale, nil)
		f.Range = &Range{Min: s.Min * scale, Max: s.Max * scale}
		return f
	}
	figs := []Figure{
		spread("audience msg/s per listener (median, min–max over listeners)", "msg/s", p.Audience, 1),
		figVs(pre+"presence msg/s per listener (median), beside the pacing's steady rate", "msg/s", p.Presence.Median, p.PacedPresence, "presence pacing's steady rate", nil),
		spread("upvotes and reactions on the topic, msg/s per listener", "msg/s", p.Votes, 1),
		spread("tallies msg/s per listener", "msg/s", p.Tallies, 1),
		spread("bytes in per listener", "KB/s", p.BytesIn, 0.001),
		spread("bytes out per listener", "KB/s", p.BytesOut, 0.001),
	}
	for _, b := range p.ByProtocol {
		if b.In+b.Out < protocolRowFrom*(p.BytesIn.Median+p.BytesOut.Median) {
			continue
		}
		name := b.Protocol
		if name == "" {
			name = "stream negotiation"
		}
		figs = append(figs, fig(pre+"of it, "+name+", in per listener (median)", "KB/s", b.In/1000, nil),
			fig(pre+"of it, "+name+", out per listener (median)", "KB/s", b.Out/1000, nil))
	}
	total := p.BytesIn.Median + p.BytesOut.Median
	for _, d := range []struct {
		dir string
		g   GossipBytes
	}{{"in", p.GossipIn}, {"out", p.GossipOut}} {
		for _, part := range []struct {
			name string
			v    float64
		}{{"messages", d.g.Messages}, {"IHAVE", d.g.IHave}, {"IWANT", d.g.IWant}, {"IDONTWANT", d.g.IDontWant}, {"GRAFT and PRUNE", d.g.Mesh}} {
			if part.v <= 0 || part.v < protocolRowFrom*total {
				continue
			}
			figs = append(figs, fig(pre+fmt.Sprintf("of GossipSub's, %s %s per listener (median)", part.name, d.dir), "KB/s", part.v/1000, nil))
		}
	}
	figs = append(figs, fig(pre+"message copies received per message applied (median listener)", "copies", p.Copies, nil),
		fig(pre+"bytes in per message applied (median listener)", "B", p.BytesPerMessage, nil))
	busyAt := len(figs) + 1
	figs = append(figs,
		fig(pre+"CPU per delivered message (process)", "µs", p.CPU, nil),
		fig(pre+"machine busy", "%", 100*p.Busy, nil),
		fig(pre+"listeners showing the host's counts", "listeners", float64(p.ListenersCorrect), exactly(float64(p.Listeners))),
	)
	if p.Busy < 0 {
		figs[busyAt] = missing(pre+"machine busy", "%", "unknown (no /proc/stat)", nil)
	}
	if p.Mode != modeBallots {
		return figs
	}
	return append(figs,
		fig(pre+"votes published on the topic instead of taken as ballots", "votes", float64(p.Published), nil),
		fig(pre+"host: ballots taken a second over the window", "ballots/s", p.BallotRate, nil),
		fig(pre+"host: ballot protocol bytes in per ballot", "B", p.BallotBytesIn, nil),
		fig(pre+"host: ballot protocol bytes out per ballot", "B", p.BallotBytesOut, nil),
		fig(pre+fmt.Sprintf("burst of %d ballots at once: taken", p.BurstBallots), "ballots", float64(p.BurstTaken), exactly(float64(p.BurstBallots))),
		fig(pre+"burst: ballots taken a second", "ballots/s", p.BurstRate, nil),
		fig(pre+"burst: CPU per ballot (process, both ends, tally included)", "µs", p.BurstCPUPerVote, nil),
	)
}

// audienceVerdicts judge the budget over the rooms of ballots mode, and
// show topic mode beside it unjudged. The budget holds when every listener
// is within it at every size measured, the median listener's audience
// traffic stays within the capacity model's (which is flat past 120
// present, so the budget holds at any size as long as the model does), and
// a message costs a listener no more bytes in the largest room than in the
// smallest (the bytes then follow the messages).
func audienceVerdicts(ps []AudiencePoint) []Figure {
	var figs []Figure
	for _, mode := range []string{modeBallots, modeTopic} {
		var of []AudiencePoint
		for _, p := range ps {
			if p.Mode == mode {
				of = append(of, p)
			}
		}
		if len(of) == 0 {
			continue
		}
		smallest := slices.MinFunc(of, func(x, y AudiencePoint) int { return x.Nodes - y.Nodes })
		largest := slices.MaxFunc(of, func(x, y AudiencePoint) int { return x.Nodes - y.Nodes })
		var msgs, bytes float64
		for _, p := range of {
			msgs, bytes = max(msgs, p.Audience.Max), max(bytes, p.BytesIn.Max, p.BytesOut.Max)
		}
		pre := fmt.Sprintf("%s mode: ", mode)
		sizes := fmt.Sprintf("%d ÷ %d nodes", largest.Nodes, smallest.Nodes)
		judged := mode == modeBallots
		target := func(t *Target) *Target {
			if judged {
				return t
			}
			return nil
		}
		figs = append(figs,
			fig(pre+"budget: highest listener's audience msg/s at any size", "msg/s", msgs, target(atMost(audienceMsgBudget))),
			fig(pre+"budget: highest listener's KB/s, in or out, at any size", "KB/s", bytes/1000, target(atMost(audienceByteBudget/1000))),
		)
		if judged {
			figs = append(figs, figVs(pre+fmt.Sprintf("audience msg/s at %d nodes (median listener) against the capacity model's", largest.Nodes),
				"msg/s", largest.Audience.Median, audienceModel(largest.Nodes), "paced presence and 1 tally/s", ratioAtMost(audienceModelSlack)))
		}
		if largest.Nodes > smallest.Nodes {
			figs = append(figs,
				figVs(pre+"growth of bytes in per message applied, "+sizes+" (median listener)", "B", largest.BytesPerMessage, smallest.BytesPerMessage,
					fmt.Sprintf("the %d-node room's", smallest.Nodes), target(ratioAtMost(audienceGrowthLimit))),
				figVs(pre+"growth of audience msg/s, "+sizes+" (median listener)", "msg/s", largest.Audience.Median, smallest.Audience.Median,
					fmt.Sprintf("the %d-node room's", smallest.Nodes), nil),
			)
		}
		if judged {
			figs = append(figs, fig(pre+"the capacity model's audience msg/s at "+num(modelListeners)+" listeners", "msg/s",
				audienceModel(modelListeners), atMost(audienceMsgBudget)))
			held := true
			for _, f := range figs {
				if f.Met != nil && !*f.Met {
					held = false
				}
			}
			figs = append(figs, fig("ballots mode: budget held at every size (1 yes, 0 no)", "", boolNum(held), exactly(1)))
		}
	}
	return figs
}

func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
