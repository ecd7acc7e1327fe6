package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/nodeapi"
	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
	"github.com/backchannel/backchannel/web"
)

// nodeStarted, when not nil, is called with each daemon's node once it has
// started and before the API serves. Tests set it (before any daemon runs)
// to reach the node's connection gater.
var nodeStarted func(home string, n *node.Node)

func (a *app) initCmd() *cobra.Command {
	var (
		encrypt bool
		keys    keyFlags
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the home folder, the node's identity and settings; print the peer ID",
		Long: "Create the home folder, the node's identity and HOME/config.json with the listen\n" +
			"addresses (a port chosen now, kept from then on), and print the peer ID.\n" +
			"The daemon's first start does the same, with a store in clear.\n" +
			"With --encrypt the store is encrypted at rest under a key derived from a passphrase\n" +
			"(asked twice on a terminal, or read from --passphrase-fd or $" + envPassphrase + "),\n" +
			"or with --key-file under a key file (made if missing); the daemon then asks for it\n" +
			"at every start. Encryption is chosen here, once, for a new home.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keys.parsed(cmd); err != nil {
				return err
			}
			privateFiles()
			if err := os.MkdirAll(a.home, 0o700); err != nil {
				return err
			}
			if a.storeInUse() { // before asking for a passphrase
				return errDaemonRuns
			}
			key, from, err := a.storeKey(keys, encrypt || keys.keyFile != "")
			if err != nil {
				return err
			}
			conf, err := loadHomeConfig(a.home)
			if err != nil {
				return err
			}
			n, err := node.New(node.Config{Home: a.home, ListenAddrs: conf.Listen, StoreKey: key, Logger: slog.New(slog.DiscardHandler)})
			if errors.Is(err, storage.ErrLocked) { // a daemon started meanwhile
				return errDaemonRuns
			}
			if err != nil {
				return a.explainWrongKey(err, from)
			}
			if err := n.Start(cmd.Context()); err != nil {
				n.Close()
				return err
			}
			self := n.Self()
			if err := n.Close(); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"peer_id": self.PeerID.String(), "home": a.home})
			}
			fmt.Fprintln(a.stdout, self.PeerID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&encrypt, "encrypt", false, "encrypt the new store at rest (a passphrase, or --key-file)")
	keys.addFlags(cmd)
	return cmd
}

// daemonFlags are the flags of `backchannel daemon`.
type daemonFlags struct {
	listen, bootstrap                           []string
	allowNets, publicNets                       []string
	apiAddr                                     string
	natPortMap, relayClient, holePunching, mdns bool
	helper                                      bool
	depositAfter                                time.Duration
	failAfter                                   time.Duration
	stampDifficulty                             uint8
	logLevel                                    string
	keys                                        keyFlags
}

func (a *app) daemonCmd() *cobra.Command {
	var f daemonFlags
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node and its local API until SIGINT or SIGTERM",
		Long: "Run the node and its local API. The API listens on loopback only; the daemon writes\n" +
			"its address to HOME/api.json and keeps the bearer token in HOME/api.token.\n" +
			"It logs a one-time login link to its web UI; `backchannel ui` prints another.\n" +
			"By default the node listens on loopback only and contacts no one: pass --listen\n" +
			"and --bootstrap to reach other machines.\n" +
			"A store made with `init --encrypt` needs its passphrase (asked on a terminal, or read\n" +
			"from --passphrase-fd or $" + envPassphrase + ") or its key file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.keys.parsed(cmd); err != nil {
				return err
			}
			return a.runDaemon(cmd.Context(), f, nil)
		},
	}
	f.keys.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.listen, "listen", nil, "multiaddr to listen on, repeatable (default: HOME/config.json's, loopback TCP and QUIC on a port chosen at the first start)")
	fl.StringVar(&f.apiAddr, "api", api.DefaultAddr, "loopback HOST:PORT of the local API; port 0 picks a free port")
	fl.StringArrayVar(&f.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr ending in /p2p/PEER-ID, repeatable")
	fl.BoolVar(&f.natPortMap, "nat-portmap", false, "ask the router for a port mapping (UPnP / NAT-PMP)")
	fl.BoolVar(&f.relayClient, "relay-client", false, "use circuit relays when not reachable directly")
	fl.BoolVar(&f.holePunching, "hole-punching", false, "try hole punching through NATs")
	fl.BoolVar(&f.mdns, "mdns", false, "find peers on the local network with mDNS")
	fl.BoolVar(&f.helper, "helper", false, "run as an always-on helper for a community (DHT server and relay service), holding mail for the identities that appoint it as their mailbox")
	fl.DurationVar(&f.failAfter, "fail-after", node.DefaultFailAfter,
		"how long to keep trying to deliver a 1:1 message before giving up on it (it then shows failed)")
	fl.DurationVar(&f.depositAfter, "deposit-after", node.DefaultDepositAfter,
		"how long to try delivering a 1:1 message directly before depositing it in the recipient's mailbox, if it has one (0: at the first failure)")
	fl.StringArrayVar(&f.allowNets, "allow-net", nil, "CIDR the node may connect with besides loopback, repeatable; refuses every other address (default: no limit when listening beyond loopback)")
	fl.StringArrayVar(&f.publicNets, "public-net", nil, "CIDR to treat as the public internet, repeatable: for test labs whose \"internet\" is a private range")
	_ = fl.MarkHidden("public-net")
	fl.Uint8Var(&f.stampDifficulty, "stamp-difficulty", node.DefaultStampDifficulty,
		fmt.Sprintf("proof-of-work bits asked of strangers' messages until you reply, 0 (none) to %d; each bit doubles a sender's work: 11 is about 0.7 s of CPU per message, 0.4 ms to check", stamp.MaxDifficulty))
	_ = fl.SetAnnotation("stamp-difficulty", wantAnnotation, []string{fmt.Sprintf("0 to %d", stamp.MaxDifficulty)})
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// startLoginTTL is how long the web UI's login link that the daemon logs at
// start (and the demo prints) stays good: longer than a link asked for with
// `backchannel ui`, since one often starts the daemon before a browser.
const startLoginTTL = 10 * time.Minute

// runDaemon runs the node and the API until ctx ends or a signal comes.
// started, when not nil, is called once both serve (the demo uses it) with
// a one-time login link to the web UI; an error from it stops the daemon.
func (a *app) runDaemon(ctx context.Context, f daemonFlags, started func(ctx context.Context, n *node.Node, loginURL string) error) error {
	if err := f.check(); err != nil {
		return err
	}
	level, err := parseLogLevel(f.logLevel)
	if err != nil {
		return err
	}
	if c, err := a.client(); err == nil && c.Health(ctx) == nil {
		return fmt.Errorf("a daemon is already running for home %s", a.home)
	}
	if pid, ok := startingPID(a.home); ok {
		return alreadyStarting(a.home, pid)
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	privateFiles()
	if err := os.MkdirAll(a.home, 0o700); err != nil {
		return err
	}
	// Until the API serves, commands say that the daemon is starting.
	serving, err := markStarting(a.home)
	if err != nil {
		return err
	}
	defer serving()
	key, from, err := a.storeKey(f.keys, false)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopWithGoRun()

	listen := f.listen
	if len(listen) == 0 {
		conf, err := loadHomeConfig(a.home)
		if err != nil {
			return err
		}
		listen = conf.Listen
	}
	var gater *node.LoopbackGater
	if len(f.allowNets) > 0 {
		allow, err := parsePrefixes("--allow-net", f.allowNets)
		if err != nil {
			return err
		}
		gater = &node.LoopbackGater{Allow: allow}
	}
	public, err := parsePrefixes("--public-net", f.publicNets)
	if err != nil {
		return err
	}
	n, err := node.New(node.Config{
		Home:                a.home,
		ListenAddrs:         listen,
		Gater:               gater,
		PublicRanges:        public,
		Bootstrap:           f.bootstrap,
		EnableNATPortMap:    f.natPortMap,
		EnableRelayClient:   f.relayClient,
		EnableHolePunching:  f.holePunching,
		EnableMDNS:          f.mdns,
		Helper:              f.helper,
		MailboxDepositAfter: depositAfter(f.depositAfter),
		OutboxFailAfter:     f.failAfter,
		StampDifficulty:     f.stampDifficulty,
		StoreKey:            key,
		NoStamp:             f.stampDifficulty == 0,
		Logger:              log,
	})
	if err != nil {
		if isAddrInUse(err) && len(f.listen) == 0 {
			return fmt.Errorf("%w\nthe listen port in %s is taken by another program: change it there, or pass --listen", err, filepath.Join(a.home, homeConfigFile))
		}
		return a.explainWrongKey(err, from)
	}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return err
	}
	if nodeStarted != nil {
		nodeStarted(a.home, n)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := api.New(api.Config{Addr: f.apiAddr, Home: a.home, Backend: nodeapi.New(n), Logger: log, Registry: reg, UI: web.FS()})
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		return errors.Join(err, n.Close())
	}
	serving()
	self := n.Self()
	link, err := srv.LoginURL(startLoginTTL)
	if err != nil {
		return errors.Join(err, srv.Close(), n.Close())
	}
	log.Info("daemon running", "peer", self.PeerID, "api", srv.Addr(), "home", a.home)
	log.Info("web UI: open this one-time login link; `backchannel ui` prints another", "url", link.URL, "valid_for", startLoginTTL)
	if started != nil {
		if err := started(ctx, n, link.URL); err != nil {
			return errors.Join(err, srv.Close(), n.Close())
		}
	}

	<-ctx.Done()
	stop() // a second signal now kills the process the usual way
	log.Info("shutting down")
	return errors.Join(srv.Close(), n.Close())
}

// check refuses bad values of the daemon's flags before anything starts:
// before a passphrase is asked for, the store opened or (for the demo) its
// network started.
func (f daemonFlags) check() error {
	if _, err := parseLogLevel(f.logLevel); err != nil {
		return err
	}
	if err := checkAPIAddr(f.apiAddr); err != nil {
		return err
	}
	for _, s := range f.listen {
		if _, err := ma.NewMultiaddr(s); err != nil {
			if port := badPort(s); port != "" {
				return fmt.Errorf("--listen %q: port %s: want 0 to 65535", s, port)
			}
			return fmt.Errorf("--listen %q: want a multiaddr such as /ip4/0.0.0.0/tcp/4001", s)
		}
	}
	for _, s := range f.bootstrap {
		if _, err := peer.AddrInfoFromString(s); err != nil {
			return fmt.Errorf("--bootstrap %q: want a multiaddr ending in /p2p/PEER-ID, such as /ip4/198.18.0.1/tcp/4001/p2p/12D3KooW…", s)
		}
	}
	if _, err := parsePrefixes("--allow-net", f.allowNets); err != nil {
		return err
	}
	if _, err := parsePrefixes("--public-net", f.publicNets); err != nil {
		return err
	}
	// 0 would mean the node's default, and less gives up on every message
	// at once.
	if err := checkPositive("--fail-after", f.failAfter); err != nil {
		return err
	}
	if f.depositAfter < 0 {
		return fmt.Errorf("--deposit-after %s: want 0 (at the first failure) or more", f.depositAfter)
	}
	if f.depositAfter >= f.failAfter {
		return fmt.Errorf("--deposit-after %s: want less than --fail-after (%s): a message would fail before it is deposited", f.depositAfter, f.failAfter)
	}
	// Above stamp.MaxDifficulty, strangers cannot make a stamp, and
	// mailboxes refuse the appointment.
	if f.stampDifficulty > stamp.MaxDifficulty {
		return fmt.Errorf("--stamp-difficulty %d: want 0 to %d", f.stampDifficulty, stamp.MaxDifficulty)
	}
	return nil
}

// parseLogLevel reads --log-level.
func parseLogLevel(s string) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return level, nil
}

// depositAfter maps --deposit-after to node.Config.MailboxDepositAfter,
// where zero means the default: 0 on the command line (or less) deposits
// at the first failure.
func depositAfter(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// parsePrefixes reads CIDRs given to flag.
func parsePrefixes(flag string, ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s %q: want a CIDR such as 198.18.0.0/15", flag, s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// isAddrInUse reports whether err says a listen address is taken.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
