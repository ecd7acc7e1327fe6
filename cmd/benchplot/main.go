// Command benchplot draws the plot of a `backchannel bench` report: live
// room latency against room size, ours beside signed raw and raw GossipSub
// (medians over the runs, with the smallest and largest run), as a PNG.
//
//	go run ./cmd/benchplot bench-out/report.json
//
// writes bench-out/rooms-latency.png (-o names another file). It is a
// command of its own so that the backchannel binary, the daemon, does not
// link gonum/plot and its fonts and PDF, SVG and LaTeX back ends.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/backchannel/backchannel/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and outputs, for the tests.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchplot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "the PNG to write (default: rooms-latency.png beside the report)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: benchplot [-o FILE.png] REPORT.json\n\n"+
			"Draws live room latency against room size from the report.json that\n"+
			"`backchannel bench` writes.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path, err := plotReport(fs.Arg(0), *out)
	if err != nil {
		fmt.Fprintln(stderr, "benchplot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "written: %s\n", path)
	return 0
}

// plotReport reads the report at reportPath and writes its plot to out, or
// to rooms-latency.png beside the report if out is empty.
func plotReport(reportPath, out string) (string, error) {
	b, err := os.ReadFile(reportPath)
	if err != nil {
		return "", err
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return "", fmt.Errorf("%s: %w", reportPath, err)
	}
	if out == "" {
		out = filepath.Join(filepath.Dir(reportPath), "rooms-latency.png")
	}
	var png bytes.Buffer // drawn first: a failed plot leaves no file behind
	if err := writePlot(&png, &rep); err != nil {
		return "", err
	}
	return out, os.WriteFile(out, png.Bytes(), 0o644)
}
