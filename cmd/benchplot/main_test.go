package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/bench"
)

func sampleReport() *bench.Report {
	return &bench.Report{Mode: "quick", Machine: bench.Machine{CPU: "test CPU", Cores: 2}, Scenarios: []bench.ScenarioResult{
		{Name: "dm", Status: bench.StatusOK},
		{Name: "rooms", Status: bench.StatusOK, Rooms: []bench.RoomPoint{
			{Nodes: 10, P50: 4, P99: 8, RawP50: 0.8, RawP99: 1.6, SignedRawP50: 1},
			{Nodes: 30, P50: 9, P99: 19, RawP50: 1.7, RawP99: 5, SignedRawP50: 2.1},
		}},
	}}
}

func writeReport(t *testing.T, rep *bench.Report) string {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWritePlot(t *testing.T) {
	var b bytes.Buffer
	if err := writePlot(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 400 {
		t.Fatalf("plot %v wide", img.Bounds().Dx())
	}
	if err := writePlot(&b, &bench.Report{}); err != errNoRooms {
		t.Fatalf("a report without rooms: %v, want errNoRooms", err)
	}
}

// TestRun draws the plot of a report file, beside it by default.
func TestRun(t *testing.T) {
	report := writeReport(t, sampleReport())
	var stdout, stderr bytes.Buffer
	if code := run([]string{report}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := filepath.Join(filepath.Dir(report), "rooms-latency.png")
	if got := strings.TrimSpace(stdout.String()); got != "written: "+want {
		t.Errorf("stdout %q, want written: %s", got, want)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Error("rooms-latency.png is not a PNG")
	}

	other := filepath.Join(t.TempDir(), "other.png")
	if code := run([]string{"-o", other, report}, &stdout, &stderr); code != 0 {
		t.Fatalf("-o: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal(err)
	}
}

func TestRunErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
	stderr.Reset()
	noRooms := writeReport(t, &bench.Report{Mode: "quick"})
	if code := run([]string{noRooms}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no room figures") {
		t.Errorf("no rooms: exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(noRooms), "rooms-latency.png")); !os.IsNotExist(err) {
		t.Errorf("a failed plot left a file: %v", err)
	}
	stderr.Reset()
	if code := run([]string{filepath.Join(t.TempDir(), "none.json")}, &stdout, &stderr); code != 1 {
		t.Errorf("missing report: exit %d, want 1", code)
	}
}
