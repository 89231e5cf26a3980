package p2p

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// Test helpers for in-process networks on 127.0.0.1.

const (
	testTopic     = "tonmesh/test/chat/1"
	testNamespace = "test"
)

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
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics(), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	d, err := dht.New(h, dht.Mode(dht.ModeServer), dht.ProtocolPrefix(DHTProtocolPrefix), dht.Validator(acceptAll{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ps, err := pubsub.NewGossipSub(ctx, h)
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

// TestNetwork runs five Networks on 127.0.0.1, bootstrapped in a chain
// (node i to node i-1), through discovery, gossip, records and streams.
func TestNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	const size = 5
	nodes := make([]*testNode, size)
	topics := make([]*Topic, size)
	subs := make([]*Subscription, size)
	for i := range nodes {
		var cfg Config
		if i > 0 {
			cfg.Bootstrap = addrStrings(nodes[i-1].Network)
		}
		n := newTestNode(t, cfg)
		nodes[i] = n
		if err := n.Records().Register(testNamespace, RecordValidatorFunc(SignerOwnsKey)); err != nil {
			t.Fatal(err)
		}
		tp, err := n.JoinTopic(testTopic, TopicSpec{MaxSize: 1024, MaxAge: time.Minute, Validate: okPayload})
		if err != nil {
			t.Fatal(err)
		}
		topics[i] = tp
		if subs[i], err = tp.Subscribe(); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("dht discovery", func(t *testing.T) { testDiscovery(ctx, t, nodes) })
	t.Run("gossip", func(t *testing.T) { testGossip(ctx, t, nodes, topics, subs) })
	atk := newAttacker(t)
	for _, n := range nodes {
		if err := atk.host.Connect(ctx, peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("malformed gossip", func(t *testing.T) { testMalformedGossip(ctx, t, nodes, topics, subs, atk) })
	t.Run("records", func(t *testing.T) { testRecords(ctx, t, nodes) })
	t.Run("forged records", func(t *testing.T) { testForgedRecords(ctx, t, nodes, atk) })
	t.Run("request", func(t *testing.T) { testRequest(ctx, t, nodes) })
	t.Run("peers", func(t *testing.T) {
		ps := nodes[0].Peers()
		if len(ps) == 0 || len(ps[0].Addrs) == 0 {
			t.Fatalf("Peers() = %+v, want connected peers with addresses", ps)
		}
	})
}

func testDiscovery(ctx context.Context, t *testing.T, nodes []*testNode) {
	for i, n := range nodes {
		if err := n.WaitDHTPeers(ctx, 2); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	// Node 4 forgets node 0 and finds it again through the DHT.
	first, last := nodes[0], nodes[len(nodes)-1]
	_ = last.Host().Network().ClosePeer(first.ID())
	last.Host().Peerstore().ClearAddrs(first.ID())
	ai, err := last.DHT().FindPeer(ctx, first.ID())
	if err != nil {
		t.Fatalf("FindPeer: %v", err)
	}
	if ai.ID != first.ID() || len(ai.Addrs) == 0 {
		t.Fatalf("FindPeer returned %v, want node 0 with addresses", ai)
	}
	if err := last.Host().Connect(ctx, ai); err != nil {
		t.Fatalf("connect to the address the DHT found: %v", err)
	}
}

func testGossip(ctx context.Context, t *testing.T, nodes []*testNode, topics []*Topic, subs []*Subscription) {
	src := nodes[0]
	for _, n := range nodes[1:] {
		if err := src.Host().Connect(ctx, peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	pollUntil(ctx, t, "node 0 sees every node on the topic", func() error {
		if got := len(topics[0].ListPeers()); got < len(nodes)-1 {
			return fmt.Errorf("%d topic peers", got)
		}
		return nil
	})
	if err := topics[0].Publish(ctx, []byte("msg:hello")); err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		m, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if string(m.Payload) != "msg:hello" || m.From != src.ID() || time.Since(m.Sent) > time.Minute {
			t.Fatalf("node %d got %q from %s sent %v", i, m.Payload, m.From, m.Sent)
		}
	}
	if err := topics[0].Publish(ctx, make([]byte, 1025)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversize publish: %v, want ErrPayloadTooLarge", err)
	}
	if err := topics[0].Publish(ctx, []byte("no prefix")); err == nil {
		t.Error("publish of a payload our own validator refuses succeeded")
	}
	if _, err := nodes[1].JoinTopic(testTopic, TopicSpec{MaxSize: 1, Validate: okPayload}); err == nil {
		t.Error("second JoinTopic of the same topic succeeded")
	}
}

func testMalformedGossip(ctx context.Context, t *testing.T, nodes []*testNode, topics []*Topic, subs []*Subscription, atk *attacker) {
	raw, err := atk.pubsub.Join(testTopic)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	pollUntil(ctx, t, "attacker sees every node on the topic", func() error {
		if got := len(raw.ListPeers()); got < len(nodes) {
			return fmt.Errorf("%d topic peers", got)
		}
		return nil
	})
	rejectedBefore := make([]float64, len(nodes))
	for i, n := range nodes {
		rejectedBefore[i] = counterValue(t, n.metrics.gossip.WithLabelValues(testTopic, resultRejected))
	}
	// Flood-published to every node: not an envelope at all.
	if err := raw.Publish(ctx, []byte("msg:not an envelope")); err != nil {
		t.Fatal(err)
	}
	attackerID := atk.host.ID()
	for i, n := range nodes {
		pollUntil(ctx, t, fmt.Sprintf("node %d rejects the message and scores the sender down", i), func() error {
			if got := counterValue(t, n.metrics.gossip.WithLabelValues(testTopic, resultRejected)); got <= rejectedBefore[i] {
				return errors.New("not rejected yet")
			}
			if s := n.PeerScore(attackerID); s >= 0 {
				return fmt.Errorf("attacker's score is %v", s)
			}
			return nil
		})
	}
	// Every receiver has rejected it, so nobody can deliver it; the next
	// message each subscriber sees is the marker.
	if err := topics[0].Publish(ctx, []byte("msg:marker")); err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		m, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if string(m.Payload) != "msg:marker" {
			t.Fatalf("node %d delivered %q before the marker", i, m.Payload)
		}
	}
}

func testRecords(ctx context.Context, t *testing.T, nodes []*testNode) {
	w := nodes[1]
	id := w.ID().String()
	for _, step := range []struct {
		seq    uint64
		value  string
		reader *testNode
	}{{1, "v1", nodes[3]}, {2, "v2", nodes[4]}} {
		rec, err := NewSignedRecord(w.key, testNamespace, id, step.seq, time.Hour, []byte(step.value))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Records().Put(ctx, rec); err != nil {
			t.Fatalf("Put seq %d: %v", step.seq, err)
		}
		got, err := step.reader.Records().Get(ctx, testNamespace, id)
		if err != nil {
			t.Fatalf("Get seq %d from another node: %v", step.seq, err)
		}
		if got.Seq != step.seq || string(got.Value) != step.value || !got.PubKey.Equals(w.key.GetPublic()) {
			t.Fatalf("Get returned seq %d %q, want seq %d %q", got.Seq, got.Value, step.seq, step.value)
		}
	}
	// The namespace policy applies locally: node 1 cannot write node 2's key.
	rec, err := NewSignedRecord(w.key, testNamespace, nodes[2].ID().String(), 1, time.Hour, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Records().Put(ctx, rec); err == nil {
		t.Error("Put of a record for another peer's key succeeded")
	}
	if _, err := w.Records().Get(ctx, "nobody-registered", id); !errors.Is(err, ErrUnknownNamespace) {
		t.Errorf("Get in an unregistered namespace: %v, want ErrUnknownNamespace", err)
	}
}

func testForgedRecords(ctx context.Context, t *testing.T, nodes []*testNode, atk *attacker) {
	victim := nodes[2]
	id := victim.ID().String()
	rec, err := NewSignedRecord(victim.key, testNamespace, id, 1, time.Hour, []byte("genuine"))
	if err != nil {
		t.Fatal(err)
	}
	rec.Value = []byte("forged") // signature no longer matches
	forged := mustMarshal(t, rec)
	key := DHTKey(testNamespace, id)

	if err := victim.Records().Put(ctx, rec); err == nil {
		t.Fatal("Records.Put of a tampered record succeeded")
	}
	if err := victim.DHT().PutValue(ctx, key, forged); err == nil {
		t.Fatal("raw DHT PutValue of a tampered record succeeded locally")
	}

	// The attacker's DHT accepts anything, so it sends the forgery to the
	// closest peers; their validators must refuse it.
	rejected := func() (sum float64) {
		for _, n := range nodes {
			sum += counterValue(t, n.metrics.records.WithLabelValues(testNamespace, resultRejected))
		}
		return sum
	}
	before := rejected()
	pollUntil(ctx, t, "attacker's routing table has every node", func() error {
		if got := atk.dht.RoutingTable().Size(); got < len(nodes) {
			return fmt.Errorf("%d peers", got)
		}
		return nil
	})
	if err := atk.dht.PutValue(ctx, key, forged); err != nil {
		t.Fatalf("attacker PutValue: %v", err)
	}
	if rejected() <= before {
		t.Fatal("no node's validator saw the forged PUT")
	}
	for i, n := range nodes {
		gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		got, err := n.Records().Get(gctx, testNamespace, id)
		cancel()
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("node %d: Get of the forged key = %v, %v; want ErrNotFound", i, got, err)
		}
	}
}

func testRequest(ctx context.Context, t *testing.T, nodes []*testNode) {
	srv, cli := nodes[0], nodes[2]
	echo := ProtocolID("test", "echo", "1")
	srv.HandleRequest(echo, func(_ context.Context, from peer.ID, req []byte) ([]byte, error) {
		if from != cli.ID() {
			return nil, fmt.Errorf("request from unexpected peer %s", from)
		}
		return append([]byte("echo:"), req...), nil
	}, 1024, 10*time.Second)
	failing := ProtocolID("test", "fail", "1")
	srv.Handle(failing, func(ctx context.Context, s network.Stream) error {
		return errors.New("refused")
	}, 10*time.Second)

	resp, err := cli.Request(ctx, srv.ID(), echo, []byte("ping"), 1024)
	if err != nil || string(resp) != "echo:ping" {
		t.Fatalf("Request = %q, %v; want echo:ping", resp, err)
	}
	if _, err := cli.Request(ctx, srv.ID(), echo, []byte("ping"), 8); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("response over maxResp: %v, want ErrFrameTooLarge", err)
	}
	if _, err := cli.Request(ctx, srv.ID(), echo, make([]byte, 1025), 4096); err == nil {
		t.Error("request over the handler's limit was answered")
	}
	if _, err := cli.Request(ctx, srv.ID(), failing, []byte("x"), 1024); err == nil {
		t.Error("a failing handler's stream was not reset")
	}
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if _, err := cli.Request(cctx, srv.ID(), echo, []byte("x"), 1024); err == nil {
		t.Error("request with a cancelled context succeeded")
	}
}

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
		"mdns":                 {MDNS: true},
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
