// Package harness starts N real tonmesh nodes in one test process: real homes
// in temporary directories, real libp2p hosts on 127.0.0.1, real Pebble
// stores, real HTTP APIs. Every service's multi-node tests use it, so there is
// one way to build a test network.
//
// Nodes are stopped and their directories removed by t.Cleanup.
package harness

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/node"
)

// Cluster is a set of running in-process nodes, the first being everyone's
// bootstrap peer.
type Cluster struct {
	Nodes []*node.Node
	Homes []node.Home
}

// Option adjusts how nodes are created.
type Option func(*setup)

type setup struct {
	edits []func(i int, c *config.Config)
	node  []node.Option
}

// EditConfig adjusts node i's config before it is created.
func EditConfig(f func(i int, c *config.Config)) Option {
	return func(s *setup) { s.edits = append(s.edits, f) }
}

// NodeOptions are passed to node.New for every node.
func NodeOptions(opts ...node.Option) Option {
	return func(s *setup) { s.node = append(s.node, opts...) }
}

// Start creates and starts n nodes, each bootstrapped to the first (which
// also hosts the emulated TON chain and is the market's registry), and waits
// until every node has at least min(n-1, 2) peers in its DHT routing table.
func Start(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	var set setup
	for _, o := range opts {
		o(&set)
	}
	c := &Cluster{}
	dir := t.TempDir()
	log := testLogger(t)
	var bootstrap, registry string
	for i := range n {
		h := node.Home(filepath.Join(dir, "node"+strconv.Itoa(i+1)))
		res, err := node.Init(h, node.InitOptions{
			Profile: config.ProfileTestnet,
			Name:    "node" + strconv.Itoa(i+1),
			Edit: func(cfg *config.Config) {
				cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
				cfg.TON.EmuHost = i == 0 // node 1 hosts the emulated chain and is the market's registry
				cfg.Market.Registry = registry
				if bootstrap != "" {
					cfg.P2P.Bootstrap = []string{bootstrap}
				}
				for _, edit := range set.edits {
					edit(i, cfg)
				}
			},
		})
		if err != nil {
			t.Fatalf("init node %d: %v", i+1, err)
		}
		nopts := append([]node.Option{node.WithHome(h), node.WithLogger(log.With("node", i+1))}, set.node...)
		nd, err := node.New(res.Config, nopts...)
		if err != nil {
			t.Fatalf("new node %d: %v", i+1, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := nd.Stop(ctx); err != nil {
				t.Errorf("stop node %d: %v", i+1, err)
			}
		})
		if err := nd.Start(context.Background()); err != nil {
			t.Fatalf("start node %d: %v", i+1, err)
		}
		if i == 0 {
			bootstrap = nd.Network().Addrs()[0].String()
			registry = res.WalletAddr
		}
		c.Nodes = append(c.Nodes, nd)
		c.Homes = append(c.Homes, h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitDHTPeers(ctx, min(n-1, 2)); err != nil {
		t.Fatal(err)
	}
	return c
}

// WaitDHTPeers waits until every node's routing table holds at least want peers.
func (c *Cluster) WaitDHTPeers(ctx context.Context, want int) error {
	for i, nd := range c.Nodes {
		if err := nd.Network().WaitDHTPeers(ctx, want); err != nil {
			return fmt.Errorf("node %d has %d DHT peers, want %d: %w", i+1, nd.Network().RoutingTableSize(), want, err)
		}
	}
	return nil
}

// Client returns an API client for node i.
func (c *Cluster) Client(t testing.TB, i int) *node.Client {
	t.Helper()
	cl, err := node.ClientForHome(c.Homes[i])
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// testLogger logs to the test at debug when TONMESH_TEST_LOG is set, else discards.
func testLogger(testing.TB) *slog.Logger {
	if os.Getenv("TONMESH_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
