package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/backchannel/backchannel/node"
)

// cluster owns the nodes and raw hosts of one scenario: close stops them
// all and checks that no gater refused anything.
type cluster struct {
	e *env

	mu     sync.Mutex
	nodes  []*node.Node
	hosts  []host.Host
	gaters []*node.LoopbackGater
	cfgs   map[*node.Node]node.Config
}

func newCluster(e *env) *cluster { return &cluster{e: e, cfgs: map[*node.Node]node.Config{}} }

// nodeConfig is the configuration of a bench node: loopback TCP only,
// behind a loopback gater, in a fresh home under the scenario's folder.
// Homes are numbered across the scenario, not the cluster: a scenario that
// starts several clusters (a room size after another, run after run) must
// not start a node on a home that joined an earlier cluster's room, which
// it would rejoin and carry alongside the one measured.
func (c *cluster) nodeConfig() node.Config {
	home := filepath.Join(c.e.dir, fmt.Sprintf("node%04d", c.e.homes.Add(1)))
	return node.Config{
		Home:        home,
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Gater:       &node.LoopbackGater{},
		Logger:      c.e.log,
		NoStamp:     true, // the bench measures messaging, not proof of work
	}
}

// start makes and starts a node from cfg; the cluster closes it.
func (c *cluster) start(ctx context.Context, cfg node.Config) (*node.Node, error) {
	return c.startHooked(ctx, cfg, nil)
}

// startHooked is start with hook, when not nil, called between New and
// Start: a subscription made there misses none of the node's events.
func (c *cluster) startHooked(ctx context.Context, cfg node.Config, hook func(*node.Node)) (*node.Node, error) {
	if cfg.Gater == nil {
		cfg.Gater = &node.LoopbackGater{}
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	if hook != nil {
		hook(n)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := n.Start(sctx); err != nil {
		n.Close()
		return nil, err
	}
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.gaters = append(c.gaters, cfg.Gater)
	c.cfgs[n] = cfg
	c.mu.Unlock()
	return n, nil
}

// configOf returns the configuration n was started with: starting a node
// from it again brings back the same identity and store.
func (c *cluster) configOf(n *node.Node) node.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfgs[n]
}

// node starts a node with the bench configuration, changed by mods.
func (c *cluster) node(ctx context.Context, mods ...func(*node.Config)) (*node.Node, error) {
	cfg := c.nodeConfig()
	for _, m := range mods {
		m(&cfg)
	}
	return c.start(ctx, cfg)
}

// stop closes one node early (a node cut off); close skips it later.
func (c *cluster) stop(n *node.Node) error {
	c.mu.Lock()
	i := slices.Index(c.nodes, n)
	if i >= 0 {
		c.nodes = slices.Delete(c.nodes, i, i+1)
	}
	c.mu.Unlock()
	return n.Close()
}

// rawHost starts a bare go-libp2p host for a baseline: loopback TCP, the
// default security (Noise, TLS) and muxer (yamux), behind a loopback gater.
func (c *cluster) rawHost() (host.Host, error) {
	return c.newRawHost(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
}

// nodeLikeHost starts a bare go-libp2p host with the node's transports and
// security (TCP and QUIC, TLS and Noise; yamux, the default muxer) on the
// given loopback addresses, with key as its identity, behind a loopback
// gater: a raw host that restarts where it was, as a node does.
func (c *cluster) nodeLikeHost(key crypto.PrivKey, listen []string) (host.Host, error) {
	return c.newRawHost(
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Security(noise.ID, noise.New),
	)
}

// newRawHost starts a go-libp2p host with opts, no relay, behind a
// loopback gater the cluster checks at close, and keeps it for close.
func (c *cluster) newRawHost(opts ...libp2p.Option) (host.Host, error) {
	g := &node.LoopbackGater{}
	h, err := libp2p.New(append(opts, libp2p.ConnectionGater(g), libp2p.DisableRelay())...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.hosts = append(c.hosts, h)
	c.gaters = append(c.gaters, g)
	c.mu.Unlock()
	return h, nil
}

// stopHost closes one raw host early; close skips it later.
func (c *cluster) stopHost(h host.Host) error {
	c.mu.Lock()
	i := slices.Index(c.hosts, h)
	if i >= 0 {
		c.hosts = slices.Delete(c.hosts, i, i+1)
	}
	c.mu.Unlock()
	return h.Close()
}

// close stops every node and host, in parallel (a room of 100 nodes would
// otherwise take long), and fails if a gater refused an address.
func (c *cluster) close() error {
	c.mu.Lock()
	nodes, hosts := c.nodes, c.hosts
	c.nodes, c.hosts = nil, nil
	c.mu.Unlock()
	errs := make([]error, len(nodes)+len(hosts))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.Close() })
	}
	for i, h := range hosts {
		wg.Go(func() { errs[len(nodes)+i] = h.Close() })
	}
	wg.Wait()
	var refused int64
	for _, g := range c.gaters {
		refused += g.Refused()
	}
	if refused > 0 {
		errs = append(errs, fmt.Errorf("%w: %d refused", ErrLeftLoopback, refused))
	}
	return errors.Join(errs...)
}

// percentile returns the p-quantile (0 to 1) of ds, 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// µs is d in microseconds.
func µs(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// dirSize adds up the disk space the files under dir take (allocated).
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += allocated(info)
		}
		return nil
	})
	return total, err
}

// waitFor polls cond every interval until it holds, ctx ends or limit
// passes (ErrTimeout, naming what).
func waitFor(ctx context.Context, what string, limit, every time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s after %v", ErrTimeout, what, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
