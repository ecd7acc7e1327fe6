package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/bench"
)

// benchDaemonEnv is added to the environment of the daemon the bench
// starts; tests set it so that their binary runs main.
var benchDaemonEnv []string

// maxBenchRuns bounds --runs: 5 runs of the full run take a quarter of an
// hour already.
const maxBenchRuns = 50

// benchFlags are the flags of `backchannel bench`.
type benchFlags struct {
	quick, smoke bool
	out          string
	only         []string
	runs         int
}

func (a *app) benchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure latency, throughput, scale and faults beside raw libp2p",
		Long: "Run the benchmark and resilience scenarios with nodes on loopback, each figure beside a raw\n" +
			"go-libp2p (or go-libp2p-pubsub) baseline measured in the same run. Prints a table, writes\n" +
			"OUT/report.json, and shows progress on stderr. It exits with status 1 if a scenario fails\n" +
			"or a fault scenario loses or duplicates a message (missed timing targets are reported, not\n" +
			"failed). The full run takes about 22 minutes on two cores.\n\n" +
			"Each room and group size runs --runs times (5 in the full run, 1 with --quick), ours, raw and\n" +
			"signed raw GossipSub in turn each time; the table shows the median with the smallest and\n" +
			"largest run. Latency is judged against signed raw only where signed raw left the machine\n" +
			"under half busy; the last run also searches each side's saturation point.\n\n" +
			"The plot of room latency against room size is drawn from the report by a separate command\n" +
			"(the daemon's binary does not link the plotting library): from the source tree,\n" +
			"  go run ./cmd/benchplot OUT/report.json     # writes OUT/rooms-latency.png\n\n" +
			"Scenarios: " + strings.Join(bench.Names(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Before the run, which takes minutes: the report is written
			// at its end.
			if err := checkNotEmpty(cmd, "--out", f.out, "a folder for report.json"); err != nil {
				return err
			}
			if err := checkRange("--runs", f.runs, 0, maxBenchRuns); err != nil {
				return err
			}
			for _, name := range f.only {
				if err := oneOf("--only", name, bench.Names()); err != nil {
					return err
				}
			}
			return a.runBench(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.quick, "quick", false, "small sizes: the whole run takes under a minute (CI)")
	fl.BoolVar(&f.smoke, "smoke", false, "smaller still, for the test that runs the suite under -race")
	_ = fl.MarkHidden("smoke")
	fl.StringVar(&f.out, "out", "bench-out", "folder for report.json")
	fl.StringSliceVar(&f.only, "only", nil, "run only these scenarios, comma-separated")
	fl.IntVar(&f.runs, "runs", 0, "runs of each room and group size (0: 5 for the full run, 1 with --quick)")
	return cmd
}

// runBench runs the suite and writes its table and report.
func (a *app) runBench(ctx context.Context, f benchFlags) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, bench.Options{
		Quick:    f.quick,
		Smoke:    f.smoke,
		Only:     f.only,
		Runs:     f.runs,
		Progress: bench.NewProgress(a.stderr),
		Daemon: func(home string) *exec.Cmd {
			cmd := exec.Command(exe, "--home", home, "daemon", "--api", "127.0.0.1:0", "--log-level", "warn")
			cmd.Env = append(os.Environ(), benchDaemonEnv...)
			return cmd
		},
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	reportPath := filepath.Join(f.out, "report.json")
	if err := writeJSONFile(reportPath, rep); err != nil {
		return err
	}
	if a.json {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		if err := rep.WriteTable(a.stdout); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "written: %s\n", reportPath)
		if s, ok := rep.Scenario("rooms"); ok && len(s.Sizes) > 0 {
			fmt.Fprintf(a.stdout, "plot: go run ./cmd/benchplot %s\n", reportPath)
		}
	}
	if p := rep.Problems(); len(p) > 0 {
		return fmt.Errorf("bench: %s", strings.Join(p, "; "))
	}
	return nil
}

func writeJSONFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := (&app{stdout: f}).jsonEncoder("  ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
