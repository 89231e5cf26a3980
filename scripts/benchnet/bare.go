package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// bareNamespace is the DHT namespace of the bare hosts' values.
const bareNamespace = "v"

// acceptAll is the bare DHT's validator for namespace "v": every value is
// valid and the first one is selected.
type acceptAll struct{}

func (acceptAll) Validate(string, []byte) error        { return nil }
func (acceptAll) Select(string, [][]byte) (int, error) { return 0, nil }

// bareNode is a host built only from go-libp2p's defaults (listening on
// 127.0.0.1 TCP, metrics on a private registry), a server-mode Kad-DHT under
// "/bare" and a default GossipSub router.
type bareNode struct {
	h      host.Host
	d      *dht.IpfsDHT
	ps     *pubsub.PubSub
	cancel context.CancelFunc // stops pubsub
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
}

type bareCluster struct {
	nodes []*bareNode
}

func newBareCluster(ctx context.Context, n int) (c *bareCluster, err error) {
	c = &bareCluster{}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	var boot []peer.AddrInfo
	for i := range n {
		bn, err := newBareNode(ctx, boot)
		if err != nil {
			return nil, fmt.Errorf("bare node %d: %w", i, err)
		}
		c.nodes = append(c.nodes, bn)
		if i == 0 {
			boot = []peer.AddrInfo{{ID: bn.h.ID(), Addrs: bn.h.Addrs()}}
		}
	}
	// Like p2p.Network.Start: connect to the bootstrap peer, refresh the
	// routing table once connected, bootstrap the DHT.
	for i, bn := range c.nodes[1:] {
		if err := bn.h.Connect(ctx, boot[0]); err != nil {
			return nil, fmt.Errorf("bare node %d: connect to node 0: %w", i+1, err)
		}
		bn.d.RefreshRoutingTable()
	}
	for i, bn := range c.nodes {
		if err := bn.d.Bootstrap(ctx); err != nil {
			return nil, fmt.Errorf("bare node %d: bootstrap DHT: %w", i, err)
		}
	}
	return c, nil
}

func newBareNode(ctx context.Context, boot []peer.AddrInfo) (*bareNode, error) {
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.PrometheusRegisterer(prometheus.NewRegistry()),
	)
	if err != nil {
		return nil, fmt.Errorf("new host: %w", err)
	}
	opts := []dht.Option{
		dht.Mode(dht.ModeServer),
		dht.ProtocolPrefix("/bare"),
		dht.NamespacedValidator(bareNamespace, acceptAll{}),
	}
	if len(boot) > 0 {
		opts = append(opts, dht.BootstrapPeers(boot...))
	}
	d, err := dht.New(h, opts...)
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("new DHT: %w", err)
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ps, err := pubsub.NewGossipSub(pctx, h)
	if err != nil {
		cancel()
		_ = d.Close()
		_ = h.Close()
		return nil, fmt.Errorf("new GossipSub: %w", err)
	}
	return &bareNode{h: h, d: d, ps: ps, cancel: cancel}, nil
}

func (c *bareCluster) Name() string               { return "bare libp2p" }
func (c *bareCluster) Len() int                   { return len(c.nodes) }
func (c *bareCluster) RoutingTableSize(i int) int { return c.nodes[i].d.RoutingTable().Size() }
func (c *bareCluster) TopicPeers(i int) int       { return len(c.nodes[i].topic.ListPeers()) }
func (c *bareCluster) Refresh(ctx context.Context, i int) error {
	return waitRefresh(ctx, c.nodes[i].d.RefreshRoutingTable())
}

func bareKey(key string) string { return "/" + bareNamespace + "/" + key }

func (c *bareCluster) Put(ctx context.Context, i int, key string, value []byte) error {
	return c.nodes[i].d.PutValue(ctx, bareKey(key), value)
}

func (c *bareCluster) Get(ctx context.Context, i int, key string) ([]byte, error) {
	return c.nodes[i].d.GetValue(ctx, bareKey(key))
}

func (c *bareCluster) JoinGossip() error {
	for i, bn := range c.nodes {
		t, err := bn.ps.Join(gossipTopic)
		if err != nil {
			return fmt.Errorf("bare node %d: join topic: %w", i, err)
		}
		bn.topic = t
		s, err := t.Subscribe()
		if err != nil {
			return fmt.Errorf("bare node %d: subscribe: %w", i, err)
		}
		bn.sub = s
	}
	return nil
}

func (c *bareCluster) Publish(ctx context.Context, i int, payload []byte) error {
	return c.nodes[i].topic.Publish(ctx, payload)
}

func (c *bareCluster) Next(ctx context.Context, i int) ([]byte, error) {
	m, err := c.nodes[i].sub.Next(ctx)
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

// Close stops every node: subscription, pubsub, DHT, host.
func (c *bareCluster) Close() error {
	var errs []error
	for _, bn := range c.nodes {
		if bn.sub != nil {
			bn.sub.Cancel()
		}
		bn.cancel() // ends pubsub and its topics
		errs = append(errs, bn.d.Close(), bn.h.Close())
	}
	return errors.Join(errs...)
}
