package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"
)

// openBrowser opens url in the desktop's browser. Tests replace it.
var openBrowser = func(ctx context.Context, url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return err
	}
	return exec.CommandContext(ctx, path, url).Run()
}

func (a *app) uiCmd() *cobra.Command {
	var open bool
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Print a one-time login link to the daemon's web UI",
		Long: "Ask the running daemon for a login link to its web UI and print it. The link works\n" +
			"once, within two minutes, and gives the browser that opens it a session until the\n" +
			"daemon stops. --open also opens it in your browser (xdg-open, or open on macOS).\n" +
			"--json prints the body of POST /v1/login-links: {\"url\", \"expires\"}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			link, err := c.LoginLink(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				if err := a.printJSON(link); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(a.stdout, link.URL)
			}
			if open {
				if err := openBrowser(cmd.Context(), link.URL); err != nil {
					fmt.Fprintf(a.stderr, "could not open a browser (%v): open the link yourself\n", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&open, "open", false, "open the link in your browser too")
	return cmd
}
