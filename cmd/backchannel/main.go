// Command backchannel runs a Backchannel node (`backchannel daemon`) and
// talks to it: the other commands are clients of the daemon's local API.
// Run `backchannel help` for the commands.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
