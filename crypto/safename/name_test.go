package safename

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"alice", true},
		{"Zoë 🙂 من", true},
		{"👨\u200d👩\u200d👧", true}, // joiners are not controls
		{"a b", true},
		{"a\x1b[2Jb", false},
		{"a\nb", false},
		{"a\tb", false},
		{"a\x7f", false},
		{"a\u0085", false}, // C1
		{"a\u009b2J", false},
		{"gnp\u202e.exe", false},
		{"\u2066x\u2069", false},
		{"\u200e", false},
		{"\u200f", false},
		{"\u061c", false},
		{"a\xffb", false},
	} {
		err := Check(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v, does not wrap ErrInvalid", tc.in, err)
		}
	}
}
