package bench

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Options configure a run.
type Options struct {
	// Quick runs small sizes, for CI: the whole run takes under a minute.
	Quick bool
	// Smoke runs smaller sizes still: for the test that runs the suite
	// under -race, where only correctness (nothing lost, nothing
	// duplicated, no error) is checked.
	Smoke bool
	// Only names the scenarios to run (Names lists them); all when empty.
	Only []string
	// Runs is how often each room and group size runs, ours, raw and
	// signed raw in turn each time; 0: DefaultRuns for the full run, 1 for
	// Quick and Smoke.
	Runs int
	// Dir is where the nodes' homes and stores go; a temporary folder,
	// removed afterwards, when empty.
	Dir string
	// Progress receives one line per scenario step; nil: quiet.
	Progress *Progress
	// Daemon returns the command that runs a real daemon with the given
	// home (`backchannel --home HOME daemon ...`), for the idle-memory
	// scenario; nil skips that scenario.
	Daemon func(home string) *exec.Cmd
	// Logger receives the nodes' logs; nil discards them.
	Logger *slog.Logger
}

// sizes are a run's workload sizes.
type sizes struct {
	mode           string
	dmLatency      int           // 1:1 messages timed one at a time
	dmRaw          int           // raw new-stream round trips
	dmThroughput   int           // 1:1 messages in the throughput burst
	roomSizes      []int         // nodes per room
	roomLines      int           // lines the speaker sends per room size and run
	meshSettle     time.Duration // how long a compared room's or group's mesh is let form, ours and raw alike
	sat            satSearch     // the saturation search (maxSteps < 2: none)
	lateHistory    int           // lines in the room before the late joiner joins
	lateWant       int           // the newest lines it must receive
	storeMessages  int           // messages in the store
	idle           time.Duration
	killBurst      int           // 1:1 messages in the burst whose recipient is killed
	cutoffLines    int           // lines sent while a listener is cut off and back
	groupSize      int           // members of the group, its owner included
	groupLines     int           // lines the owner sends to the group per run
	awayLines      int           // group lines sent around a member away
	groupSettle    time.Duration // how long a new group's mesh is let form
	floodHonest    int           // honest messages sent during the flood
	floodStranger  int           // the stranger's valid requests
	floodFor       time.Duration // how long the honest messages are spread over
	reconnectNodes int           // nodes that restart at once
	reconnectMsgs  int           // messages each node queues per contact while all are down
	mailboxMsgs    int           // messages deposited while the recipient is away, per run
	mailboxRuns    int           // away-and-back cycles of the mailbox scenario
	audienceSizes  []int         // nodes per audience room
	// audienceBallotsOnly is the audience room size from which a room runs
	// in ballots mode only (0: every size in both modes).
	audienceBallotsOnly int
	audienceWindow      time.Duration // an audience room's measured window
	settle              time.Duration
	deliveryTimeout     time.Duration
}

func sizesFor(o Options) sizes {
	switch {
	case o.Smoke:
		return sizes{mode: "smoke", dmLatency: 30, dmRaw: 30, dmThroughput: 200, roomSizes: []int{4}, roomLines: 20, meshSettle: time.Second,
			lateHistory: 150, lateWant: 100, storeMessages: 2000, idle: time.Second, killBurst: 200,
			cutoffLines: 30, groupSize: 4, groupLines: 20, awayLines: 30, groupSettle: 500 * time.Millisecond, floodHonest: 30, floodStranger: 100, floodFor: time.Second, reconnectNodes: 4, reconnectMsgs: 2, mailboxMsgs: 50, mailboxRuns: 1, audienceSizes: []int{4}, audienceWindow: time.Second, settle: 2 * time.Second, deliveryTimeout: 2 * time.Minute}
	case o.Quick:
		return sizes{mode: "quick", dmLatency: 300, dmRaw: 300, dmThroughput: 3000, roomSizes: []int{10}, roomLines: 100, meshSettle: 2 * time.Second,
			sat:         satSearch{window: 500 * time.Millisecond, maxSteps: 2, quiet: 2 * time.Second},
			lateHistory: 1200, lateWant: 1000, storeMessages: 20_000, idle: 2 * time.Second, killBurst: 1000,
			cutoffLines: 150, groupSize: 10, groupLines: 100, awayLines: 150, groupSettle: 3 * time.Second, floodHonest: 300, floodStranger: 1000, floodFor: 3 * time.Second, reconnectNodes: 4, reconnectMsgs: 3, mailboxMsgs: 300, mailboxRuns: 1, audienceSizes: []int{10, 30}, audienceWindow: 10 * time.Second, settle: 3 * time.Second, deliveryTimeout: time.Minute}
	}
	return sizes{mode: "full", dmLatency: 2000, dmRaw: 1000, dmThroughput: 20_000, roomSizes: []int{10, 30, 60, 100}, roomLines: 100, meshSettle: 2 * time.Second,
		sat:         satSearch{window: 1500 * time.Millisecond, maxSteps: 5, quiet: 5 * time.Second},
		lateHistory: 1200, lateWant: 1000, storeMessages: 1_000_000, idle: 3 * time.Second, killBurst: 5000,
		cutoffLines: 600, groupSize: 30, groupLines: 100, awayLines: 600, groupSettle: 3 * time.Second, floodHonest: 2000, floodStranger: 5000, floodFor: 10 * time.Second, reconnectNodes: 10, reconnectMsgs: 5, mailboxMsgs: 1000, mailboxRuns: 5,
		audienceSizes: []int{10, 30, 100}, audienceWindow: time.Minute, settle: 3 * time.Second, deliveryTimeout: 3 * time.Minute}
}

// scenario is one entry of the suite.
type scenario struct {
	name, title string
	run         func(ctx context.Context, e *env) (ScenarioResult, error)
}

// suite is every scenario, in the order a run takes them.
var suite = []scenario{
	{"dm", "1:1 latency and throughput, persisted and acked", runDM},
	{"rooms", "live rooms of 10 to 100 nodes", runRooms},
	{"late-joiner", "late joiner receives the newest 1,000 messages", runLateJoiner},
	{"store", "store of 1,000,000 messages", runStore},
	{"idle-memory", "idle daemon memory", runIdle},
	{"groups", "groups of 30 members and re-key after a removal", runGroups},
	{"kill-recipient", "fault: recipient killed (SIGKILL) mid-burst", runKillRecipient},
	{"room-cutoff", "fault: room listener cut off and back", runRoomCutoff},
	{"flood", "fault: node flooded by a stranger", runFlood},
	{"group-away", "fault: group member away for a while", runGroupAway},
	{"reconnect", "fault: every node restarts at once and drains its outbox", runReconnect},
	{"mailbox", "1,000 messages deposited while the recipient is away, drained at its start", runMailbox},
	{"audience", "a room's audience traffic per listener as the room grows, votes on the topic and as ballots", runAudience},
}

// Names lists the scenarios a run can take, in order.
func Names() []string {
	out := make([]string, len(suite))
	for i, s := range suite {
		out[i] = s.name
	}
	return out
}

// DefaultRuns is how often the full run runs each room and group size.
const DefaultRuns = 5

// env is what a scenario gets: the sizes, a folder of its own, the options.
type env struct {
	sizes
	runs     int // rounds of each room and group size
	opts     Options
	dir      string
	progress *Progress
	scenario string
	log      *slog.Logger
	homes    atomic.Int64 // node homes made so far in the scenario (cluster.nodeConfig)
}

// quickMode reports whether the run is --quick (or smaller).
func (e *env) quickMode() bool { return e.mode != "full" }

// runsNote says how the room and group figures were made, for the notes.
func (e *env) runsNote() string {
	if e.runs == 1 {
		return "one run of ours, raw and signed raw (--runs 1): the figures are that run's"
	}
	return fmt.Sprintf("%d runs, each ours, then raw, then signed raw on nodes started afresh (interleaved, so that drift on the machine hits the three alike); "+
		"each figure is the median of the runs, with the smallest and largest run beside it", e.runs)
}

// step reports a step of the scenario on the progress display.
func (e *env) step(format string, args ...any) {
	e.progress.Step(e.scenario, fmt.Sprintf(format, args...))
}

// Run runs the chosen scenarios one after another and returns the report.
// A scenario that fails is reported with its error and the run goes on; the
// error returned is for what stops the whole run (bad options, ctx).
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Runs < 0 {
		return nil, fmt.Errorf("%w: %d runs", ErrBadRuns, o.Runs)
	}
	for _, name := range o.Only {
		if !slices.Contains(Names(), name) {
			return nil, fmt.Errorf("%w: %q (scenarios: %s)", ErrUnknownScenario, name, strings.Join(Names(), ", "))
		}
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "backchannel-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sz := sizesFor(o)
	runs := o.Runs
	if runs == 0 {
		runs = DefaultRuns
		if sz.mode != "full" {
			runs = 1
		}
	}
	rep := &Report{Started: time.Now().UTC(), Mode: sz.mode, Runs: runs, Machine: machine()}
	for _, sc := range suite {
		if len(o.Only) > 0 && !slices.Contains(o.Only, sc.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		sdir := filepath.Join(dir, sc.name)
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			return rep, fmt.Errorf("bench: %w", err)
		}
		e := &env{sizes: sz, runs: runs, opts: o, dir: sdir, progress: o.Progress, scenario: sc.name, log: log}
		e.step("start: %s", sc.title)
		start := time.Now()
		res, err := sc.run(ctx, e)
		res.Name, res.Title, res.Seconds = sc.name, sc.title, time.Since(start).Seconds()
		switch {
		case err != nil:
			res.Status, res.Error = StatusError, err.Error()
			e.step("error after %.1f s: %v", res.Seconds, err)
		case res.Status == "":
			res.Status = StatusOK
			e.step("done in %.1f s", res.Seconds)
		default:
			e.step("%s", res.Status)
		}
		rep.Scenarios = append(rep.Scenarios, res)
		_ = os.RemoveAll(sdir) // stores can be large: free the disk as we go
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	rep.Machine.LoadEnd = loadAvg()
	return rep, nil
}

func machine() Machine {
	return Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		GoVersion: runtime.Version(), Race: raceEnabled, LoadStart: loadAvg()}
}

// loadAvg is the 1-minute load average from /proc/loadavg ("" without it).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// cpuModel is the CPU's model name (as lscpu prints it), from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
