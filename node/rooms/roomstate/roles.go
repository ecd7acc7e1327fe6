package roomstate

import (
	"strconv"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// Role is what a peer is in a room at a time: a listener unless the host or
// granted a role. Roles are ordered: each has the powers of the ones below.
type Role uint8

// Roles, from least to most powerful.
const (
	// RoleListener is anyone in the room without a grant.
	RoleListener Role = iota
	// RoleSpeaker holds a current speaker grant.
	RoleSpeaker
	// RoleModerator holds a current moderator grant: it may mark answered,
	// pin, hide and mute.
	RoleModerator
	// RoleHost is the room's host (the descriptor's Host), with every power.
	RoleHost
)

// String returns the role's name, such as "listener".
func (r Role) String() string {
	switch r {
	case RoleListener:
		return "listener"
	case RoleSpeaker:
		return "speaker"
	case RoleModerator:
		return "moderator"
	case RoleHost:
		return "host"
	}
	return "roomstate.Role(" + strconv.Itoa(int(r)) + ")"
}

// Role returns p's role at now: RoleHost for the host, else the highest role
// of p's grants that hold at now, else RoleListener. A grant holds from
// MaxClockSkew before its IssuedAt (as room.RoleGrant.Verify allows) until
// its ExpiresAt.
func (s *State) Role(p keys.PublicKey, now time.Time) Role {
	if p == s.desc.Host {
		return RoleHost
	}
	best := RoleListener
	for _, g := range s.grants[p] {
		if !grantHolds(g, now) {
			continue
		}
		switch {
		case g.Role == room.RoleModerator:
			return RoleModerator
		case g.Role == room.RoleSpeaker:
			best = RoleSpeaker
		}
	}
	return best
}

// Muted reports whether p is muted at a time: whether a counting mute of p
// (see Apply) was sent at or before at and lasts beyond it. The host is never
// muted.
func (s *State) Muted(p keys.PublicKey, at time.Time) bool {
	if p == s.desc.Host {
		return false
	}
	for _, m := range s.mutes[p] {
		if !at.Before(m.at) && at.Before(m.until) && s.counts(m.action) {
			return true
		}
	}
	return false
}

// counts reports whether a moderation action counts: sent by the host, or by
// a moderator at the action's timestamp.
func (s *State) counts(a action) bool { return s.moderatorAt(a.sender, a.at) }

// moderatorAt reports whether p is the host or holds a moderator grant at t.
func (s *State) moderatorAt(p keys.PublicKey, t time.Time) bool {
	return s.Role(p, t) >= RoleModerator
}

// grantHolds reports whether g holds at t, with room.RoleGrant.Verify's
// allowance for clock skew at the start.
func grantHolds(g room.RoleGrant, t time.Time) bool {
	return !g.IssuedAt.After(t.Add(room.MaxClockSkew)) && t.Before(g.ExpiresAt)
}
