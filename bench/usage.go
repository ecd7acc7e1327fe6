package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// usageMark is a point in time for measuring a window's CPU: this process's
// CPU time (getrusage) and the machine's CPU counters (/proc/stat).
type usageMark struct {
	at   time.Time
	proc time.Duration
	// busy and total are /proc/stat's "cpu" line (all cores) in clock
	// ticks: total is every column but guest time (counted in user
	// already), busy is total less idle and iowait. ok is false where
	// /proc/stat cannot be read.
	busy, total uint64
	ok          bool
}

// markUsage reads the counters now.
func markUsage() usageMark {
	m := usageMark{at: time.Now(), proc: cpuTime()}
	if f, err := os.Open("/proc/stat"); err == nil {
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			m.busy, m.total, m.ok = parseProcStat(sc.Text())
		}
		f.Close()
	}
	return m
}

// parseProcStat reads /proc/stat's first line, "cpu  user nice system idle
// iowait irq softirq steal guest guest_nice": idle and iowait are the idle
// time (a core waiting on the disk is free to run something else); steal
// (the hypervisor running someone else) counts as busy.
func parseProcStat(line string) (busy, total uint64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	var idle uint64
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return total - idle, total, true
}

// usage is what a window cost.
type usage struct {
	wall time.Duration
	cpu  time.Duration // this process's CPU time (user and system)
	// busy is the machine's busy share over the window, 0 to 1, all cores
	// together: 1 - idle/total from /proc/stat; -1 where unknown.
	busy float64
	// own is this process's share of the machine over the window: its CPU
	// time over wall time times cores.
	own float64
}

// usageSince is the usage from m until now.
func usageSince(m usageMark) usage { return usageBetween(m, markUsage()) }

func usageBetween(a, b usageMark) usage {
	u := usage{wall: b.at.Sub(a.at), cpu: b.proc - a.proc, busy: -1}
	if a.ok && b.ok && b.total > a.total {
		u.busy = float64(b.busy-a.busy) / float64(b.total-a.total)
	}
	if u.wall > 0 {
		u.own = float64(u.cpu) / float64(u.wall) / float64(runtime.NumCPU())
	}
	return u
}
