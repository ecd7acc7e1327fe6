package netlab

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// commandTimeout bounds each ip, nft or sysctl the lab runs: they return in
// milliseconds, unless the kernel or a lock hangs.
const commandTimeout = 30 * time.Second

// run runs a command to completion with stdin as its input and returns its
// output. Its error names the command and carries what it printed.
func run(stdin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ipIn runs ip's commands, one a line, inside namespace ns.
func ipIn(ns string, lines ...string) error {
	_, err := run(strings.Join(lines, "\n")+"\n", "ip", "-n", ns, "-batch", "-")
	return err
}

// sysctlIn sets kernel parameters ("key=value") inside namespace ns.
func sysctlIn(ns string, settings ...string) error {
	_, err := run("", "ip", append([]string{"netns", "exec", ns, "sysctl", "-q", "-w"}, settings...)...)
	return err
}

// nftIn loads an nftables ruleset inside namespace ns; with check, nft only
// asks the kernel whether it would accept it.
func nftIn(ns, ruleset string, check bool) error {
	args := []string{"netns", "exec", ns, "nft"}
	if check {
		args = append(args, "-c")
	}
	_, err := run(ruleset, "ip", append(args, "-f", "-")...)
	return err
}
