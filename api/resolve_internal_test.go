package api

import (
	"errors"
	"testing"
)

func TestByPrefix(t *testing.T) {
	ids := []string{"a1b2c3d4e5", "a1b2c3ffff", "0f0f0f0f0f", "CAFEBABE00"}
	for _, tc := range []struct {
		ref  string
		want int
		err  error
	}{
		{"0f0f0f", 2, nil},
		{"0F0F0F0F", 2, nil}, // case folded
		{"cafeba", 3, nil},   // against an upper-case ID
		{"a1b2c3d", 0, nil},  // unique once long enough
		{"a1b2c3", -1, ErrAmbiguous},
		{"a1b2", -1, nil},         // too short: not a prefix at all
		{"ffffff", -1, nil},       // none
		{" 0f0f0f ", 2, nil},      // spaces around
		{"a1b2c3d4e5", 0, nil},    // the whole ID
		{"a1b2c3d4e5ff", -1, nil}, // longer than any
	} {
		got, err := byPrefix(tc.ref, ids, "things")
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("byPrefix(%q) = %d, %v; want %d, %v", tc.ref, got, err, tc.want, tc.err)
		}
	}
}
