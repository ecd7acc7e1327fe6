package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/backchannel/backchannel/storage"
	"github.com/backchannel/backchannel/storage/storekey"
)

// storeKeyFile is HOME/storekey.json: how to get the key the store is
// encrypted with (the Argon2id salt and cost, or the key file's path); not
// secret. No such file: the store is in clear.
const storeKeyFile = "storekey.json"

// envPassphrase is the environment variable a service gives the passphrase in.
const envPassphrase = "BACKCHANNEL_PASSPHRASE"

// kdfCost is the Argon2id cost `init --encrypt` records; tests lower it.
var kdfCost = storekey.DefaultCost

// keyFlags say where the store's key comes from, for a command that opens
// the store (init, daemon).
type keyFlags struct {
	passphraseFD int
	hasFD        bool // --passphrase-fd given (0 is stdin, a valid fd)
	keyFile      string
}

func (k *keyFlags) addFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&k.passphraseFD, "passphrase-fd", 0, "read the store's passphrase from this open file descriptor, its first line (0: stdin)")
	cmd.Flags().StringVar(&k.keyFile, "key-file", "", "file of 32 random bytes (mode 0600) the store is encrypted with instead of a passphrase-derived key")
}

// parsed completes k once cobra has parsed cmd's flags, and checks them: a
// descriptor is 0 or more, a key file has a path (--key-file "" would
// otherwise mean no key file, and init would make a store in clear), and
// a store has a passphrase or a key file, not both.
func (k *keyFlags) parsed(cmd *cobra.Command) error {
	k.hasFD = cmd.Flags().Changed("passphrase-fd")
	if k.hasFD {
		if err := checkFD("--passphrase-fd", k.passphraseFD); err != nil {
			return err
		}
	}
	if err := checkNotEmpty(cmd, "--key-file", k.keyFile, "the key file's path"); err != nil {
		return err
	}
	if k.hasFD && k.keyFile != "" {
		return fmt.Errorf("--passphrase-fd and --key-file: choose one (a store is opened with a passphrase or with a key file)")
	}
	return nil
}

// storeKey is the key of the store in a.home, and what it came from, for
// error messages: nil and "" for a store in clear. With create (`init
// --encrypt`) and a home without a store, it chooses the key (a
// passphrase, asked twice on a terminal, or the key file, made if missing)
// and records how to get it again in HOME/storekey.json.
func (a *app) storeKey(k keyFlags, create bool) (key []byte, from string, err error) {
	path := filepath.Join(a.home, storeKeyFile)
	p, encrypted, err := storekey.Load(path)
	if err != nil {
		return nil, "", err
	}
	if !encrypted && !create {
		if k.hasFD || k.keyFile != "" {
			return nil, "", fmt.Errorf("the store in %s is not encrypted: --passphrase-fd and --key-file are for a store made with `backchannel init --encrypt`", a.home)
		}
		return nil, "", nil
	}
	if !encrypted {
		if has, err := hasStore(a.home); err != nil || has {
			if err == nil {
				err = fmt.Errorf("%s already holds a store in clear: encryption is chosen when the store is made; init --encrypt a new home (moving a store's data into an encrypted one is not built)", a.home)
			}
			return nil, "", err
		}
		if k.keyFile != "" {
			if err := storekey.NewKeyFile(k.keyFile); err == nil {
				fmt.Fprintf(a.stderr, "Made the key file %s: keep a copy; without it the store cannot be opened.\n", k.keyFile)
			} else if !errors.Is(err, os.ErrExist) {
				return nil, "", err
			}
			if p, err = storekey.NewKeyFileParams(k.keyFile); err != nil {
				return nil, "", err
			}
		} else {
			p = storekey.NewPassphraseParams(kdfCost)
		}
	}
	switch p.KDF {
	case storekey.KDFKeyFile:
		file := p.KeyFile
		if k.keyFile != "" {
			file = k.keyFile
		}
		key, err = storekey.ReadKeyFile(file)
		from = "the key file " + file
	default:
		var pass []byte
		if pass, err = a.passphrase(k, !encrypted); err == nil {
			key, err = p.Derive(pass)
		}
		from = "this passphrase"
	}
	if err != nil {
		return nil, "", err
	}
	if !encrypted {
		if err := storekey.Save(path, p); err != nil {
			return nil, "", err
		}
	}
	return key, from, nil
}

// hasStore reports whether home holds a store already.
func hasStore(home string) (bool, error) {
	entries, err := os.ReadDir(filepath.Join(home, "store"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return len(entries) > 0, err
}

// maxPassphrase bounds a passphrase read from a file descriptor.
const maxPassphrase = 4096

// passSource says where a passphrase comes from: the first line of an open
// file descriptor, else an environment variable, else the terminal.
type passSource struct {
	fd     int
	hasFD  bool
	flag   string // the fd's flag, for errors
	env    string
	prompt string
}

// current is where the store's passphrase comes from.
func (a *app) current(k keyFlags) passSource {
	return passSource{fd: k.passphraseFD, hasFD: k.hasFD, flag: "--passphrase-fd", env: envPassphrase,
		prompt: "Passphrase for the store in " + a.home + ": "}
}

// passphrase reads the store's passphrase (twice on a terminal when
// confirm, for a new one).
func (a *app) passphrase(k keyFlags, confirm bool) ([]byte, error) {
	return a.readPassphrase(a.current(k), confirm)
}

func (a *app) readPassphrase(src passSource, confirm bool) ([]byte, error) {
	if src.hasFD {
		f := os.NewFile(uintptr(src.fd), "passphrase")
		if f == nil {
			return nil, fmt.Errorf("%s %d: not a file descriptor", src.flag, src.fd)
		}
		defer f.Close()
		line, err := bufio.NewReader(io.LimitReader(f, maxPassphrase)).ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s %d: %w", src.flag, src.fd, err)
		}
		return nonEmpty(bytes.TrimRight(line, "\r\n"))
	}
	if v := os.Getenv(src.env); v != "" {
		return []byte(v), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, fmt.Errorf("no passphrase was given for the store in %s: run on a terminal, or pass %s N, or set $%s", a.home, src.flag, src.env)
	}
	fmt.Fprint(a.stderr, src.prompt)
	pass, err := term.ReadPassword(fd)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(a.stderr, "Again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(a.stderr)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pass, again) {
			return nil, errors.New("the two passphrases differ: nothing was changed")
		}
	}
	return nonEmpty(pass)
}

func nonEmpty(pass []byte) ([]byte, error) {
	if len(pass) == 0 {
		return nil, storekey.ErrEmptyPassphrase
	}
	return pass, nil
}

// explainWrongKey turns the store's refusal of its key into what to do.
func (a *app) explainWrongKey(err error, from string) error {
	if !errors.Is(err, storage.ErrWrongKey) {
		return err
	}
	store := filepath.Join(a.home, "store")
	if from == "" {
		return fmt.Errorf("the store in %s is encrypted but %s, which says how to get its key, is missing: restore it (%w)",
			store, filepath.Join(a.home, storeKeyFile), storage.ErrWrongKey)
	}
	return fmt.Errorf("%s does not open the store in %s (a typo?); nothing was changed: start again to retry (%w)", from, store, storage.ErrWrongKey)
}

// envNewPassphrase is the environment variable `passphrase` reads the new
// passphrase from when not on a terminal.
const envNewPassphrase = "BACKCHANNEL_NEW_PASSPHRASE"

func (a *app) passphraseCmd() *cobra.Command {
	var (
		keys  keyFlags
		newFD int
	)
	cmd := &cobra.Command{
		Use:   "passphrase",
		Short: "Change the passphrase of an encrypted store (stop the daemon first)",
		Long: "Change the passphrase of a store made with `init --encrypt`. The daemon must be stopped.\n" +
			"The current passphrase is asked on a terminal, or read from --passphrase-fd or $" + envPassphrase + ";\n" +
			"the new one is asked twice, or read from --new-passphrase-fd or $" + envNewPassphrase + ".\n" +
			"It re-encrypts the store's data keys, not the data: a copy of the store taken before,\n" +
			"with the old passphrase, still opens.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keys.parsed(cmd); err != nil {
				return err
			}
			hasNewFD := cmd.Flags().Changed("new-passphrase-fd")
			if hasNewFD {
				if err := checkFD("--new-passphrase-fd", newFD); err != nil {
					return err
				}
				// Each passphrase is read, and its descriptor closed, in turn.
				if keys.hasFD && newFD == keys.passphraseFD {
					return fmt.Errorf("--passphrase-fd and --new-passphrase-fd are both %d: want one descriptor for each passphrase", newFD)
				}
			}
			p, encrypted, err := storekey.Load(filepath.Join(a.home, storeKeyFile))
			if err != nil {
				return err
			}
			if !encrypted || p.KDF != storekey.KDFArgon2id {
				return fmt.Errorf("the store in %s has no passphrase (it is in clear, or its key is a key file)", a.home)
			}
			if c, err := a.client(); err == nil && c.Health(cmd.Context()) == nil {
				return fmt.Errorf("the daemon for home %s is running: stop it first", a.home)
			}
			old, from, err := a.storeKey(keys, false)
			if err != nil {
				return err
			}
			pass, err := a.readPassphrase(passSource{fd: newFD, hasFD: hasNewFD,
				flag: "--new-passphrase-fd", env: envNewPassphrase, prompt: "New passphrase: "}, true)
			if err != nil {
				return err
			}
			// The salt and cost stay: the key changes with the passphrase,
			// and HOME/storekey.json need not change with the store.
			key, err := p.Derive(pass)
			if err != nil {
				return err
			}
			err = storage.ChangeKey(filepath.Join(a.home, "store"), old, key)
			if errors.Is(err, storage.ErrLocked) {
				return fmt.Errorf("the store in %s is open in another process: stop the daemon first", a.home)
			}
			if err != nil {
				return a.explainWrongKey(err, from)
			}
			fmt.Fprintln(a.stdout, "Passphrase changed.")
			return nil
		},
	}
	cmd.Flags().IntVar(&keys.passphraseFD, "passphrase-fd", 0, "read the current passphrase from this open file descriptor, its first line (0: stdin)")
	cmd.Flags().IntVar(&newFD, "new-passphrase-fd", 0, "read the new passphrase from this open file descriptor, its first line")
	return cmd
}
