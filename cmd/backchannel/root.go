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
	"github.com/backchannel/backchannel/storage"
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
			if err := checkNotEmpty(cmd, "--home", a.home, "a folder (or leave --home out for the default)"); err != nil {
				return err
			}
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
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().StringVar(&a.home, "home", "", "node home folder (default $BACKCHANNEL_HOME, else $XDG_DATA_HOME/backchannel, else ~/.local/share/backchannel)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print JSON (the API's documented, stable form)")
	root.AddCommand(
		a.initCmd(), a.daemonCmd(), a.idCmd(), a.statusCmd(), a.profileCmd(),
		a.contactsCmd(), a.sendCmd(), a.inboxCmd(), a.readCmd(), a.requestsCmd(), a.eventsCmd(),
		a.roomCmd(), a.groupCmd(), a.mailboxCmd(), a.outboxCmd(), a.uiCmd(), a.demoCmd(), a.benchCmd(), a.passphraseCmd(),
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

// errDaemonRuns: a command that opens the store itself found it open.
var errDaemonRuns = errors.New("the daemon is running with this home: stop it first")

// storeInUse reports whether a process (a daemon, starting or running) has
// the home's store open.
func (a *app) storeInUse() bool { return storage.InUse(filepath.Join(a.home, "store")) }

// explain turns an error into the line the user reads.
func (a *app) explain(err error) string {
	if errors.Is(err, client.ErrNoDaemon) {
		if a.storeInUse() { // a daemon has the store but no API yet (one started before starting files)
			return errDaemonStarting.Error()
		}
		return fmt.Sprintf("no daemon running for home %s: start it with `backchannel daemon`", a.home)
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		// The message may quote what a peer named or said (a room, a
		// mailbox's refusal): sanitized like everything remote.
		msg := sanitize(ae.Message)
		switch ae.Code {
		case api.CodeUnknownPeer:
			return msg + " (add them with `backchannel contacts add`)"
		case api.CodeAmbiguous:
			return msg + " (use the peer ID)"
		case api.CodeNotAllowed:
			if strings.Contains(msg, "group") || strings.HasPrefix(msg, "only ") { // already says who can
				return msg
			}
			return msg + " (only the room's host or a moderator can do that; grants only the host)"
		case api.CodeKeyPending:
			return msg + " (the new key is on its way from whoever changed the group; try again shortly)"
		case api.CodeMuted:
			return msg + " (you are muted in this room for now)"
		case api.CodeMailboxRefused:
			// The refusal may be in the mailbox's own words.
			if strings.Contains(msg, "revoke one first") {
				return msg
			}
			return msg + " (a mailbox must be a helper, or a contact who ran `backchannel mailbox serve on`)"
		case api.CodeUnauthorized:
			return msg + fmt.Sprintf(" (is %s the daemon's home?)", a.home)
		}
		return msg
	}
	return err.Error()
}
