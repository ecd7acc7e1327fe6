package bench

import (
	"slices"
	"testing"
)

// Every contact is mutual and every node has one at least.
func TestReconnectContacts(t *testing.T) {
	for _, n := range []int{2, 3, 4, 10} {
		cs := reconnectContacts(n)
		for i, mine := range cs {
			if len(mine) == 0 {
				t.Errorf("n=%d: node %d has no contact", n, i)
			}
			for _, j := range mine {
				if j == i || !slices.Contains(cs[j], i) {
					t.Errorf("n=%d: %d -> %d is not mutual (%v)", n, i, j, cs)
				}
			}
		}
	}
	if cs := reconnectContacts(10); len(cs[0]) != 3 {
		t.Errorf("10 nodes: %d contacts each, want 3", len(cs[0]))
	}
}

func TestBenchReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts nodes")
	}
	var progress syncBuffer
	rep, err := Run(t.Context(), Options{Smoke: true, Only: []string{"reconnect"}, Progress: NewProgress(&progress)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", progress.String())
	s, ok := rep.Scenario("reconnect")
	if !ok || s.Status != StatusOK {
		t.Fatalf("reconnect: %+v", s)
	}
	if p := rep.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	sz := sizesFor(Options{Smoke: true})
	if want := sz.reconnectNodes * 3 * sz.reconnectMsgs; s.Faults == nil || s.Faults.Sent != want || s.Faults.Delivered != want {
		t.Fatalf("faults %+v, want %d sent and delivered", s.Faults, want)
	}
	for _, f := range s.Figures[:5] {
		if f.Missing != "" || f.Value <= 0 || f.Baseline == nil || *f.Baseline <= 0 {
			t.Errorf("figure %+v: want a time beside the raw floor", f)
		}
	}
}
