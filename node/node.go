package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tonmesh/tonmesh/chat"
	"github.com/tonmesh/tonmesh/compute"
	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/internal/fsutil"
	"github.com/tonmesh/tonmesh/ledger"
	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
	"github.com/tonmesh/tonmesh/ledger/ton/toncenter"
	"github.com/tonmesh/tonmesh/market"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/directory"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/share"
)

// TONAPIPath is where the node serves the toncenter v2 API over its chain
// (ledger/ton/toncenter): point TonClient at API URL + TONAPIPath + "jsonRPC".
const TONAPIPath = "/ton/api/v2/"

// Version is the tonmesh version reported by the API and the CLI.
const Version = "0.1.0-dev"

// Node is one running tonmesh participant.
type Node struct {
	cfg  *config.Config
	home Home
	id   *identity.Identity
	log  *slog.Logger

	walletVersion identity.WalletVersion
	network       identity.Network
	addr, addrRaw string // the wallet's address, friendly and raw

	reg     *prometheus.Registry
	store   *ledger.Store
	book    *addressBook
	net     *p2p.Network
	ledger  *ledgersvc.Service
	chat    *chat.Service
	vault   *vault.Vault
	share   *share.Service
	compute *compute.Service
	market  *market.Service // nil when market.registry is not set
	api     *apiServer

	started time.Time
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopMu  sync.Mutex
	stopped bool
}

// Option configures New.
type Option func(*options)

type options struct {
	log      *slog.Logger
	home     Home
	identity *identity.Identity
	chat     chat.Config
	compute  func(*compute.Config)
}

// WithLogger sets the node's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHome sets the node's home directory. Required.
func WithHome(h Home) Option { return func(o *options) { o.home = h } }

// WithIdentity uses id instead of reading the home's keystore.
func WithIdentity(id *identity.Identity) Option { return func(o *options) { o.identity = id } }

// WithChatConfig tunes the chat service (timers, mailbox limits); tests use
// it for short intervals.
func WithChatConfig(c chat.Config) Option { return func(o *options) { o.chat = c } }

// WithComputeConfig adjusts the compute service's config after New derived
// it from the node's config; tests use it to plug in a backend or shorter
// timers.
func WithComputeConfig(edit func(*compute.Config)) Option {
	return func(o *options) { o.compute = edit }
}

// New builds a node from cfg. Nothing listens until Start.
func New(cfg *config.Config, opts ...Option) (_ *Node, err error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.home == "" {
		return nil, errors.New("node: no home directory (use node.WithHome)")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, home: o.home, log: o.log, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			n.closeParts()
		}
	}()

	if n.walletVersion, err = identity.ParseWalletVersion(cfg.TON.WalletVersion); err != nil {
		return nil, fmt.Errorf("config: key \"ton.wallet_version\": %w", err)
	}
	if n.network, err = identity.ParseNetwork(cfg.TON.Network); err != nil {
		return nil, fmt.Errorf("config: key \"ton.network\": %w", err)
	}
	n.id = o.identity
	if n.id == nil {
		if n.id, err = o.home.LoadIdentity(); err != nil {
			return nil, fmt.Errorf("node: load identity: %w", err)
		}
	}
	if n.addr, n.addrRaw, err = WalletAddress(n.id, cfg); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	token, err := o.home.Token()
	if err != nil {
		return nil, err
	}

	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if n.store, err = ledger.Open(o.home.StoreDir(), ledger.WithLogger(n.log), ledger.WithMetrics(n.reg)); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if n.book, err = newAddressBook(n.store); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if n.net, err = p2p.New(context.Background(), n.id.PeerKey, p2pConfig(cfg),
		p2p.WithLogger(n.log), p2p.WithMetrics(n.reg)); err != nil {
		return nil, fmt.Errorf("node: start network on %v: %w", cfg.P2P.Listen, explainListenError(err, "p2p.listen"))
	}
	if err := directory.Register(n.net); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	lcfg, err := n.ledgerConfig()
	if err != nil {
		return nil, err
	}
	if n.ledger, err = ledgersvc.New(n.store, n.net, n.id, lcfg, n.log.With("service", "ledger")); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	o.chat.Metrics = n.reg
	o.chat.ResolveName = n.ownerOf
	if cfg.Chat.RefusePlainDeposits {
		o.chat.Holder.RefusePlain = true
	}
	if n.chat, err = chat.New(n.store, n.net, n.id, o.chat, n.log.With("service", "chat")); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := n.newVault(); err != nil {
		return nil, err
	}
	if err := n.newCompute(o); err != nil {
		return nil, err
	}
	if err := n.newMarket(); err != nil {
		return nil, err
	}
	n.registerMetrics()
	n.registerServiceMetrics()
	n.api = newAPIServer(n, token)
	n.ledger.Routes(n.api.Handle)
	n.chat.Routes(n.api.Handle)
	n.vault.Routes(n.api.Handle)
	n.share.Routes(n.api.Handle)
	n.compute.Routes(n.api.Handle)
	if n.market != nil {
		n.market.Routes(n.api.Handle)
	} else {
		n.api.Handle("/api/v1/market/", marketOff())
	}
	n.api.HandleKeyed(TONAPIPath, toncenter.New(n.ledger.Chain, toncenter.WithPrefix(TONAPIPath),
		toncenter.WithTestnet(n.network != identity.Mainnet), toncenter.WithLogger(n.log.With("service", "toncenter"))), toncenter.WriteError)
	return n, nil
}

func (n *Node) ledgerConfig() (ledgersvc.Config, error) {
	cfg := n.cfg
	lc := ledgersvc.Config{EmuHost: cfg.TON.EmuHost, GlobalConfig: cfg.TON.GlobalConfig,
		Network: n.network, WalletVersion: n.walletVersion}
	lc.FaucetMax = new(big.Int).Mul(big.NewInt(int64(cfg.TON.FaucetMaxTON)), big.NewInt(1_000_000_000))
	lc.AnchorInterval, _ = time.ParseDuration(cfg.TON.AnchorInterval) // validated
	host := cfg.TON.EmuPeer
	if host == "" && !cfg.TON.EmuHost && len(cfg.P2P.Bootstrap) > 0 {
		_, id, _ := strings.Cut(cfg.P2P.Bootstrap[0], "/p2p/")
		host = id
	}
	if host != "" {
		id, err := peer.Decode(host)
		if err != nil {
			return lc, fmt.Errorf("config: key \"ton.emu_peer\": %q is not a peer ID", host)
		}
		lc.EmuPeer = id
	}
	return lc, nil
}

func p2pConfig(cfg *config.Config) p2p.Config {
	limitDuration, limitData := cfg.P2P.RelayLimits()
	return p2p.Config{
		ListenAddrs:   cfg.P2P.Listen,
		AnnounceAddrs: cfg.P2P.Announce,
		Bootstrap:     cfg.P2P.Bootstrap,
		DHTMode:       cfg.P2P.DHTMode,
		MDNS:          cfg.P2P.MDNS,
		ConnLow:       cfg.P2P.ConnLow,
		ConnHigh:      cfg.P2P.ConnHigh,
		PublicOnly:    !cfg.P2P.AnnouncePrivate,
		Reachability:  cfg.P2P.Reachability,
		RelayService:  cfg.P2P.RelayService,
		Relay: p2p.RelayLimits{
			MaxReservations: cfg.P2P.RelayMaxReservations,
			MaxCircuits:     cfg.P2P.RelayMaxCircuits,
			LimitDuration:   limitDuration,
			LimitData:       limitData,
		},
		AutoRelay:    cfg.P2P.AutoRelay,
		StaticRelays: cfg.P2P.StaticRelays,
		HolePunching: cfg.P2P.HolePunching,
	}
}

// Start connects to the network and opens the API. It returns once the API
// listens; connecting to peers goes on in the background.
func (n *Node) Start(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.started = time.Now()
	if err := n.net.Start(runCtx); err != nil {
		cancel()
		return fmt.Errorf("node: start network: %w", err)
	}
	n.book.dialKnown(runCtx, n.net, n.log)
	if err := n.ledger.Start(runCtx); err != nil {
		cancel()
		return fmt.Errorf("node: %w", err)
	}
	for _, svc := range n.services() {
		if err := svc.Start(runCtx); err != nil {
			cancel()
			return fmt.Errorf("node: %w", err)
		}
	}
	ln, err := net.Listen("tcp", n.cfg.API.Listen)
	if err != nil {
		cancel()
		return fmt.Errorf("node: API: %w", explainListenError(err, "api.listen"))
	}
	n.api.bound(ln)
	url := n.api.url()
	if err := fsutil.WriteFileAtomic(n.home.APIURLPath(), []byte(url+"\n"), 0o600); err != nil {
		ln.Close()
		cancel()
		return fmt.Errorf("node: %w", err)
	}
	n.wg.Add(3)
	go func() {
		defer n.wg.Done()
		n.api.serve(ln)
	}()
	go func() {
		defer n.wg.Done()
		n.publishDirectory(runCtx)
	}()
	go func() {
		defer n.wg.Done()
		n.book.run(runCtx, n.net, n.log)
	}()
	n.log.Info("node started", "peer_id", n.id.PeerID().String(), "api", url, "listen", n.net.Addrs())
	return nil
}

// APIURL is the base URL of the running API ("" before Start).
func (n *Node) APIURL() string { return n.api.url() }

// Network is the node's p2p layer.
func (n *Node) Network() *p2p.Network { return n.net }

// Identity is the node's keys.
func (n *Node) Identity() *identity.Identity { return n.id }

// Ledger is the node's chain connection and wallet.
func (n *Node) Ledger() *ledgersvc.Service { return n.ledger }

// Chat is the node's chat service.
func (n *Node) Chat() *chat.Service { return n.chat }

// Vault is the node's identity-document store.
func (n *Node) Vault() *vault.Vault { return n.vault }

// Passport is the node's document-sharing service.
func (n *Node) Passport() *share.Service { return n.share }

// Compute is the node's inference service.
func (n *Node) Compute() *compute.Service { return n.compute }

// Market is the node's market service; nil when market.registry is not set.
func (n *Node) Market() *market.Service { return n.market }

// Store is the node's database.
func (n *Node) Store() *ledger.Store { return n.store }

// Stop shuts the node down gracefully: API first, store last. It is safe to
// call more than once.
func (n *Node) Stop(ctx context.Context) error {
	n.stopMu.Lock()
	defer n.stopMu.Unlock()
	if n.stopped {
		return nil
	}
	n.stopped = true
	var errs []error
	if err := n.api.shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop API: %w", err))
	}
	os.Remove(n.home.APIURLPath())
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	svcs := n.services()
	for i := len(svcs) - 1; i >= 0; i-- {
		svcs[i].Stop()
	}
	if n.ledger != nil {
		n.ledger.Stop()
	}
	if n.net != nil && n.book != nil {
		if err := n.book.save(n.net); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.closeParts())
	n.log.Info("node stopped")
	return errors.Join(errs...)
}

// closeParts closes what New opened, in reverse order.
func (n *Node) closeParts() error {
	var errs []error
	if n.net != nil {
		if err := n.net.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close network: %w", err))
		}
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// explainListenError turns "address already in use" into advice naming the
// config key to change.
func explainListenError(err error, key string) error {
	if err == nil {
		return nil
	}
	if containsAddrInUse(err) {
		env, _ := config.EnvName(key)
		return fmt.Errorf("%w (the port is busy: stop the other process or change %q in config.toml, or set %s)", err, key, env)
	}
	return err
}

func containsAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}
