package p2p

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

func TestStartDoesNotBlockOnUnreachableBootstrap(t *testing.T) {
	ghost := peerIDOf(t, newKey(t))
	n := newTestNode(t, Config{Bootstrap: []string{"/ip4/127.0.0.1/tcp/9/p2p/" + ghost.String()}})
	done := make(chan error, 1)
	go func() { done <- n.Start(t.Context()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Start blocked on an unreachable bootstrap peer")
	}
	if err := n.Start(t.Context()); err == nil {
		t.Error("second Start succeeded")
	}
	// Close must stop the retry loop (the deferred Close would hang otherwise).
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsUsePrivateRegistries(t *testing.T) {
	a := newTestNode(t, Config{})
	b := newTestNode(t, Config{ListenAddrs: []string{"/ip4/127.0.0.1/udp/0/quic-v1"}})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := a.Host().Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Host().Addrs()}); err != nil {
		t.Fatalf("connect over QUIC: %v", err)
	}
	for name, n := range map[string]*testNode{"a": a, "b": b} {
		fams, err := n.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range fams {
			names = append(names, f.GetName())
		}
		for _, want := range []string{"tonmesh_p2p_connected_peers", "tonmesh_p2p_dht_routing_table_peers"} {
			if !slices.Contains(names, want) {
				t.Errorf("registry %s lacks %s", name, want)
			}
		}
		if !slices.ContainsFunc(names, func(s string) bool { return strings.HasPrefix(s, "libp2p_rcmgr_") }) {
			t.Errorf("registry %s lacks resource-manager metrics", name)
		}
		if !slices.ContainsFunc(names, func(s string) bool { return strings.HasPrefix(s, "libp2p_swarm_") }) {
			t.Errorf("registry %s lacks swarm metrics", name)
		}
	}
	// A Network without WithMetrics registers nowhere either.
	quiet, err := New(t.Context(), newKey(t), Config{ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := quiet.Close(); err != nil {
		t.Fatal(err)
	}
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "libp2p_") || strings.HasPrefix(f.GetName(), "tonmesh_") {
			t.Errorf("metric %s leaked into the default registry", f.GetName())
		}
	}
}

func TestConfigValidation(t *testing.T) {
	good := peerIDOf(t, newKey(t))
	cases := map[string]Config{
		"bad listen addr":      {ListenAddrs: []string{"tcp/abc"}},
		"bootstrap without id": {Bootstrap: []string{"/ip4/127.0.0.1/tcp/4001"}},
		"bad dht mode":         {DHTMode: "fast"},
		"watermarks":           {ConnLow: 10, ConnHigh: 5},
	}
	for name, cfg := range cases {
		if _, err := parseConfig(&cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	cfg := Config{Bootstrap: []string{"/ip4/127.0.0.1/tcp/4001/p2p/" + good.String(), "/ip4/127.0.0.1/udp/4001/quic-v1/p2p/" + good.String()}}
	pc, err := parseConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(pc.bootstrap) != 1 || len(pc.bootstrap[0].Addrs) != 2 || cfg.DHTMode != "server" || cfg.ConnLow != DefaultConnLow || cfg.ConnHigh != DefaultConnHigh {
		t.Fatalf("defaults/bootstrap not applied: %+v %+v", pc, cfg)
	}
	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), secp, Config{}); err == nil {
		t.Error("non-Ed25519 peer key accepted")
	}
}

func TestDHTModes(t *testing.T) {
	for _, mode := range []string{"client", "auto"} {
		n := newTestNode(t, Config{DHTMode: mode})
		if err := n.Close(); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
	}
}
