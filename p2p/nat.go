package p2p

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	routedhost "github.com/libp2p/go-libp2p/p2p/host/routed"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// NAT traversal. A node behind NAT cannot be dialled; it keeps outbound
// connections and asks relays (circuit relay v2) for a reservation, then
// announces /p2p-circuit addresses through them. A peer that dials such an
// address reaches it through the relay, and DCUtR then tries to punch a
// direct connection through both NATs. Reachability comes from AutoNAT (the
// libp2p host asks peers to dial it back) unless the operator states it.

// Reachability values of Config.Reachability.
const (
	ReachabilityAuto    = "auto"    // AutoNAT decides
	ReachabilityPublic  = "public"  // the node is dialable at its announced addresses
	ReachabilityPrivate = "private" // the node is behind NAT or a firewall
)

// Relay service defaults, for RelayLimits fields left zero.
const (
	DefaultRelayReservations = 128
	DefaultRelayCircuits     = 16
)

// RelayLimits bounds what a relay-serving node spends on others. Every
// relayed connection is cut after LimitDuration or LimitData bytes in either
// direction (libp2p marks such connections "limited"); both zero relays
// without a per-connection limit.
type RelayLimits struct {
	MaxReservations int           // peers holding a slot at once (default 128)
	MaxCircuits     int           // relayed connections per peer at once (default 16)
	LimitDuration   time.Duration // per relayed connection; 0 with LimitData 0: no limit
	LimitData       int64         // bytes per direction per relayed connection
}

// autoRelayBootDelay is how long AutoRelay waits for candidates before it
// reserves with the ones it has; libp2p's default (3 min) is tuned for
// searching a large network, tonmesh networks know their relays sooner.
const autoRelayBootDelay = 5 * time.Second

// natOptions returns the libp2p options for reachability, the relay
// service, the relay client and hole punching. peers feeds AutoRelay with
// candidates when no static relays are configured.
func natOptions(cfg Config, pc parsedConfig, peers autorelay.PeerSource) ([]libp2p.Option, error) {
	var opts []libp2p.Option
	switch cfg.Reachability {
	case ReachabilityPublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	case ReachabilityPrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	if cfg.RelayService {
		// The relay vouches for the addresses at which it is reached;
		// libp2p's default vouches only for public ones, which leaves a
		// LAN or test network without relay addresses.
		vouch := func(a ma.Multiaddr) bool { return !isRelayAddr(a) }
		if cfg.PublicOnly {
			vouch = PublicAddr
		}
		opts = append(opts, libp2p.EnableRelayService(relayv2.WithResources(relayResources(cfg.Relay)),
			relayv2.WithReservationAddressFilter(vouch)))
	}
	if cfg.RelayService || pc.dhtMode == dht.ModeAuto {
		// Peers deciding their own reachability need others to dial them
		// back. AutoNAT (v1) runs on every libp2p host as a client; not
		// EnableAutoNATv2: in v0.51 its dialer host registers metrics with
		// the global registry.
		opts = append(opts, libp2p.EnableNATService())
	}
	if cfg.AutoRelay && cfg.Reachability != ReachabilityPublic && len(pc.staticRelays) == 0 {
		// Static relays are kept by relayKeeper (relayclient.go).
		opts = append(opts, libp2p.EnableAutoRelayWithPeerSource(peers,
			autorelay.WithBootDelay(autoRelayBootDelay), autorelay.WithBackoff(30*time.Second),
			autorelay.WithMinInterval(10*time.Second)))
	}
	if cfg.HolePunching {
		opts = append(opts, libp2p.EnableHolePunching())
	}
	return opts, nil
}

func relayResources(l RelayLimits) relayv2.Resources {
	r := relayv2.DefaultResources()
	r.MaxReservations = l.MaxReservations
	r.MaxCircuits = l.MaxCircuits
	if l.LimitDuration == 0 && l.LimitData == 0 {
		r.Limit = nil
	} else {
		r.Limit = &relayv2.RelayLimit{Duration: l.LimitDuration, Data: l.LimitData}
	}
	return r
}

// parseRelay validates the relay fields of cfg and fills their defaults.
func parseRelay(cfg *Config, pc *parsedConfig) error {
	switch cfg.Reachability {
	case "":
		cfg.Reachability = ReachabilityAuto
	case ReachabilityAuto, ReachabilityPublic, ReachabilityPrivate:
	default:
		return fmt.Errorf("config: key \"p2p.reachability\": %q is not one of auto, public, private", cfg.Reachability)
	}
	r := &cfg.Relay
	if r.MaxReservations == 0 {
		r.MaxReservations = DefaultRelayReservations
	}
	if r.MaxCircuits == 0 {
		r.MaxCircuits = DefaultRelayCircuits
	}
	if r.MaxReservations < 0 || r.MaxCircuits < 0 || r.LimitDuration < 0 || r.LimitData < 0 {
		return fmt.Errorf("config: relay limits %+v: none may be negative", *r)
	}
	if (r.LimitDuration == 0) != (r.LimitData == 0) {
		return fmt.Errorf("config: relay limits: set both p2p.relay_limit_duration and p2p.relay_limit_kb, or neither (no limit)")
	}
	addrs, err := parseAddrs("p2p.static_relays", cfg.StaticRelays, "/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...")
	if err != nil {
		return err
	}
	if pc.staticRelays, err = peer.AddrInfosFromP2pAddrs(addrs...); err != nil {
		return fmt.Errorf("config: key \"p2p.static_relays\": every address needs /p2p/<peer id> (example: /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...): %w", err)
	}
	return nil
}

// connectedPeers is AutoRelay's candidate source when no static relays are
// configured: the peers this node is connected to (its bootstrap peers and
// DHT neighbours). AutoRelay keeps those that speak the relay protocol.
func connectedPeers(h *lateHost) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan peer.AddrInfo {
		out := make(chan peer.AddrInfo, num)
		defer close(out)
		hh := h.get()
		if hh == nil {
			return out
		}
		for _, p := range hh.Network().Peers() {
			if len(out) == num {
				break
			}
			out <- hh.Peerstore().PeerInfo(p)
		}
		return out
	}
}

// lateHost holds the host once libp2p.New has built it, for the options
// that need it afterwards from libp2p's own goroutines.
type lateHost struct {
	mu sync.Mutex
	h  host.Host
}

func (l *lateHost) set(h host.Host) {
	l.mu.Lock()
	l.h = h
	l.mu.Unlock()
}

func (l *lateHost) get() host.Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h
}

// serviceHost is the host that services see (Network.Host). It differs
// from the libp2p host in two ways, so that every service reaches peers the
// same way:
//
//   - a peer without known addresses is looked up in the DHT (FindPeer)
//     before dialling, as after a restart or for a chat recipient never met;
//   - a stream may use a limited (relayed) connection: a peer behind NAT
//     that hole punching could not reach directly is still reachable
//     through its relay, within the relay's limits.
type serviceHost struct {
	*routedhost.RoutedHost
}

func newServiceHost(h host.Host, r routedhost.Routing) *serviceHost {
	return &serviceHost{routedhost.Wrap(h, r)}
}

func (h *serviceHost) Connect(ctx context.Context, ai peer.AddrInfo) error {
	return h.RoutedHost.Connect(network.WithAllowLimitedConn(ctx, "tonmesh service"), ai)
}

func (h *serviceHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	return h.RoutedHost.NewStream(network.WithAllowLimitedConn(ctx, "tonmesh service"), p, pids...)
}
