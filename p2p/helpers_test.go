package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// Test helpers for in-process networks on 127.0.0.1.

const (
	testTopic     = "tonmesh/test/chat/1"
	testNamespace = "test"
)

// testLogger discards logs unless TONMESH_TEST_LOG is set (then: debug to
// stderr).
func testLogger() *slog.Logger {
	if os.Getenv("TONMESH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testNode struct {
	*Network
	key crypto.PrivKey
	reg *prometheus.Registry
}

func newTestNode(t *testing.T, cfg Config) *testNode {
	t.Helper()
	if cfg.ListenAddrs == nil {
		cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	}
	key := newKey(t)
	reg := prometheus.NewRegistry()
	n, err := New(t.Context(), key, cfg, WithLogger(testLogger()), WithMetrics(reg))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testNode{Network: n, key: key, reg: reg}
}

func addrStrings(n *Network) []string {
	var out []string
	for _, a := range n.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// pollUntil calls cond until it returns nil or ctx ends.
func pollUntil(ctx context.Context, t *testing.T, what string, cond func() error) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (last: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func okPayload(_ context.Context, _ peer.ID, p []byte) error {
	if bytes.HasPrefix(p, []byte("stale:")) {
		return fmt.Errorf("%w: stale", ErrIgnore)
	}
	if !bytes.HasPrefix(p, []byte("msg:")) {
		return errors.New(`payload must start with "msg:"`)
	}
	return nil
}

// attacker is a plain libp2p node that speaks tonmesh's protocols without
// tonmesh's checks: its DHT accepts any value and its gossip has no
// validators.
type attacker struct {
	host   host.Host
	dht    *dht.IpfsDHT
	pubsub *pubsub.PubSub
}

type acceptAll struct{}

func (acceptAll) Validate(string, []byte) error        { return nil }
func (acceptAll) Select(string, [][]byte) (int, error) { return 0, nil }

func newAttacker(t *testing.T) *attacker {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.PrometheusRegisterer(prometheus.NewRegistry()), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	d, err := dht.New(h, dht.Mode(dht.ModeServer), dht.ProtocolPrefix(DHTProtocolPrefix), dht.Validator(acceptAll{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithFloodPublish(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = d.Close()
		_ = h.Close()
	})
	return &attacker{host: h, dht: d, pubsub: ps}
}

// delivery is a message one node's subscription delivered.
type delivery struct {
	node int
	msg  Message
}

// collect forwards node's messages to out until ctx ends or the
// subscription is cancelled.
func collect(ctx context.Context, node int, s *Subscription, out chan<- delivery) {
	go func() {
		for {
			m, err := s.Next(ctx)
			if err != nil {
				return
			}
			select {
			case out <- delivery{node, m}:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// publishUntilAll publishes prefix-<k> from src, k = 0, 1, ..., every 500 ms
// until every node has delivered one of them. GossipSub is best-effort: a
// node not directly connected to src depends on the mesh, which forms at
// heartbeats. Anything else delivered meanwhile must start with one of the
// allowed prefixes.
func publishUntilAll(ctx context.Context, t *testing.T, src *Topic, srcID peer.ID, prefix string, nodes int, in <-chan delivery, allowed ...string) {
	t.Helper()
	publish := func(k int) {
		if err := src.Publish(ctx, fmt.Appendf(nil, "%s-%d", prefix, k)); err != nil {
			t.Fatal(err)
		}
	}
	got := make(map[int]bool)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	k := 0
	publish(k)
	for len(got) < nodes {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %d of %d nodes have it: %v", prefix, len(got), nodes, ctx.Err())
		case <-tick.C:
			k++
			publish(k)
		case d := <-in:
			p := string(d.msg.Payload)
			switch {
			case strings.HasPrefix(p, prefix+"-"):
				if d.msg.From != srcID || time.Since(d.msg.Sent) > time.Minute {
					t.Fatalf("node %d: %q from %s sent %v", d.node, p, d.msg.From, d.msg.Sent)
				}
				got[d.node] = true
			case slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(p, a+"-") }):
			default:
				t.Fatalf("node %d delivered unexpected %q", d.node, p)
			}
		}
	}
	if k > 0 {
		t.Logf("%s reached all %d nodes after %d publications", prefix, nodes, k+1)
	}
}
