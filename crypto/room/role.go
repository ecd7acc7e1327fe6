package room

import "strconv"

// Role is a role the host grants in a room with a RoleGrant. The host has
// every power and needs no grant: it is the Host of the room's Descriptor.
type Role uint8

// Roles. The numbers are on the wire: never reuse one.
const (
	// RoleSpeaker may speak on stage.
	RoleSpeaker Role = 1 + iota
	// RoleModerator may mark answered, pin, hide and mute.
	RoleModerator

	maxRole = RoleModerator
)

// Valid reports whether r is a role this code knows.
func (r Role) Valid() bool { return r >= RoleSpeaker && r <= maxRole }

// String returns the role's name, such as "speaker", or "room.Role(n)" for an
// unknown role.
func (r Role) String() string {
	switch r {
	case RoleSpeaker:
		return "speaker"
	case RoleModerator:
		return "moderator"
	}
	return "room.Role(" + strconv.Itoa(int(r)) + ")"
}

// roleFromWire converts a wire role without wrapping around.
func roleFromWire(v int32) (Role, bool) {
	if v < int32(RoleSpeaker) || v > int32(maxRole) {
		return 0, false
	}
	return Role(v), true
}
