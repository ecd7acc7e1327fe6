package netlab_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Probes are this test binary run again inside a lab namespace, as
// TestHelperProcess with probeRole set to one of probes' keys. They print
// what they see, one line each; servers first print "ready".
const (
	probeRole    = "NETLAB_PROBE"         // which probe
	probeAddr    = "NETLAB_PROBE_ADDR"    // where it listens, binds or dials
	probeTimeout = "NETLAB_PROBE_TIMEOUT" // how long it waits for an answer, if not 5s
)

// timeout is how long a probe waits for an answer.
func timeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(probeTimeout)); err == nil {
		return d
	}
	return 5 * time.Second
}

var probes = map[string]func(addr string, out io.Writer) error{
	// udp-echo answers every datagram with its payload and the sender's
	// address as it arrived here, and prints "from SENDER".
	"udp-echo": udpEcho,
	// tcp-echo writes each connection's remote address to it, prints
	// "from REMOTE" and closes it.
	"tcp-echo": tcpEcho,
	// udp-client binds one UDP socket to addr, then for each server
	// address on stdin sends it a datagram and prints "seen ADDR", where
	// ADDR is its own address as the server saw it.
	"udp-client": udpClient,
	// udp-dial sends one datagram to addr from a connected socket and
	// prints "seen ADDR" for an answer, "refused" for ICMP port
	// unreachable, "timeout" for nothing.
	"udp-dial": udpDial,
	// tcp-dial connects to addr and prints "seen ADDR", "refused" for a
	// reset, "timeout" for nothing.
	"tcp-dial": tcpDial,
}

// TestHelperProcess is not a test: it is where a probe runs.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(probeRole)
	if role == "" {
		return
	}
	probe, ok := probes[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown probe %q\n", role)
		os.Exit(2)
	}
	if err := probe(os.Getenv(probeAddr), os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func udpEcho(addr string, out io.Writer) error {
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "from", from)
		if _, err := pc.WriteTo(fmt.Appendf(nil, "%s %s", buf[:n], from), from); err != nil {
			return err
		}
	}
}

func tcpEcho(addr string, out io.Writer) error {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "from", c.RemoteAddr())
		fmt.Fprintln(c, c.RemoteAddr())
		c.Close()
	}
}

func udpClient(addr string, out io.Writer) error {
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	in := bufio.NewScanner(os.Stdin)
	buf := make([]byte, 1500)
	for nonce := 0; in.Scan(); nonce++ {
		server, err := net.ResolveUDPAddr("udp4", in.Text()) // an IP literal: no DNS
		if err != nil {
			return err
		}
		// The nonce tells this answer from a late one to an earlier ask.
		want := fmt.Sprintf("n%d ", nonce)
		if _, err := pc.WriteTo([]byte(strings.TrimSpace(want)), server); err != nil {
			return err
		}
		pc.SetReadDeadline(time.Now().Add(timeout()))
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				fmt.Fprintln(out, "error", err)
				break
			}
			if seen, ok := strings.CutPrefix(string(buf[:n]), want); ok {
				fmt.Fprintln(out, "seen", seen)
				break
			}
		}
	}
	return in.Err()
}

func udpDial(addr string, out io.Writer) error {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("probe")); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(timeout()))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		fmt.Fprintln(out, "refused")
	case errors.Is(err, os.ErrDeadlineExceeded):
		fmt.Fprintln(out, "timeout")
	case err != nil:
		return err
	default:
		_, seen, _ := strings.Cut(string(buf[:n]), " ")
		fmt.Fprintln(out, "seen", seen)
	}
	return nil
}

func tcpDial(addr string, out io.Writer) error {
	c, err := net.DialTimeout("tcp4", addr, timeout())
	if errors.Is(err, syscall.ECONNREFUSED) {
		fmt.Fprintln(out, "refused")
		return nil
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		fmt.Fprintln(out, "timeout")
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(timeout()))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "seen", strings.TrimSpace(line))
	return nil
}
