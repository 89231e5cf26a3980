package p2p

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Bootstrap connection retries.
const (
	bootstrapDialTimeout = 10 * time.Second
	bootstrapBackoffMin  = 250 * time.Millisecond
	bootstrapBackoffMax  = 30 * time.Second
	dhtPeersPollInterval = 50 * time.Millisecond
)

// Start connects to the bootstrap peers and bootstraps the DHT. It returns at
// once: each bootstrap peer is dialled in the background, in parallel,
// retrying with exponential backoff until it connects, ctx ends or the
// Network closes. Each successful connection triggers a routing-table
// refresh. Start may be called once.
func (n *Network) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return errors.New("p2p: start: the network is closed")
	case n.started:
		return errors.New("p2p: start: already started")
	}
	n.started = true

	// The loops end with ctx or with the Network (bctx derives from n.ctx).
	bctx, cancel := context.WithCancel(n.ctx)
	n.stopStart = context.AfterFunc(ctx, cancel)
	for _, ai := range n.boot {
		if ai.ID == n.host.ID() {
			continue
		}
		n.wg.Go(func() { n.connectLoop(bctx, ai) })
	}
	if n.cfg.AutoRelay && len(n.relays) > 0 && n.cfg.Reachability != ReachabilityPublic {
		if err := n.startRelayKeeper(bctx, n.relays); err != nil {
			return err
		}
	}
	if err := n.dht.Bootstrap(ctx); err != nil {
		return fmt.Errorf("p2p: bootstrap DHT: %w", err)
	}
	if n.cfg.MDNS {
		svc, err := n.startMDNS(bctx)
		if err != nil {
			return err
		}
		n.mdns = svc
	}
	n.log.Info("p2p started", "bootstrap_peers", len(n.boot))
	return nil
}

// connectLoop dials ai until connected, then refreshes the routing table.
func (n *Network) connectLoop(ctx context.Context, ai peer.AddrInfo) {
	backoff := bootstrapBackoffMin
	for attempt := 1; ; attempt++ {
		if n.host.Network().Connectedness(ai.ID) == network.Connected {
			n.dht.RefreshRoutingTable()
			return
		}
		dctx, cancel := context.WithTimeout(ctx, bootstrapDialTimeout)
		if attempt > 1 {
			// The swarm's dial backoff (5 s after a refused dial) would make
			// every retry fail at once; this loop has its own backoff.
			dctx = network.WithForceDirectDial(dctx, "bootstrap retry")
		}
		err := n.host.Connect(dctx, ai)
		cancel()
		if err == nil {
			n.log.Info("connected to bootstrap peer", "peer", ai.ID, "attempt", attempt)
			n.dht.RefreshRoutingTable() // buffered reply channel, safe to drop
			return
		}
		if ctx.Err() != nil {
			return
		}
		n.log.Debug("bootstrap peer unreachable; retrying", "peer", ai.ID, "attempt", attempt, "retry_in", backoff, "err", err)
		if !sleepCtx(ctx, jitter(backoff)) {
			return
		}
		backoff = min(backoff*2, bootstrapBackoffMax)
	}
}

// jitter spreads d by ±20% so restarted nodes do not dial in lockstep.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()-0.5)*0.4*float64(d))
}

// sleepCtx waits d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// WaitDHTPeers blocks until the routing table holds at least min peers or
// ctx ends.
func (n *Network) WaitDHTPeers(ctx context.Context, min int) error {
	tick := time.NewTicker(dhtPeersPollInterval)
	defer tick.Stop()
	for {
		if n.RoutingTableSize() >= min {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("p2p: wait for %d DHT peers (have %d): %w", min, n.RoutingTableSize(), ctx.Err())
		case <-n.ctx.Done():
			return errors.New("p2p: wait for DHT peers: the network is closed")
		case <-tick.C:
		}
	}
}
