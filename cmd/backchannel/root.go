package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/client"
)

// app holds what every command shares: the global flags and the outputs.
type app struct {
	home   string
	json   bool
	stdout io.Writer
	stderr io.Writer
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "backchannel: "+a.explain(err))
		return 1
	}
	return 0
}

// rootCmd builds the command tree. cobra gives us flags, help and usage
// errors in the form users know from other Go tools.
func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "backchannel",
		Short:         "A peer-to-peer messenger",
		Long:          "Backchannel is a peer-to-peer messenger. `backchannel daemon` runs your node;\nthe other commands talk to it.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.home == "" {
				h, err := defaultHome()
				if err != nil {
					return err
				}
				a.home = h
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.home, "home", "", "node home folder (default $BACKCHANNEL_HOME, else $XDG_DATA_HOME/backchannel, else ~/.local/share/backchannel)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print JSON (the API's documented, stable form)")
	root.AddCommand(
		a.initCmd(), a.daemonCmd(), a.idCmd(), a.statusCmd(), a.profileCmd(),
		a.contactsCmd(), a.sendCmd(), a.inboxCmd(), a.readCmd(), a.requestsCmd(), a.eventsCmd(),
		a.roomCmd(), a.groupCmd(), a.mailboxCmd(), a.uiCmd(), a.demoCmd(), a.benchCmd(), a.passphraseCmd(),
	)
	return root
}

// defaultHome is $BACKCHANNEL_HOME, else $XDG_DATA_HOME/backchannel, else
// ~/.local/share/backchannel.
func defaultHome() (string, error) {
	if h := os.Getenv("BACKCHANNEL_HOME"); h != "" {
		return h, nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "backchannel"), nil
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder: set --home or $BACKCHANNEL_HOME: %w", err)
	}
	return filepath.Join(u, ".local", "share", "backchannel"), nil
}

// client connects to the daemon of a.home.
func (a *app) client() (*client.Client, error) {
	c, err := client.FromHome(a.home)
	if _, starting := startingPID(a.home); starting && errors.Is(err, client.ErrNoDaemon) {
		return nil, errDaemonStarting
	}
	return c, err
}

// explain turns an error into the line the user reads.
func (a *app) explain(err error) string {
	if errors.Is(err, client.ErrNoDaemon) {
		return fmt.Sprintf("no daemon running for home %s: start it with `backchannel daemon`", a.home)
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case api.CodeUnknownPeer:
			return ae.Message + " (add them with `backchannel contacts add`)"
		case api.CodeAmbiguous:
			return ae.Message + " (use the peer ID)"
		case api.CodeNotAllowed:
			if strings.Contains(ae.Message, "group") {
				return ae.Message
			}
			return ae.Message + " (only the room's host or a moderator can do that; grants only the host)"
		case api.CodeKeyPending:
			return ae.Message + " (the new key is on its way from whoever changed the group; try again shortly)"
		case api.CodeMuted:
			return ae.Message + " (you are muted in this room for now)"
		case api.CodeMailboxRefused:
			// The refusal may be in the mailbox's own words.
			if strings.Contains(ae.Message, "revoke one first") {
				return ae.Message
			}
			return terminalSafe(ae.Message) + " (a mailbox must be a helper, or a contact who ran `backchannel mailbox serve on`)"
		case api.CodeUnauthorized:
			return ae.Message + fmt.Sprintf(" (is %s the daemon's home?)", a.home)
		}
		return ae.Message
	}
	return err.Error()
}
