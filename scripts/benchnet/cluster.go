package main

import (
	"context"
	"fmt"
	"time"
)

// cluster is N in-process nodes on 127.0.0.1, node 0 being everyone's
// bootstrap peer. tonmeshCluster runs tonmesh's p2p.Network; bareCluster runs
// go-libp2p, go-libp2p-kad-dht and go-libp2p-pubsub with their defaults.
type cluster interface {
	Name() string
	Len() int
	// RoutingTableSize is node i's DHT routing-table size.
	RoutingTableSize(i int) int
	// Refresh refreshes node i's routing table and waits for it.
	Refresh(ctx context.Context, i int) error
	// Put stores value under key from node i; Get fetches it from node i.
	Put(ctx context.Context, i int, key string, value []byte) error
	Get(ctx context.Context, i int, key string) ([]byte, error)
	// JoinGossip joins and subscribes every node to the benchmark topic.
	JoinGossip() error
	// TopicPeers is how many peers node i knows on the topic.
	TopicPeers(i int) int
	Publish(ctx context.Context, i int, payload []byte) error
	// Next returns the next payload node i received on the topic.
	Next(ctx context.Context, i int) ([]byte, error)
	Close() error
}

// Bounds of the in-process comparison.
const (
	clusterReadyTimeout = 60 * time.Second
	refreshTimeout      = 30 * time.Second
	meshTimeout         = 30 * time.Second
	opTimeout           = 10 * time.Second // one put or get
	deliveryTimeout     = 5 * time.Second  // one gossip message to all
	gossipTopic         = "benchnet"
	gossipMeshSettle    = 2 * time.Second // two GossipSub heartbeats
)

// waitBootstrapped waits until every node has min(n-1, 2) routing-table
// peers, then refreshes every routing table (in parallel) and waits for it.
func waitBootstrapped(ctx context.Context, c cluster) error {
	want := min(c.Len()-1, 2)
	if err := pollAll(ctx, clusterReadyTimeout, c.Len(), func(i int) bool { return c.RoutingTableSize(i) >= want }); err != nil {
		return fmt.Errorf("%s: wait for %d DHT peers on every node: %w", c.Name(), want, err)
	}
	rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	errs := make(chan error, c.Len())
	for i := range c.Len() {
		go func() { errs <- c.Refresh(rctx, i) }()
	}
	for range c.Len() {
		if err := <-errs; err != nil {
			return fmt.Errorf("%s: refresh routing tables: %w", c.Name(), err)
		}
	}
	return nil
}

// pollAll waits until ok(i) holds for every node, checking every 50 ms.
func pollAll(ctx context.Context, timeout time.Duration, n int, ok func(i int) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done := 0
		for i := range n {
			if ok(i) {
				done++
			}
		}
		if done == n {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%d/%d nodes after %s: %w", done, n, timeout, ctx.Err())
		}
	}
}

// waitMesh waits until every node knows min(n-1, 6) topic peers, then two
// heartbeats so that the meshes are grafted.
func waitMesh(ctx context.Context, c cluster) error {
	want := min(c.Len()-1, 6)
	if err := pollAll(ctx, meshTimeout, c.Len(), func(i int) bool { return c.TopicPeers(i) >= want }); err != nil {
		return fmt.Errorf("%s: wait for %d topic peers on every node: %w", c.Name(), want, err)
	}
	select {
	case <-time.After(gossipMeshSettle):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
