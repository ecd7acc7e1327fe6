package netlab_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/internal/netlab"
)

// probe is a running probe, seen from the test.
type probe struct {
	t      *testing.T
	name   string
	cancel context.CancelFunc
	stdin  io.WriteCloser
	lines  chan string   // what it prints; closed when its stdout closes
	done   chan struct{} // closed when it has ended, err then set
	err    error
	stderr *bytes.Buffer
}

// probeCommand is probe role on h with addr, not started yet.
func probeCommand(t *testing.T, ctx context.Context, h *netlab.Host, role, addr string) *exec.Cmd {
	t.Helper()
	return asProbe(h.Command(ctx, testBinary(t), "-test.run=^TestHelperProcess$"), role, addr)
}

// probeIn is probe role in namespace ns with addr, not started yet: for a
// namespace that is no lab's host.
func probeIn(t *testing.T, ctx context.Context, ns, role, addr string) *exec.Cmd {
	t.Helper()
	return asProbe(exec.CommandContext(ctx, "ip", "netns", "exec", ns, testBinary(t), "-test.run=^TestHelperProcess$"), role, addr)
}

func asProbe(cmd *exec.Cmd, role, addr string) *exec.Cmd {
	// Under -race, a probe would otherwise sleep a second before exiting
	// (the race detector's atexit_sleep_ms).
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), probeRole+"="+role, probeAddr+"="+addr, "GORACE="+gorace)
	return cmd
}

func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// startProbe starts server or client probe role on h with addr, waits for
// it to print "ready", and stops it at the end of the test.
func startProbe(t *testing.T, ctx context.Context, h *netlab.Host, role, addr string) *probe {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	return launch(t, ctx, cancel, probeCommand(t, ctx, h, role, addr), fmt.Sprintf("%s on %s (%s)", role, h.Name(), addr))
}

// launch starts cmd, a probe that cancel kills, and waits until ctx ends
// for its "ready".
func launch(t *testing.T, ctx context.Context, cancel context.CancelFunc, cmd *exec.Cmd, name string) *probe {
	t.Helper()
	p := &probe{t: t, name: name, cancel: cancel, stderr: new(bytes.Buffer),
		lines: make(chan string, 1024), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait() // after reading all: Wait closes stdout
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	if got := p.next(ctx); got != "ready" {
		t.Fatalf("%s: %q, want ready", p.name, got)
	}
	return p
}

// next returns the probe's next line, failing the test if there is none
// before ctx ends.
func (p *probe) next(ctx context.Context) string {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			<-p.done
			p.t.Fatalf("%s ended (%v): %s", p.name, p.err, p.stderr)
		}
		return line
	case <-ctx.Done():
		p.t.Fatalf("%s said nothing: %v", p.name, ctx.Err())
	}
	return ""
}

// ask writes line to the probe and returns its answer.
func (p *probe) ask(ctx context.Context, line string) string {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	return p.next(ctx)
}

// stop kills the probe and returns the lines it printed that nobody read.
func (p *probe) stop() []string {
	p.cancel()
	var rest []string
	for line := range p.lines {
		rest = append(rest, line)
	}
	<-p.done
	return rest
}

// runProbe runs a one-shot probe on h and returns the line it printed.
func runProbe(t *testing.T, ctx context.Context, h *netlab.Host, role, addr string) string {
	t.Helper()
	return runProbeCmd(t, probeCommand(t, ctx, h, role, addr))
}

// runProbeWaiting is runProbe with the probe waiting for an answer only
// for wait: for a probe that should get none.
func runProbeWaiting(t *testing.T, ctx context.Context, h *netlab.Host, role, addr string, wait time.Duration) string {
	t.Helper()
	cmd := probeCommand(t, ctx, h, role, addr)
	cmd.Env = append(cmd.Env, probeTimeout+"="+wait.String())
	return runProbeCmd(t, cmd)
}

func runProbeCmd(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}
