package netlab

import "testing"

func TestCreatorPID(t *testing.T) {
	for _, tc := range []struct {
		ns   string
		pid  int
		isOK bool
	}{
		{"bclab-1234-1-alice", 1234, true},
		{"bclab-1234-1-alice-router", 1234, true},
		{"bclab-1234-2-inet", 1234, true},
		{"bclab-x-1-alice", 0, false},
		{"bclab-1234", 0, false},
		{"bclab--1-alice", 0, false},
		{"bclab-0-1-alice", 0, false},
		{"other-1234-1-alice", 0, false},
		{"bclab1234-1-alice", 0, false},
	} {
		pid, ok := creatorPID(tc.ns)
		if ok != tc.isOK || (ok && pid != tc.pid) {
			t.Errorf("creatorPID(%q) = %d, %v; want %d, %v", tc.ns, pid, ok, tc.pid, tc.isOK)
		}
	}
}
