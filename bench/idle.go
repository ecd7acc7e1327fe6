package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/backchannel/backchannel/api/client"
)

// runIdle starts a real daemon (Options.Daemon) in a fresh home as a process
// of its own, waits until its API answers, lets it idle and reads its
// resident memory. Beside it, a bare go-libp2p host process listening on
// the same transports.
func runIdle(ctx context.Context, e *env) (res ScenarioResult, err error) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		res.Status, res.Note = StatusSkipped, "no /proc on this system"
		return res, nil
	}
	if e.opts.Daemon == nil {
		res.Status, res.Note = StatusSkipped, "no daemon command given (Options.Daemon)"
		return res, nil
	}
	home := filepath.Join(e.dir, "daemon")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return res, err
	}
	e.step("starting a daemon, idling %v", e.idle)
	d, err := startProc(ctx, e.opts.Daemon(home), "")
	if err != nil {
		return res, err
	}
	defer d.kill() // a no-op once it has stopped
	if err := waitFor(ctx, "the daemon's API", time.Minute, 20*time.Millisecond, func() (bool, error) {
		select {
		case err := <-d.exited:
			d.exited <- err
			return false, fmt.Errorf("%w: the daemon exited (%v): %s", ErrChild, err, d.stderr.String())
		default:
		}
		return healthy(ctx, home), nil
	}); err != nil {
		return res, err
	}
	if err := sleep(ctx, e.idle); err != nil {
		return res, err
	}
	rss, err := vmRSS(d.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	if err := d.stop(); err != nil {
		return res, err
	}

	e.step("raw: a bare libp2p host process, idling %v", e.idle)
	h, err := startChild(ctx, roleRawHost)
	if err != nil {
		return res, err
	}
	defer h.kill()
	if err := sleep(ctx, e.idle); err != nil {
		return res, err
	}
	rawRSS, err := vmRSS(h.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	if err := h.stop(); err != nil {
		return res, err
	}
	res.Figures = []Figure{
		figVs("idle daemon RSS", "MB", rss/1e6, rawRSS/1e6, "bare go-libp2p host process (TCP + QUIC on loopback)", atMost(60)),
	}
	res.Note = fmt.Sprintf("VmRSS after %v idle in a fresh home; MB = 10^6 bytes", e.idle)
	if raceEnabled {
		res.Note += "; built with -race, which multiplies memory"
	}
	return res, nil
}

// healthy reports whether home's daemon answers GET /v1/health.
func healthy(ctx context.Context, home string) bool {
	c, err := client.FromHome(home)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return c.Health(ctx) == nil
}

// vmRSS reads the resident set size of process pid, in bytes.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:") // VmRSS:	   41236 kB
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status: VmRSS %q: %w", pid, rest, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}
