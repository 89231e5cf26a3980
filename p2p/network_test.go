package p2p

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestNetwork runs five Networks on 127.0.0.1, bootstrapped in a chain
// (node i to node i-1), through discovery, gossip, records and streams.
func TestNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	const size = 5
	nodes := make([]*testNode, size)
	topics := make([]*Topic, size)
	deliveries := make(chan delivery, 256)
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
		// Half the nodes validate inline (Quick): the gossip tests below
		// hold for both ways of running the validator.
		tp, err := n.JoinTopic(testTopic, TopicSpec{MaxSize: 1024, MaxAge: time.Minute, Validate: okPayload, Quick: i%2 == 1})
		if err != nil {
			t.Fatal(err)
		}
		topics[i] = tp
		sub, err := tp.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		collect(ctx, i, sub, deliveries)
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("dht discovery", func(t *testing.T) { testDiscovery(ctx, t, nodes) })
	t.Run("gossip", func(t *testing.T) { testGossip(ctx, t, nodes, topics, deliveries) })
	atk := newAttacker(t)
	for _, n := range nodes {
		if err := atk.host.Connect(ctx, peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ignored gossip", func(t *testing.T) { testIgnoredGossip(ctx, t, nodes, topics, deliveries, atk) })
	t.Run("malformed gossip", func(t *testing.T) { testMalformedGossip(ctx, t, nodes, topics, deliveries, atk) })
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
	// A DHT client bootstrapped only to the last node can learn node 0's
	// address only through the DHT.
	first, last := nodes[0], nodes[len(nodes)-1]
	cl := newTestNode(t, Config{DHTMode: "client", Bootstrap: addrStrings(last.Network)})
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitDHTPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ai, err := cl.DHT().FindPeer(ctx, first.ID())
	if err != nil {
		t.Fatalf("FindPeer: %v", err)
	}
	if ai.ID != first.ID() || len(ai.Addrs) == 0 {
		t.Fatalf("FindPeer returned %v, want node 0 with addresses", ai)
	}
	if err := cl.Host().Connect(ctx, ai); err != nil {
		t.Fatalf("connect to the address the DHT found: %v", err)
	}
	// Servers never route through a client.
	for i, n := range nodes {
		if n.DHT().RoutingTable().Find(cl.ID()) != "" {
			t.Errorf("node %d has the DHT client in its routing table", i)
		}
	}
}

func testGossip(ctx context.Context, t *testing.T, nodes []*testNode, topics []*Topic, in <-chan delivery) {
	src := nodes[0]
	pollUntil(ctx, t, "every node sees a peer on the topic", func() error {
		for i, tp := range topics {
			if len(tp.ListPeers()) == 0 {
				return fmt.Errorf("node %d has no topic peers", i)
			}
		}
		return nil
	})
	publishUntilAll(ctx, t, topics[0], src.ID(), "msg:hello", len(nodes), in)
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

// testIgnoredGossip: a well-formed message its validator ignores (ErrIgnore)
// is dropped everywhere without scoring its sender down.
func testIgnoredGossip(ctx context.Context, t *testing.T, nodes []*testNode, topics []*Topic, in <-chan delivery, atk *attacker) {
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
	ignoredBefore := make([]float64, len(nodes))
	for i, n := range nodes {
		ignoredBefore[i] = counterValue(t, n.metrics.gossip.WithLabelValues(testTopic, resultIgnored))
	}
	if err := raw.Publish(ctx, encodeEnvelope(time.Now(), []byte("stale:old news"))); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		pollUntil(ctx, t, fmt.Sprintf("node %d ignores the message", i), func() error {
			if got := counterValue(t, n.metrics.gossip.WithLabelValues(testTopic, resultIgnored)); got <= ignoredBefore[i] {
				return errors.New("not ignored yet")
			}
			return nil
		})
		if s := n.PeerScore(atk.host.ID()); s < 0 {
			t.Errorf("node %d scored the sender of an ignored message down to %v", i, s)
		}
	}
	// Nobody delivers it: the next delivery everywhere is the marker.
	publishUntilAll(ctx, t, topics[0], nodes[0].ID(), "msg:ignore-marker", len(nodes), in, "msg:hello", "msg:marker")
}

func testMalformedGossip(ctx context.Context, t *testing.T, nodes []*testNode, topics []*Topic, in <-chan delivery, atk *attacker) {
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
	// Flood-published to every node; it passes okPayload's prefix check but
	// is not an envelope.
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
	// Every receiver has rejected it, so nobody can deliver it: until the
	// marker arrives, each node may deliver only leftover hellos.
	publishUntilAll(ctx, t, topics[0], nodes[0].ID(), "msg:marker", len(nodes), in, "msg:hello", "msg:ignore-marker")
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
