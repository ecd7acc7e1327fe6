package room

import "testing"

func TestKindNames(t *testing.T) {
	tests := []struct {
		k     Kind
		name  string
		valid bool
	}{
		{KindChat, "chat", true},
		{KindQuestion, "question", true},
		{KindUpvote, "upvote", true},
		{KindAnswered, "answered", true},
		{KindPin, "pin", true},
		{KindReaction, "reaction", true},
		{KindPresence, "presence", true},
		{KindRoleGrant, "role-grant", true},
		{KindHide, "hide", true},
		{KindMute, "mute", true},
		{0, "room.Kind(0)", false},
		{KindTally, "tally", true},
		{12, "room.Kind(12)", false},
		{255, "room.Kind(255)", false},
	}
	for _, tc := range tests {
		if got := tc.k.String(); got != tc.name {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tc.k), got, tc.name)
		}
		if got := tc.k.Valid(); got != tc.valid {
			t.Errorf("Kind(%d).Valid() = %v, want %v", uint8(tc.k), got, tc.valid)
		}
	}
}

func TestRoleNames(t *testing.T) {
	for r, name := range map[Role]string{RoleSpeaker: "speaker", RoleModerator: "moderator", 0: "room.Role(0)", 3: "room.Role(3)"} {
		if got := r.String(); got != name {
			t.Errorf("Role(%d).String() = %q, want %q", uint8(r), got, name)
		}
		if got, known := r.Valid(), r == RoleSpeaker || r == RoleModerator; got != known {
			t.Errorf("Role(%d).Valid() = %v, want %v", uint8(r), got, known)
		}
	}
}

// Wire enums are int32: a value that would wrap into range as a uint8 is
// still unknown.
func TestEnumsFromWireDoNotWrap(t *testing.T) {
	for _, v := range []int32{-1, 0, 12, 256, 257, 1 << 30, -255} {
		if k, ok := kindFromWire(v); ok {
			t.Errorf("kindFromWire(%d) = %s, want unknown", v, k)
		}
	}
	for _, v := range []int32{-1, 0, 3, 257, 258} {
		if r, ok := roleFromWire(v); ok {
			t.Errorf("roleFromWire(%d) = %s, want unknown", v, r)
		}
	}
	for k := KindChat; k <= maxKind; k++ {
		if got, ok := kindFromWire(int32(k)); !ok || got != k {
			t.Errorf("kindFromWire(%d) = %s, %v", k, got, ok)
		}
	}
}
