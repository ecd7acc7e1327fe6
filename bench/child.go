package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"

	"github.com/backchannel/backchannel/node"
)

// Environment of a child process: the role, and the recipient's home,
// listen address and the invite of the peer it accepts.
const (
	envChild  = "BACKCHANNEL_BENCH_CHILD"
	envHome   = "BACKCHANNEL_BENCH_HOME"
	envListen = "BACKCHANNEL_BENCH_LISTEN"
	envAccept = "BACKCHANNEL_BENCH_ACCEPT"
)

// Child roles.
const (
	roleRecipient = "recipient" // a node that accepts one contact
	roleRawHost   = "rawhost"   // a bare go-libp2p host, the idle baseline
)

// RunChild runs this process as a bench child if the environment asks for
// one, and then returns its exit status and true; otherwise it returns at
// once with false. Call it first thing in main (and in TestMain) of any
// program that calls Run:
//
//	if code, ok := bench.RunChild(); ok {
//		os.Exit(code)
//	}
func RunChild() (int, bool) {
	role := os.Getenv(envChild)
	if role == "" {
		return 0, false
	}
	var err error
	switch role {
	case roleRecipient:
		err = runRecipient()
	case roleRawHost:
		err = runRawHost()
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1, true
	}
	return 0, true
}

// runRecipient runs a node (fsync on) that accepts the peer of envAccept,
// prints "READY <invite>" and runs until SIGTERM (or SIGKILL, the point).
func runRecipient() error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	g := &node.LoopbackGater{}
	n, err := node.New(node.Config{Home: os.Getenv(envHome), ListenAddrs: []string{os.Getenv(envListen)}, Gater: g,
		NoStamp: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		return err
	}
	if _, err := n.AddContact(context.Background(), os.Getenv(envAccept), "sender"); err != nil {
		n.Close()
		return err
	}
	fmt.Printf("READY %s\n", n.Self().Invite)
	<-sig
	if err := n.Close(); err != nil {
		return err
	}
	if g.Refused() > 0 {
		return fmt.Errorf("%w: %d", ErrLeftLoopback, g.Refused())
	}
	return nil
}

// runRawHost runs a bare go-libp2p host listening as a daemon does by
// default (loopback TCP and QUIC) until SIGTERM.
func runRawHost() error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	g := &node.LoopbackGater{}
	h, err := libp2p.New(libp2p.ListenAddrStrings(node.DefaultListenAddrs...), libp2p.ConnectionGater(g), libp2p.DisableRelay())
	if err != nil {
		return err
	}
	fmt.Printf("READY %s\n", h.ID())
	<-sig
	if err := h.Close(); err != nil {
		return err
	}
	if g.Refused() > 0 {
		return fmt.Errorf("%w: %d", ErrLeftLoopback, g.Refused())
	}
	return nil
}

// childProc is a running child process.
type childProc struct {
	cmd    *exec.Cmd
	ready  string // what followed READY
	stderr *lockedBuffer
	exited chan error
}

// startChild starts this executable again as a child in role, with env
// added, and waits for its READY line.
func startChild(ctx context.Context, role string, env ...string) (*childProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), envChild+"="+role), env...)
	return startProc(ctx, cmd, "READY ")
}

// startProc starts cmd and, unless readyPrefix is empty, waits for a line
// of its stdout that starts with it.
func startProc(ctx context.Context, cmd *exec.Cmd, readyPrefix string) (*childProc, error) {
	p := &childProc{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChild, err)
	}
	ready := make(chan string, 1)
	go func() { // ends at the child's exit (EOF on its stdout)
		r := bufio.NewReader(out)
		sent := false
		for {
			line, err := r.ReadString('\n')
			if !sent && readyPrefix != "" && strings.HasPrefix(line, readyPrefix) {
				ready <- strings.TrimSpace(strings.TrimPrefix(line, readyPrefix))
				sent = true
			}
			if err != nil {
				break
			}
		}
		p.exited <- cmd.Wait()
	}()
	if readyPrefix == "" {
		return p, nil
	}
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	select {
	case p.ready = <-ready:
		return p, nil
	case err := <-p.exited:
		p.exited <- err
		return nil, fmt.Errorf("%w: exited before it was ready (%v): %s", ErrChild, err, p.stderr.String())
	case <-timeout.C:
		p.kill()
		return nil, fmt.Errorf("%w: not ready after a minute: %s", ErrChild, p.stderr.String())
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *childProc) kill() {
	_ = p.cmd.Process.Kill()
	err := <-p.exited
	p.exited <- err
}

// stop sends SIGTERM and waits up to a minute for a clean exit.
func (p *childProc) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		if err != nil {
			return fmt.Errorf("%w: exit after SIGTERM: %v: %s", ErrChild, err, p.stderr.String())
		}
		return nil
	case <-time.After(time.Minute):
		p.kill()
		return fmt.Errorf("%w: did not stop within a minute of SIGTERM", ErrChild)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

var _ io.Writer = (*lockedBuffer)(nil)

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
