package rooms

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/node/rooms/internal/roomspb"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// Ballots and tallies. In a large room every upvote and reaction published
// on the topic reaches, and is checked by, every member. So a listener of a
// room where it counts at least Config.BallotFrom peers present hands its
// upvote or reaction to the host as a signed ballot over ProtocolBallot
// instead; the host checks, stores and counts it, and tells the room the
// totals in a tally (room.KindTally) at most every TallyInterval, with the
// census of the peers present every CensusInterval. A ballot has no
// sequence number: it is no part of the room's history, which sync repairs
// by per-sender marks. Whatever fails on the way (no connection to the
// host, a refusal), the listener publishes its vote as before.
const (
	// ProtocolBallot hands one ballot to a room's host.
	ProtocolBallot = "/backchannel/rooms/ballot/1.0.0"
	// DefaultTallyInterval is how often a host tells its room the counts
	// that changed: at most a tally a second reaches each member.
	DefaultTallyInterval = time.Second
	// DefaultBallotFrom is the room size, in peers counted present, from
	// which listeners hand their votes to the host.
	DefaultBallotFrom = 100
	// DefaultMaxBallots bounds the ballots a host keeps of a room, in its
	// store and in memory (roomstate.DefaultMaxBallots).
	DefaultMaxBallots = roomstate.DefaultMaxBallots
	// maxVoterBallots bounds one voter's ballots in a room: a hundred
	// questions upvoted and reacted to many times over.
	maxVoterBallots = 1000
	// BallotPeerRate and BallotPeerBurst bound the ballots the host takes
	// from one remote peer; BallotVoterRate and BallotVoterBurst those of
	// one voter, whoever hands them. Above them a ballot is refused, and
	// its voter publishes instead (where the validator's sender rate
	// applies).
	BallotPeerRate   = rate.Limit(10)
	BallotPeerBurst  = 40
	BallotVoterRate  = rate.Limit(5)
	BallotVoterBurst = 20
	// ballotTimeout bounds one hand-off, on either side.
	ballotTimeout = 3 * time.Second
	// ballotDialTimeout bounds reaching the host for a ballot when we are
	// not connected to it (a DHT lookup included).
	ballotDialTimeout = 3 * time.Second
	// maxBallotRequest and maxBallotResponse bound the frames.
	maxBallotRequest  = room.MaxBallotSize + 16
	maxBallotResponse = 1024
	// maxDirty bounds the targets a host has yet to tally: some 100 s of
	// tallies at the default pace, and at most some 400 KiB. Past it a
	// ballot for a new target is refused (the voter publishes instead).
	maxDirty = 4096
)

// Why the host refuses a ballot, as its answer says.
var (
	errBallotRate     = errors.New("rate limited")
	errBallotNoRoom   = errors.New("not in this room")
	errBallotNotHost  = errors.New("not this room's host")
	errBallotTime     = errors.New("ballot dated too far from now")
	errBallotMuted    = errors.New("the voter is muted in this room")
	errBallotNoTarget = errors.New("no such question or message here")
	errBallotFull     = errors.New("this room holds all the votes its host keeps")
	errBallotBusy     = errors.New("the host is busy: publish instead")
	errBallotStore    = errors.New("ballot not stored")
)

// tallyKey is what a tally counts: a target's upvotes (emoji empty) or its
// reactions with an emoji.
type tallyKey struct {
	target room.MessageID
	emoji  string
}

// handBallot hands our upvote of target (emoji empty) or reaction to it to
// the room's host, and reports whether the host took it. It does not try
// when the room is small (fewer than Config.BallotFrom peers present), we
// are its host, a speaker or a moderator, we are muted (publishing then
// tells why), or the host cannot be reached; a refusal or a failure is
// logged, and the caller publishes instead.
func (s *Service) handBallot(ctx context.Context, id room.ID, target room.MessageID, emoji string) bool {
	lr, ok := s.get(id)
	if !ok || s.cfg.BallotFrom < 0 {
		return false
	}
	me := s.env.Identity.Signing()
	if lr.desc.Host == me.Public() {
		return false
	}
	now := time.Now()
	lr.mu.Lock()
	listeners, speakers := lr.state.Presence(now)
	role := lr.state.Role(me.Public(), now)
	muted := lr.state.Muted(me.Public(), now)
	lr.mu.Unlock()
	if listeners+len(speakers) < s.cfg.BallotFrom || role >= roomstate.RoleSpeaker || muted {
		return false
	}
	// Most listeners of a large room are not connected to its host (the
	// connection manager keeps at most a few hundred): dial it, finding
	// its addresses in the DHT if need be. The host's connection manager
	// trims what it does not need; a host it cannot reach gets the vote
	// on the topic instead.
	host := lr.desc.Host.PeerID()
	dctx, cancel := context.WithTimeout(ctx, ballotDialTimeout)
	err := s.env.Net.Connect(dctx, host)
	cancel()
	if err != nil {
		s.env.Log.Debug("room: host not reachable for a ballot; publishing instead", "room", id, "err", err)
		return false
	}
	b := room.Ballot{Room: id, Target: target, Emoji: emoji, Time: now}
	if err := b.Sign(me); err != nil {
		return false // a bad target or emoji: publishing says why
	}
	if err := s.sendBallot(ctx, host, b); err != nil {
		s.env.Log.Debug("room: ballot not taken; publishing instead", "room", id, "err", err)
		return false
	}
	s.keepMyBallot(b)
	return true
}

// sendBallot hands b to p and waits for its answer.
func (s *Service) sendBallot(ctx context.Context, p peer.ID, b room.Ballot) error {
	data, err := b.MarshalBinary()
	if err != nil {
		return err
	}
	var resp roomspb.BallotResponse
	if err := frame.Exchange(ctx, s.env.Net.Host(), p, ProtocolBallot, ballotTimeout,
		&roomspb.BallotRequest{Ballot: data}, &resp, maxBallotResponse); err != nil {
		return fmt.Errorf("ballot to %s: %w", p.ShortString(), err)
	}
	if resp.Error != "" {
		return fmt.Errorf("ballot: %s says: %s", p.ShortString(), resp.Error)
	}
	return nil
}

// handleBallot serves ProtocolBallot: one ballot, answered with an empty
// error when taken (or held already), else the reason. A request that does
// not decode resets the stream and costs its sender one of its tokens.
func (s *Service) handleBallot(st network.Stream) {
	defer st.Close()
	p := st.Conn().RemotePeer()
	_ = st.SetDeadline(time.Now().Add(ballotTimeout))
	var req roomspb.BallotRequest
	err := frame.Read(bufio.NewReader(st), &req, maxBallotRequest)
	var b room.Ballot
	if err == nil {
		b, err = room.UnmarshalBallot(req.Ballot)
	}
	if err != nil {
		s.ballotPeers.Allow(string(p))
		st.Reset()
		s.env.Log.Warn("ballot: malformed request", "from", p, "err", err)
		return
	}
	resp := &roomspb.BallotResponse{}
	if err := s.takeBallot(p, b); err != nil {
		s.env.Log.Debug("room: ballot refused", "from", p, "voter", b.Voter, "err", err)
		resp.Error = refusal(err)
	}
	if err := frame.Write(st, resp); err != nil {
		st.Reset()
	}
}

// refusal is what a refused ballot's answer says: the reason, and for a
// ballot that does not verify, what is wrong with it.
func refusal(err error) string {
	for _, reason := range []error{errBallotRate, errBallotNoRoom, errBallotNotHost, errBallotTime, errBallotMuted,
		errBallotNoTarget, errBallotFull, errBallotBusy, errBallotStore} {
		if errors.Is(err, reason) {
			return reason.Error()
		}
	}
	return err.Error() // crypto/room's: about the ballot alone
}

// takeBallot checks a ballot handed to us by p, stores it and counts it:
// p's and the voter's rates, that we are in the room and its host, the
// signature, the time, that the voter is not muted, and that the target is
// a visible question (an upvote) or chat line or question (a reaction).
func (s *Service) takeBallot(p peer.ID, b room.Ballot) error {
	if !s.ballotPeers.Allow(string(p)) {
		return errBallotRate
	}
	lr, ok := s.get(b.Room)
	if !ok {
		return errBallotNoRoom
	}
	if lr.desc.Host != s.env.Identity.Signing().Public() {
		return errBallotNotHost
	}
	// The signature before the voter's rate, so that forged ballots do not
	// spend a genuine voter's tokens.
	if err := b.Verify(lr.desc.Room); err != nil {
		return fmt.Errorf("bad ballot: %w", err)
	}
	now := time.Now()
	if b.Time.After(now.Add(clockSkew)) || b.Time.Before(now.Add(-clockSkew)) {
		return errBallotTime
	}
	if !s.ballotVoters.Allow(string(b.Voter[:])) {
		return errBallotRate
	}
	key := tallyKey{b.Target, b.Emoji}
	lr.mu.Lock()
	muted := lr.state.Muted(b.Voter, now) || lr.state.Muted(b.Voter, b.Time)
	kind, known := lr.state.VisibleKind(b.Target)
	_, dirty := lr.dirty[key]
	busy := !dirty && len(lr.dirty) >= maxDirty
	lr.mu.Unlock()
	switch {
	case muted:
		return errBallotMuted
	case !known || (b.Upvote() && kind != room.KindQuestion):
		return errBallotNoTarget
	case busy:
		return errBallotBusy
	}
	data, err := b.MarshalBinary()
	if err != nil {
		return fmt.Errorf("bad ballot: %w", err)
	}
	return s.storeBallot(lr, b, data)
}

// replayBallots applies the ballots we keep of a room we host to its fresh
// state, and marks dirty what they count beyond what our tallies told the
// room (taken, but not yet tallied when we stopped). The caller holds a
// read transaction and lr is not shared yet.
func (s *Service) replayBallots(tx *storage.Txn, lr *liveRoom) error {
	keys := map[tallyKey]struct{}{}
	err := tx.EachRoomBallot(storage.RoomID(lr.desc.Room), func(rb storage.RoomBallot) error {
		b, err := room.UnmarshalBallot(rb.Data)
		if err != nil || lr.state.ApplyBallot(b) != nil {
			return nil // what the store holds was checked when taken
		}
		if len(keys) < maxDirty {
			keys[tallyKey{b.Target, b.Emoji}] = struct{}{}
		}
		return nil
	})
	for k := range keys {
		if lr.state.Count(k.target, k.emoji) > lr.state.TalliedCount(k.target, k.emoji) {
			lr.dirty[k] = struct{}{}
		}
	}
	return err
}

// noteVote marks dirty the target of an upvote or reaction message that
// reached the host of a room where a tally already counts it: the room
// sees the higher of the voters it knows and the tally, so a vote the
// host's last tally missed must make another.
// The caller holds lr.mu.
func (s *Service) noteVote(lr *liveRoom, m room.Message) {
	var key tallyKey
	switch m.Kind {
	case room.KindUpvote:
		q, err := roomstate.DecodeUpvote(m.Body)
		if err != nil {
			return
		}
		key.target = q
	case room.KindReaction:
		r, err := roomstate.DecodeReaction(m.Body)
		if err != nil {
			return
		}
		key = tallyKey{r.Target, r.Emoji}
	default:
		return
	}
	if _, ok := lr.dirty[key]; !ok && len(lr.dirty) < maxDirty && lr.state.TalliedCount(key.target, key.emoji) > 0 {
		lr.dirty[key] = struct{}{}
	}
}

// tallyLoop runs, in a room we host, the tallies: every TallyInterval,
// the counts of up to roomstate.MaxTallyCounts targets whose count changed
// (the rest at the next round), and every CensusInterval in a room of at
// least BallotFrom peers present, the census.
func (s *Service) tallyLoop(lr *liveRoom) {
	var lastCensus time.Time
	s.everyWhileJoined(lr, s.cfg.TallyInterval, func() time.Duration {
		s.tally(lr, &lastCensus)
		return 0
	})
}

// tally publishes one tally of lr, if there is anything to tell.
func (s *Service) tally(lr *liveRoom, lastCensus *time.Time) {
	now := time.Now()
	var tb roomstate.TallyBody
	var taken []tallyKey
	lr.mu.Lock()
	for k := range lr.dirty {
		if len(taken) == roomstate.MaxTallyCounts {
			break
		}
		delete(lr.dirty, k)
		taken = append(taken, k)
		if n := lr.state.Count(k.target, k.emoji); n > 0 {
			tb.Counts = append(tb.Counts, roomstate.TallyCount{Target: k.target, Emoji: k.emoji, Count: uint32(min(n, math.MaxUint32))})
		}
	}
	seen := lr.state.PresentSeen(now)
	lr.mu.Unlock()
	census := s.cfg.BallotFrom >= 0 && seen >= s.cfg.BallotFrom && now.Sub(*lastCensus) >= s.cfg.CensusInterval
	if census {
		tb.Present = uint32(min(seen, math.MaxUint32))
	}
	if len(tb.Counts) == 0 && tb.Present == 0 {
		return
	}
	body, err := roomstate.EncodeTally(tb)
	if err == nil {
		_, err = s.publish(lr.ctx, lr.desc.Room, room.KindTally, body)
	}
	if err != nil {
		s.env.Log.Debug("room: tally not sent", "room", lr.desc.Room, "err", err)
		lr.mu.Lock()
		for _, k := range taken {
			if len(lr.dirty) < maxDirty {
				lr.dirty[k] = struct{}{}
			}
		}
		lr.mu.Unlock()
		return
	}
	if census {
		*lastCensus = now
	}
}
