package rooms

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// Presence pacing. Every member tells the room it is there, and each
// presence message reaches, and is checked by, every member: announced at a
// fixed interval, a room of n listeners would cost each of them n/interval
// messages a second. So a listener announces itself less often the more
// peers it counts present, keeping the room's presence traffic near
// presenceRoomRate a second whatever its size; its presence lasts twice its
// interval plus a margin, so the count stays exact (DESIGN.md, "Rooms",
// capacity). The host, moderators and speakers announce every presenceBase:
// they are few, and who speaks must be current.
const (
	// presenceBase is the shortest interval, that of a room of up to
	// presenceBase × presenceRoomRate (120) present peers.
	presenceBase = time.Minute
	// presenceRoomRate is the room-wide presence messages a second that
	// pacing aims at.
	presenceRoomRate = 2.0
	// presenceMargin is added to twice the interval to make the TTL.
	presenceMargin = 30 * time.Second
	// presenceMaxEvery is the longest interval: the largest TTL a presence
	// may carry (roomstate.MaxPresenceTTL) holds twice it and the margin.
	presenceMaxEvery = (roomstate.MaxPresenceTTL - presenceMargin) / 2
	// presenceJitter spreads announcements: each interval is drawn within
	// ±presenceJitter of its length, so that members who joined together
	// do not announce together.
	presenceJitter = 0.1
)

// presencePace is how often a member announces itself, and for how long
// each announcement holds, in a room where it counts present peers. speaker
// is set for the host, moderators and speakers.
func presencePace(present int, speaker bool) (every, ttl time.Duration) {
	every = presenceBase
	if !speaker {
		every = max(every, time.Duration(float64(present)/presenceRoomRate*float64(time.Second)))
	}
	every = min(every, presenceMaxEvery).Truncate(time.Second)
	return every, 2*every + presenceMargin
}

// jittered draws an interval within ±presenceJitter of every.
func jittered(every time.Duration) time.Duration {
	return time.Duration(float64(every) * (1 - presenceJitter + 2*presenceJitter*rand.Float64()))
}

// pace is our presence pacing in a joined room now.
func (s *Service) pace(lr *liveRoom) (every, ttl time.Duration) {
	now := time.Now()
	me := s.env.Identity.Signing().Public()
	lr.mu.Lock()
	listeners, speakers := lr.state.Presence(now)
	role := lr.state.Role(me, now)
	lr.mu.Unlock()
	return presencePace(listeners+len(speakers), role >= roomstate.RoleSpeaker)
}

// announceLoop announces our presence in a joined room, paced, until we
// leave it: at once, then after a first interval drawn anywhere within the
// pace (firstInterval), then jittered around it.
func (s *Service) announceLoop(lr *liveRoom) {
	first := true
	s.everyWhileJoined(lr, presenceMaxEvery, func() time.Duration {
		every := s.announcePresence(lr.ctx, lr.desc.Room, false)
		if first {
			first = false
			return firstInterval(every)
		}
		return jittered(every)
	})
}

// firstInterval draws the wait after the presence sent on joining, from
// presenceJitter × every to every. A crowd that joins together (a room
// just announced, a node's rooms rejoined at start) would otherwise
// announce together again a whole interval later, and the jitter alone
// takes many intervals to spread them; drawn anywhere in the interval,
// their presences are spread from the second one on. The presence sent on
// joining holds twice the interval and more, so it outlives the wait.
func firstInterval(every time.Duration) time.Duration {
	return time.Duration(float64(every) * (presenceJitter + (1-presenceJitter)*rand.Float64()))
}

// announcePresence tells the room we are in it (or leaving it), and returns
// the interval our pacing asks for now. ctx bounds the wait for the room's
// first sync.
func (s *Service) announcePresence(ctx context.Context, id room.ID, leaving bool) (every time.Duration) {
	lr, ok := s.get(id)
	if !ok {
		return presenceBase
	}
	every, ttl := s.pace(lr)
	body, err := roomstate.EncodePresence(roomstate.PresenceBody{TTL: ttl, Leaving: leaving, Name: s.myName(lr)})
	if err != nil {
		s.env.Log.Error("room: presence", "err", err)
		return every
	}
	if _, err := s.publish(ctx, id, room.KindPresence, body); err != nil {
		s.env.Log.Debug("room: presence not sent", "room", id, "err", err)
	}
	return every
}
