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
	return &bench.Report{Mode: "quick", Runs: 3, Machine: bench.Machine{CPU: "test CPU", Cores: 2}, Scenarios: []bench.ScenarioResult{
		{Name: "dm", Status: bench.StatusOK},
		{Name: "rooms", Status: bench.StatusOK, Sizes: []bench.SizePoint{
			point(10, [3]float64{3.5, 4, 5}, 8, [3]float64{0.9, 1, 1.2}, 3, [3]float64{0.7, 0.8, 0.9}, 1.6),
			point(30, [3]float64{8, 9, 11}, 19, [3]float64{2, 2.1, 2.5}, 6, [3]float64{0, 1.7, 2}, 5), // a run of 0 ms: the log axis copes
		}},
	}}
}

// point is a room size's medians: p50 as min, median, max, and p99, for
// ours, signed raw and raw.
func point(n int, ours [3]float64, oursP99 float64, signed [3]float64, signedP99 float64, raw [3]float64, rawP99 float64) bench.SizePoint {
	spread := func(v [3]float64) bench.Spread { return bench.Spread{Min: v[0], Median: v[1], Max: v[2]} }
	return bench.SizePoint{Nodes: n, Runs: 3,
		Ours:      bench.SideSummary{P50: spread(ours), P99: bench.Spread{Min: oursP99, Median: oursP99, Max: oursP99}},
		SignedRaw: bench.SideSummary{P50: spread(signed), P99: bench.Spread{Min: signedP99, Median: signedP99, Max: signedP99}},
		Raw:       bench.SideSummary{P50: spread(raw), P99: bench.Spread{Min: rawP99, Median: rawP99, Max: rawP99}},
	}
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
