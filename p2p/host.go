package p2p

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Config fields left zero.
const (
	DefaultConnLow  = 100
	DefaultConnHigh = 400

	userAgent = "tonmesh"
)

// parsedConfig is Config after validation.
type parsedConfig struct {
	listen    []multiaddr.Multiaddr
	announce  []multiaddr.Multiaddr
	bootstrap []peer.AddrInfo
	dhtMode   dht.ModeOpt

	staticRelays []peer.AddrInfo
}

// parseConfig validates cfg and fills its defaults in place.
func parseConfig(cfg *Config) (parsedConfig, error) {
	var pc parsedConfig
	var err error
	if pc.listen, err = parseAddrs("p2p.listen", cfg.ListenAddrs, "/ip4/0.0.0.0/tcp/4001"); err != nil {
		return pc, err
	}
	if pc.announce, err = parseAddrs("p2p.announce", cfg.AnnounceAddrs, "/ip4/203.0.113.7/tcp/4001"); err != nil {
		return pc, err
	}
	boot, err := parseAddrs("p2p.bootstrap", cfg.Bootstrap, "/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...")
	if err != nil {
		return pc, err
	}
	if pc.bootstrap, err = peer.AddrInfosFromP2pAddrs(boot...); err != nil {
		return pc, fmt.Errorf("config: key \"p2p.bootstrap\": every address needs /p2p/<peer id> (example: /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...): %w", err)
	}

	switch cfg.DHTMode {
	case "", "server":
		cfg.DHTMode, pc.dhtMode = "server", dht.ModeServer
	case "client":
		pc.dhtMode = dht.ModeClient
	case "auto":
		pc.dhtMode = dht.ModeAuto
	default:
		return pc, fmt.Errorf("config: key \"p2p.dht_mode\": %q is not one of server, client, auto", cfg.DHTMode)
	}
	if err := parseRelay(cfg, &pc); err != nil {
		return pc, err
	}
	if cfg.PublicOnly {
		for _, a := range pc.announce {
			if !PublicAddr(a) {
				return pc, fmt.Errorf("config: key \"p2p.announce\": %s is not a public address, and only public addresses are announced (remove it, or set p2p.announce_private = true on a LAN or test network)", a)
			}
		}
	}
	if cfg.ConnLow == 0 {
		cfg.ConnLow = DefaultConnLow
	}
	if cfg.ConnHigh == 0 {
		cfg.ConnHigh = DefaultConnHigh
	}
	if cfg.ConnLow < 0 || cfg.ConnHigh < cfg.ConnLow {
		return pc, fmt.Errorf("config: connection watermarks low=%d high=%d: need 0 <= low <= high", cfg.ConnLow, cfg.ConnHigh)
	}
	return pc, nil
}

func parseAddrs(key string, in []string, example string) ([]multiaddr.Multiaddr, error) {
	out := make([]multiaddr.Multiaddr, 0, len(in))
	for _, s := range in {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("config: key %q: %q is not a multiaddr (example: %s): %w", key, s, example, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// newHost builds the libp2p host: TCP and QUIC, Noise and TLS, yamux, a
// resource manager with libp2p's auto-scaled limits, a connection manager,
// the circuit relay transport, and what natOptions adds (relay service,
// AutoRelay, hole punching, forced reachability). No port mapping (UPnP
// multicasts on the LAN). Metrics go to reg only (nil: to a registry nobody
// reads).
func newHost(key crypto.PrivKey, cfg Config, pc parsedConfig, reg prometheus.Registerer) (host.Host, error) {
	if key == nil || key.Type() != cryptopb.KeyType_Ed25519 {
		return nil, errors.New("p2p: the peer key must be Ed25519 (derive it with p2p/identity)")
	}
	rm, err := newResourceManager(reg != nil)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh)
	if err != nil {
		_ = rm.Close()
		return nil, fmt.Errorf("p2p: connection manager: %w", err)
	}

	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(userAgent),
		// Dial and accept /p2p-circuit connections (relay client).
		libp2p.EnableRelay(),
		// Announced addresses: announce or listen addresses, relay
		// addresses kept, private ones dropped with PublicOnly.
		libp2p.AddrsFactory(addrsFactory(pc.announce, cfg.PublicOnly)),
	}
	if len(pc.listen) > 0 {
		opts = append(opts, libp2p.ListenAddrs(pc.listen...))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	if reg == nil {
		// Not libp2p.DisableMetrics: in v0.51 the event bus then registers
		// its collectors with the global default registry anyway. A private
		// registry that nobody gathers keeps the global one clean.
		reg = prometheus.NewRegistry()
	}
	opts = append(opts, libp2p.PrometheusRegisterer(reg))
	// AutoRelay asks for candidates only after libp2p.New returns.
	built := new(lateHost)
	nat, err := natOptions(cfg, pc, connectedPeers(built))
	if err != nil {
		return nil, err
	}
	opts = append(opts, nat...)

	h, err := libp2p.New(opts...)
	if err != nil {
		// libp2p closes the resource and connection managers it was given.
		return nil, fmt.Errorf("p2p: start libp2p host on %v: %w", cfg.ListenAddrs, err)
	}
	built.set(h)
	return h, nil
}

// newResourceManager uses libp2p's default limits, scaled to this machine's
// memory and file descriptors, plus libp2p's limits for its own services.
// Loopback connections are not limited per IP (libp2p's default).
//
// One change: tonmesh's request protocols hold a stream per request in
// flight (a compute request, then its payment), so libp2p's default of 64
// inbound streams per protocol and peer would cap one client at a few
// dozen concurrent requests to a proxy; it is raised to what the peer as
// a whole may open, which still bounds every peer.
func newResourceManager(withMetrics bool) (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	limits.ProtocolPeerBaseLimit.StreamsInbound = limits.PeerBaseLimit.StreamsInbound
	limits.ProtocolPeerBaseLimit.StreamsOutbound = limits.PeerBaseLimit.StreamsOutbound
	limits.ProtocolPeerBaseLimit.Streams = limits.PeerBaseLimit.Streams
	limits.ProtocolPeerLimitIncrease.StreamsInbound = limits.PeerLimitIncrease.StreamsInbound
	limits.ProtocolPeerLimitIncrease.StreamsOutbound = limits.PeerLimitIncrease.StreamsOutbound
	limits.ProtocolPeerLimitIncrease.Streams = limits.PeerLimitIncrease.Streams
	libp2p.SetDefaultServiceLimits(&limits)
	var opts []rcmgr.Option
	if !withMetrics {
		opts = append(opts, rcmgr.WithMetricsDisabled())
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()), opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	return rm, nil
}
