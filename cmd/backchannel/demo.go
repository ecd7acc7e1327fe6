package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/demo"
	"github.com/backchannel/backchannel/node"
)

// demoStarted, when not nil, is called with the demo network once it has
// started. Tests set it to check the demo nodes' connection gaters.
var demoStarted func(*demo.Network)

func (a *app) demoCmd() *cobra.Command {
	f := daemonFlags{depositAfter: node.DefaultDepositAfter, failAfter: node.DefaultFailAfter}
	var pace time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run your node beside a small demo network on this machine; print a login link to the web UI",
		Long: "Run a daemon for your node together with a few demo nodes in the same process, all on\n" +
			"loopback: a room hosted by a demo node whose audience chats, asks and upvotes; two\n" +
			"contacts who write to you and answer; a stranger whose message lands in your requests.\n" +
			"Open the printed login link in a browser. Without --home the demo uses a fresh temporary\n" +
			"home, so your own identity and contacts are left alone; everything is removed on exit.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Before the demo network starts.
			if err := f.check(); err != nil {
				return err
			}
			if err := checkPositive("--pace", pace); err != nil {
				return err
			}
			if !cmd.Flags().Changed("home") {
				home, err := os.MkdirTemp("", "backchannel-demo-home-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(home)
				a.home = home
			}
			dir, err := os.MkdirTemp("", "backchannel-demo-nodes-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			level, err := parseLogLevel(f.logLevel)
			if err != nil {
				return err
			}
			net, err := demo.New(demo.Config{
				Dir:    dir,
				Pace:   pace,
				Logger: slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})),
			})
			if err != nil {
				return err
			}
			defer net.Close()
			fmt.Fprintln(a.stdout, "Starting the demo network on loopback…")
			if err := net.Start(cmd.Context()); err != nil {
				return err
			}
			if demoStarted != nil {
				demoStarted(net)
			}
			f.bootstrap = []string{net.BootstrapAddr()}
			return a.runDaemon(cmd.Context(), f, func(ctx context.Context, n *node.Node, loginURL string) error {
				if err := net.Welcome(ctx, n); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "Backchannel demo running (home %s).\n"+
					"Open %s in your browser. Ctrl-C stops it.\n"+
					"(The link logs one browser in, within %v; `backchannel --home %s ui` prints another.)\n",
					a.home, loginURL, startLoginTTL, a.home)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiAddr, "api", api.DefaultAddr, "loopback HOST:PORT of the local API and web UI; port 0 picks a free port")
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fl.DurationVar(&pace, "pace", 4*time.Second, "time between two scripted actions in the demo room")
	return cmd
}
