package p2p

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
)

// Static relays are kept by tonmesh itself, not by libp2p's AutoRelay:
// AutoRelay announces a relay only at its public addresses, so on a LAN, a
// namespace testnet or any network of private addresses a NATed node would
// announce nothing. The keeper reserves a slot on every static relay while
// the node is not publicly reachable, builds /p2p-circuit addresses from
// the addresses each relay vouches for, and hands them to the host the way
// AutoRelay does (EvtAutoRelayAddrsUpdated), so identify and the DHT
// announce them.

// Reservation upkeep.
const (
	reserveTimeout  = 10 * time.Second
	reserveRetryMin = 500 * time.Millisecond
	reserveRetryMax = 30 * time.Second
	// reserveCheck is how often a held reservation is checked: renewed when
	// its relay is no longer connected or a third of its lifetime is left.
	reserveCheck = 5 * time.Second
	// reserveRenewBefore: a reservation (an hour by default) is renewed
	// this long before it expires.
	reserveRenewBefore = 20 * time.Minute
)

// relayKeeper holds reservations on the static relays.
type relayKeeper struct {
	n      *Network
	relays []peer.AddrInfo
	emit   event.Emitter
}

// startRelayKeeper starts the keeper in the background when the node uses
// static relays; it stops with ctx.
func (n *Network) startRelayKeeper(ctx context.Context, relays []peer.AddrInfo) error {
	emit, err := n.host.EventBus().Emitter(new(event.EvtAutoRelayAddrsUpdated), eventbus.Stateful)
	if err != nil {
		return fmt.Errorf("p2p: relay keeper: %w", err)
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtLocalReachabilityChanged))
	if err != nil {
		emit.Close()
		return fmt.Errorf("p2p: relay keeper: %w", err)
	}
	k := &relayKeeper{n: n, relays: relays, emit: emit}
	n.wg.Go(func() {
		defer emit.Close()
		defer sub.Close()
		k.run(ctx, sub.Out())
	})
	return nil
}

// run reserves while the node is private (forced, or as AutoNAT says) and
// withdraws the relay addresses when it becomes public.
func (k *relayKeeper) run(ctx context.Context, reach <-chan any) {
	private := k.n.cfg.Reachability == ReachabilityPrivate
	held := make(map[peer.ID]*client.Reservation)
	retry := make(map[peer.ID]time.Time)
	backoff := make(map[peer.ID]time.Duration)
	tick := time.NewTicker(reserveCheck)
	defer tick.Stop()
	for {
		if private {
			changed := false
			for _, ai := range k.relays {
				if k.needsReservation(held[ai.ID]) && time.Now().After(retry[ai.ID]) {
					rsvp, err := k.reserve(ctx, ai)
					if err != nil {
						b := min(max(backoff[ai.ID]*2, reserveRetryMin), reserveRetryMax)
						backoff[ai.ID], retry[ai.ID] = b, time.Now().Add(jitter(b))
						k.n.log.Debug("relay reservation failed; retrying", "relay", ai.ID, "retry_in", b, "err", err)
						if held[ai.ID] != nil {
							delete(held, ai.ID)
							changed = true
						}
						continue
					}
					delete(backoff, ai.ID)
					held[ai.ID] = rsvp
					changed = true
					k.n.log.Info("relay reservation", "relay", ai.ID, "expires", rsvp.Expiration, "addrs", rsvp.Addrs)
				}
			}
			for id := range held {
				if k.n.host.Network().Connectedness(id) != network.Connected {
					delete(held, id) // the relay forgets a slot with its connection
					changed = true
				}
			}
			if changed {
				k.publish(held)
			}
		} else if len(held) > 0 {
			clear(held)
			k.publish(held)
		}

		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case ev, ok := <-reach:
			if !ok {
				return
			}
			if e, ok := ev.(event.EvtLocalReachabilityChanged); ok && k.n.cfg.Reachability == ReachabilityAuto {
				private = e.Reachability == network.ReachabilityPrivate
			}
		}
	}
}

// needsReservation reports whether r is missing or close to expiry.
func (k *relayKeeper) needsReservation(r *client.Reservation) bool {
	return r == nil || time.Until(r.Expiration) < reserveRenewBefore
}

func (k *relayKeeper) reserve(ctx context.Context, ai peer.AddrInfo) (*client.Reservation, error) {
	rctx, cancel := context.WithTimeout(ctx, reserveTimeout)
	defer cancel()
	if err := k.n.host.Connect(rctx, ai); err != nil {
		return nil, fmt.Errorf("connect to relay: %w", err)
	}
	// Keep the relay connection: losing it loses the slot.
	k.n.host.ConnManager().Protect(ai.ID, "tonmesh-relay")
	return client.Reserve(rctx, k.n.host, ai)
}

// publish announces the circuit addresses of the held reservations.
func (k *relayKeeper) publish(held map[peer.ID]*client.Reservation) {
	var addrs []ma.Multiaddr
	for id, r := range held {
		addrs = append(addrs, circuitAddrs(id, r.Addrs)...)
	}
	slices.SortFunc(addrs, func(a, b ma.Multiaddr) int { return slices.Compare(a.Bytes(), b.Bytes()) })
	if err := k.emit.Emit(event.EvtAutoRelayAddrsUpdated{RelayAddrs: addrs}); err != nil {
		k.n.log.Warn("announce relay addresses", "err", err)
	}
}

// circuitAddrs turns the addresses a relay vouched for into addresses of
// this node through it: <relay addr>/p2p/<relay>/p2p-circuit.
func circuitAddrs(relay peer.ID, vouched []ma.Multiaddr) []ma.Multiaddr {
	p2pPart, err := ma.NewComponent("p2p", relay.String())
	if err != nil {
		return nil
	}
	circuit, err := ma.NewComponent("p2p-circuit", "")
	if err != nil {
		return nil
	}
	out := make([]ma.Multiaddr, 0, len(vouched))
	for _, a := range vouched {
		if isRelayAddr(a) {
			continue
		}
		if id, _ := peer.IDFromP2PAddr(a); id == "" {
			a = a.Encapsulate(p2pPart)
		} else if id != relay {
			continue
		}
		out = append(out, a.Encapsulate(circuit))
	}
	return out
}
