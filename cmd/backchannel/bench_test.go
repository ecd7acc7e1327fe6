package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/bench"
)

// TestBenchQuick runs `backchannel bench --quick` in-process, at its
// smallest sizes (--smoke: CI runs it under -race), children and daemon
// included. It fails if a scenario fails or a fault scenario loses or
// duplicates a message, never on a timing: targets are for the full run.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every bench scenario")
	}
	benchDaemonEnv = []string{envRunMain + "=1"} // the test binary runs main
	t.Cleanup(func() { benchDaemonEnv = nil })
	out := t.TempDir()
	var stdout, stderr syncBuffer
	code := run(t.Context(), []string{"bench", "--quick", "--smoke", "--out", out}, &stdout, &stderr)
	t.Logf("progress:\n%s", stderr.String())
	if code != 0 {
		t.Fatalf("bench exited %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("table:\n%s", stdout.String())

	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Mode != "smoke" {
		t.Errorf("mode %q, want smoke", rep.Mode)
	}
	if p := rep.Problems(); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	want := map[string]string{ // scenario -> status
		"dm": bench.StatusOK, "rooms": bench.StatusOK, "late-joiner": bench.StatusOK, "store": bench.StatusOK,
		"idle-memory": bench.StatusOK, "groups": bench.StatusOK, "kill-recipient": bench.StatusOK,
		"room-cutoff": bench.StatusOK, "flood": bench.StatusOK, "group-away": bench.StatusOK,
		"reconnect": bench.StatusOK, "mailbox": bench.StatusOK, "audience": bench.StatusOK,
	}
	if len(rep.Scenarios) != len(want) {
		t.Errorf("%d scenarios, want %d", len(rep.Scenarios), len(want))
	}
	for _, s := range rep.Scenarios {
		if s.Status != want[s.Name] {
			t.Errorf("%s: status %q, want %q (%s)", s.Name, s.Status, want[s.Name], s.Error)
		}
		if s.Status == bench.StatusOK && len(s.Figures) == 0 {
			t.Errorf("%s: no figures", s.Name)
		}
		for _, f := range s.Figures {
			if f.Missing == "" && f.BaselineName != "" && f.Baseline == nil {
				t.Errorf("%s: %s names a baseline but has none", s.Name, f.Name)
			}
		}
	}
	for _, name := range []string{"kill-recipient", "room-cutoff", "flood", "reconnect", "mailbox"} {
		s, _ := rep.Scenario(name)
		if s.Faults == nil || s.Faults.Sent == 0 || s.Faults.Delivered != s.Faults.Sent {
			t.Errorf("%s: faults %+v, want every message delivered", name, s.Faults)
		}
	}
	// The audience scenario runs its room in both modes and checks the
	// counts (a wrong one is an error, caught above).
	if s, _ := rep.Scenario("audience"); len(s.Audience) != 2 {
		t.Errorf("audience: %d rooms, want 2 (one size, both modes)", len(s.Audience))
	}
	// The plot is cmd/benchplot's (the daemon does not link gonum/plot):
	// the report must hold what it draws, and the table names the command.
	if s, _ := rep.Scenario("rooms"); len(s.Sizes) == 0 {
		t.Error("rooms: no room points for cmd/benchplot")
	}
	if want := "plot: go run ./cmd/benchplot " + filepath.Join(out, "report.json"); !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q", want)
	}
}

// TestBenchRunsFlag: --runs is checked before the run starts.
func TestBenchRunsFlag(t *testing.T) {
	tests := []struct {
		runs, want string
	}{
		{"-1", "--runs -1: want 0 to 50"},
		{"51", "--runs 51: want 0 to 50"},
		{"x", `--runs "x": want a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.runs, func(t *testing.T) {
			var stdout, stderr syncBuffer
			code := run(t.Context(), []string{"bench", "--runs", tt.runs, "--out", t.TempDir()}, &stdout, &stderr)
			if want := "backchannel: " + tt.want + "\n"; code == 0 || stderr.String() != want || stdout.String() != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want stderr %q", code, stdout.String(), stderr.String(), want)
			}
		})
	}
}
