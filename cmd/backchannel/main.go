// Command backchannel runs a Backchannel node (`backchannel daemon`) and
// talks to it: the other commands are clients of the daemon's local API.
// Run `backchannel help` for the commands.
package main

import (
	"context"
	"os"

	"github.com/backchannel/backchannel/bench"
)

func main() {
	// `backchannel bench` runs some of its nodes as child processes: this
	// executable, started again.
	if code, ok := bench.RunChild(); ok {
		os.Exit(code)
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
