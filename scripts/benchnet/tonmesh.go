package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tonmesh/tonmesh/p2p"
)

// recordNamespace is the tonmesh record namespace of the benchmark; its
// policy accepts every record the registry has verified (signature, key,
// expiry).
const recordNamespace = "benchnet"

// tonmeshCluster is N p2p.Networks, configured as a tonmesh daemon
// configures its own (metrics on a private registry per node), but listening
// on TCP only, like the bare hosts.
type tonmeshCluster struct {
	nets   []*p2p.Network
	keys   []crypto.PrivKey
	topics []*p2p.Topic
	subs   []*p2p.Subscription
}

func newTonmeshCluster(ctx context.Context, n int) (c *tonmeshCluster, err error) {
	c = &tonmeshCluster{}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	var bootstrap []string
	for i := range n {
		key, _, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			return nil, fmt.Errorf("tonmesh node %d: generate key: %w", i, err)
		}
		nw, err := p2p.New(ctx, key, p2p.Config{
			ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
			Bootstrap:   bootstrap,
			DHTMode:     "server",
		}, p2p.WithLogger(slog.New(slog.DiscardHandler)), p2p.WithMetrics(prometheus.NewRegistry()))
		if err != nil {
			return nil, fmt.Errorf("tonmesh node %d: %w", i, err)
		}
		c.nets = append(c.nets, nw)
		c.keys = append(c.keys, key)
		err = nw.Records().Register(recordNamespace, p2p.RecordValidatorFunc(func(*p2p.SignedRecord) error { return nil }))
		if err != nil {
			return nil, fmt.Errorf("tonmesh node %d: %w", i, err)
		}
		if i == 0 {
			addrs := nw.Addrs()
			if len(addrs) == 0 {
				return nil, errors.New("tonmesh node 0 has no listen address")
			}
			bootstrap = []string{addrs[0].String()}
		}
	}
	for i, nw := range c.nets {
		if err := nw.Start(ctx); err != nil {
			return nil, fmt.Errorf("tonmesh node %d: %w", i, err)
		}
	}
	return c, nil
}

func (c *tonmeshCluster) Name() string               { return "tonmesh" }
func (c *tonmeshCluster) Len() int                   { return len(c.nets) }
func (c *tonmeshCluster) RoutingTableSize(i int) int { return c.nets[i].RoutingTableSize() }
func (c *tonmeshCluster) TopicPeers(i int) int       { return len(c.topics[i].ListPeers()) }
func (c *tonmeshCluster) Refresh(ctx context.Context, i int) error {
	return waitRefresh(ctx, c.nets[i].DHT().RefreshRoutingTable())
}

// Put signs a record with node i's key and stores it: signing is part of a
// tonmesh put, so the caller's timing includes it (~35 µs).
func (c *tonmeshCluster) Put(ctx context.Context, i int, key string, value []byte) error {
	rec, err := p2p.NewSignedRecord(c.keys[i], recordNamespace, key, 1, time.Hour, value)
	if err != nil {
		return err
	}
	return c.nets[i].Records().Put(ctx, rec)
}

func (c *tonmeshCluster) Get(ctx context.Context, i int, key string) ([]byte, error) {
	rec, err := c.nets[i].Records().Get(ctx, recordNamespace, key)
	if err != nil {
		return nil, err
	}
	return rec.Value, nil
}

func (c *tonmeshCluster) JoinGossip() error {
	for i, nw := range c.nets {
		t, err := nw.JoinTopic(gossipTopic, p2p.TopicSpec{
			MaxSize:  gossipPayloadSize,
			Validate: func(context.Context, peer.ID, []byte) error { return nil },
			Quick:    true,
		})
		if err != nil {
			return fmt.Errorf("tonmesh node %d: %w", i, err)
		}
		c.topics = append(c.topics, t)
		s, err := t.Subscribe()
		if err != nil {
			return fmt.Errorf("tonmesh node %d: %w", i, err)
		}
		c.subs = append(c.subs, s)
	}
	return nil
}

func (c *tonmeshCluster) Publish(ctx context.Context, i int, payload []byte) error {
	return c.topics[i].Publish(ctx, payload)
}

func (c *tonmeshCluster) Next(ctx context.Context, i int) ([]byte, error) {
	m, err := c.subs[i].Next(ctx)
	if err != nil {
		return nil, err
	}
	return m.Payload, nil
}

// Close closes every network (which leaves its topics).
func (c *tonmeshCluster) Close() error {
	var errs []error
	for _, nw := range c.nets {
		errs = append(errs, nw.Close())
	}
	return errors.Join(errs...)
}

// waitRefresh waits for a routing-table refresh to finish.
func waitRefresh(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
