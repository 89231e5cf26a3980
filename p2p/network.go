package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// DHTProtocolPrefix is the Kad-DHT protocol prefix of tonmesh networks.
const DHTProtocolPrefix = "/tonmesh"

// Config describes the node's place in the network.
type Config struct {
	ListenAddrs   []string // multiaddrs, e.g. /ip4/127.0.0.1/tcp/0, /ip4/127.0.0.1/udp/0/quic-v1; none: dial only
	AnnounceAddrs []string // optional: advertised instead of the listen addresses
	Bootstrap     []string // multiaddrs with /p2p/<id>
	DHTMode       string   // "server" (default), "client", "auto" (server when AutoNAT says public; also serves AutoNAT)
	MDNS          bool     // discover peers on the local network (multicast beyond loopback)
	ConnLow       int      // connection manager low watermark (default 100)
	ConnHigh      int      // connection manager high watermark (default 400)

	// PublicOnly announces (identify, DHT) only public addresses and keeps
	// only public addresses of others in the DHT: no loopback, private or
	// link-local ones. For nodes on the internet; off on LANs and tests.
	PublicOnly bool
	// Reachability is "auto" (default: AutoNAT decides), "public" or
	// "private" (the operator knows; no waiting for AutoNAT).
	Reachability string
	// RelayService serves circuit relay v2 to peers behind NAT, within
	// Relay's limits, once the node is publicly reachable.
	RelayService bool
	Relay        RelayLimits
	// AutoRelay reserves slots on relays when the node is not publicly
	// reachable and announces /p2p-circuit addresses through them.
	AutoRelay    bool
	StaticRelays []string // relay multiaddrs with /p2p/<id>; empty: relay-serving connected peers
	// HolePunching upgrades relayed connections to direct ones (DCUtR).
	HolePunching bool
}

// Option configures New.
type Option func(*options)

type options struct {
	log *slog.Logger
	reg prometheus.Registerer
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithMetrics registers libp2p's metrics (swarm, resource manager, ...) and
// tonmesh's p2p metrics with reg. Without it nothing is registered anywhere.
// Give each Network its own registry: libp2p's resource-manager collectors
// are process-wide, and gauges of a second Network on a shared registry are
// not registered.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID      peer.ID
	Addrs   []multiaddr.Multiaddr // remote addresses of the open connections
	Latency time.Duration         // moving average; 0 if unknown
}

// Network is one node's libp2p host, DHT and GossipSub router.
type Network struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	host    host.Host
	svcHost *serviceHost // host with DHT lookup and relayed streams, for services
	dht     *dht.IpfsDHT
	pubsub  *pubsub.PubSub
	records *Records
	boot    []peer.AddrInfo
	relays  []peer.AddrInfo // static relays, kept by relayKeeper

	// ctx ends when Close starts; every goroutine of the Network watches it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines (bootstrap)

	mu        sync.Mutex
	closed    bool
	started   bool
	topics    map[string]*Topic
	handlers  sync.WaitGroup // running stream handlers; Add only under mu while !closed
	stopStart func() bool    // detaches Start's ctx
	mdns      io.Closer      // set by Start when cfg.MDNS

	scoreMu sync.Mutex
	scores  map[peer.ID]float64
}

// New builds the host, the DHT and GossipSub; it starts listening but does
// not contact any peer until Start. ctx bounds construction only: the Network
// lives until Close. key must be the node's Ed25519 peer key.
func New(ctx context.Context, key crypto.PrivKey, cfg Config, opts ...Option) (*Network, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("p2p: %w", err)
	}
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	pc, err := parseConfig(&cfg)
	if err != nil {
		return nil, err
	}

	n := &Network{
		cfg:     cfg,
		log:     o.log.With("component", "p2p"),
		metrics: newMetrics(),
		boot:    pc.bootstrap,
		relays:  pc.staticRelays,
		topics:  make(map[string]*Topic),
		scores:  make(map[peer.ID]float64),
	}
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	n.records = newRecords(n.log, n.metrics)

	if err := n.build(key, pc, o.reg); err != nil {
		n.cancel()
		n.closeParts()
		return nil, err
	}
	if o.reg != nil {
		if err := n.metrics.register(o.reg, n.gauges()...); err != nil {
			_ = n.Close()
			return nil, err
		}
	}
	n.log.Info("p2p network ready", "peer", n.host.ID(), "addrs", n.host.Addrs(), "dht_mode", cfg.DHTMode,
		"reachability", cfg.Reachability, "relay_service", cfg.RelayService, "auto_relay", cfg.AutoRelay, "public_only", cfg.PublicOnly)
	return n, nil
}

// build creates the host, DHT and pubsub in dependency order.
func (n *Network) build(key crypto.PrivKey, pc parsedConfig, reg prometheus.Registerer) error {
	h, err := newHost(key, n.cfg, pc, reg)
	if err != nil {
		return err
	}
	n.host = h

	dopts := []dht.Option{
		dht.Mode(pc.dhtMode),
		dht.ProtocolPrefix(DHTProtocolPrefix),
		dht.Validator(n.records),
	}
	if n.cfg.PublicOnly {
		// Others' private addresses are neither stored nor handed out.
		dopts = append(dopts, dht.AddressFilter(FilterPublic))
	}
	if len(pc.bootstrap) > 0 {
		dopts = append(dopts, dht.BootstrapPeers(pc.bootstrap...))
	}
	d, err := dht.New(h, dopts...)
	if err != nil {
		return fmt.Errorf("p2p: start DHT: %w", err)
	}
	n.dht = d
	n.records.setDHT(d)
	n.svcHost = newServiceHost(h, d)

	ps, err := pubsub.NewGossipSub(n.ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		// v0.17 defaults to mesh-only publishing: a message published before
		// the first heartbeat grafts the topic's peers reaches nobody. Our
		// own messages go to every topic peer above the publish threshold.
		pubsub.WithFloodPublish(true),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithSeenMessagesTTL(seenMessagesTTL),
		pubsub.WithPeerScore(peerScoreParams(), peerScoreThresholds()),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(n.storeScores), scoreInspectPeriod),
		pubsub.WithLogger(n.log.With("component", "pubsub")),
	)
	if err != nil {
		return fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	n.pubsub = ps
	return nil
}

func (n *Network) gauges() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "tonmesh", Subsystem: "p2p", Name: "connected_peers",
			Help: "Peers with at least one open connection.",
		}, func() float64 { return float64(len(n.host.Network().Peers())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "tonmesh", Subsystem: "p2p", Name: "dht_routing_table_peers",
			Help: "Peers in the Kad-DHT routing table.",
		}, func() float64 { return float64(n.RoutingTableSize()) }),
	}
}

func (n *Network) storeScores(scores map[peer.ID]float64) {
	n.scoreMu.Lock()
	n.scores = scores
	n.scoreMu.Unlock()
}

// ID returns the node's peer ID.
func (n *Network) ID() peer.ID { return n.host.ID() }

// Host returns the libp2p host as services should use it: dialling a peer
// without known addresses first looks it up in the DHT (FindPeer), and
// streams may run over a relayed (limited) connection to a peer behind NAT.
func (n *Network) Host() host.Host { return n.svcHost }

// DHT returns the Kad-DHT.
func (n *Network) DHT() *dht.IpfsDHT { return n.dht }

// PubSub returns the GossipSub router. Join topics through JoinTopic, which
// installs the validator; raw joins bypass tonmesh's checks.
func (n *Network) PubSub() *pubsub.PubSub { return n.pubsub }

// Records returns the record registry.
func (n *Network) Records() *Records { return n.records }

// Addrs returns the node's addresses with /p2p/<id>, ready to give to peers.
func (n *Network) Addrs() []multiaddr.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()})
	if err != nil {
		n.log.Warn("build p2p addresses", "err", err)
		return nil
	}
	return addrs
}

// Peers lists the connected peers.
func (n *Network) Peers() []PeerInfo {
	ids := n.host.Network().Peers()
	out := make([]PeerInfo, 0, len(ids))
	for _, id := range ids {
		pi := PeerInfo{ID: id, Latency: n.host.Peerstore().LatencyEWMA(id)}
		for _, c := range n.host.Network().ConnsToPeer(id) {
			pi.Addrs = append(pi.Addrs, c.RemoteMultiaddr())
		}
		out = append(out, pi)
	}
	return out
}

// RoutingTableSize returns the number of peers in the DHT routing table.
func (n *Network) RoutingTableSize() int { return n.dht.RoutingTable().Size() }

// PeerScore returns p's GossipSub score as of the last snapshot (refreshed
// every second); 0 for a peer without one.
func (n *Network) PeerScore(p peer.ID) float64 {
	n.scoreMu.Lock()
	defer n.scoreMu.Unlock()
	return n.scores[p]
}

// Connectedness reports whether the node has a connection to p.
func (n *Network) Connectedness(p peer.ID) network.Connectedness {
	return n.host.Network().Connectedness(p)
}

// Close stops every goroutine, leaves all topics and closes the DHT and the
// host. It is safe to call more than once.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	topics := make([]*Topic, 0, len(n.topics))
	for _, t := range n.topics {
		topics = append(topics, t)
	}
	clear(n.topics)
	stopStart, mdnsSvc := n.stopStart, n.mdns
	n.mu.Unlock()
	n.stopAnnouncing()
	if mdnsSvc != nil {
		mdnsSvc.Close()
	}

	var errs []error
	for _, t := range topics {
		if err := t.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if stopStart != nil {
		stopStart()
	}
	n.cancel()
	errs = append(errs, n.closeParts())
	n.wg.Wait()
	n.handlers.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("p2p: close: %w", err)
	}
	n.log.Info("p2p network closed")
	return nil
}

// stopAnnouncing stops identify before anything else shuts down. The
// parts that stop below remove protocol handlers and listen addresses,
// and identify would push each shrunken state to the connected peers;
// a peer that takes in the last push (no addresses at all) forgets how
// to reach this node, so after a restart it cannot dial it back.
func (n *Network) stopAnnouncing() {
	if h, ok := n.host.(interface{ IDService() identify.IDService }); ok {
		_ = h.IDService().Close()
	}
}

// closeParts closes the DHT and host if they were built. Pubsub stops with
// n.ctx.
func (n *Network) closeParts() error {
	var errs []error
	if n.dht != nil {
		if err := n.dht.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close DHT: %w", err))
		}
	}
	if n.host != nil {
		if err := n.host.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close host: %w", err))
		}
	}
	return errors.Join(errs...)
}
