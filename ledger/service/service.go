package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/anchor"
	"github.com/tonmesh/tonmesh/ledger/channel"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/ton/lite"
	"github.com/tonmesh/tonmesh/ledger/ton/remote"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Config says which chain the service uses and how.
type Config struct {
	Network       identity.Network
	WalletVersion identity.WalletVersion
	// EmuHost makes this node host the emulated chain (Network = emu).
	EmuHost bool
	// EmuPeer is the chain host when this node does not host it.
	EmuPeer peer.ID
	// FaucetMax caps one faucet payout on an emu host (nanoTON); 0 turns it off.
	FaucetMax *big.Int
	// DepositPoll is how often incoming transfers are looked for.
	DepositPoll time.Duration
	// AnchorInterval is how often the journal is anchored; 0 turns it off.
	AnchorInterval time.Duration
	// GlobalConfig is the TON global config (path or URL) for mainnet/testnet.
	GlobalConfig string
}

// ErrChainNotReady is returned while the chain cannot be reached.
var ErrChainNotReady = errors.New("ledger: the chain is not reachable yet")

// ErrUnavailable is returned by every call of a service that cannot run in
// this build or configuration; its message says why.
var ErrUnavailable = errors.New("ledger: unavailable")

// ErrFaucetLimit is returned for a faucet request over ton.faucet_max_ton.
var ErrFaucetLimit = errors.New("ledger: over the faucet's limit per request")

// ErrNoFaucet is returned by Faucet where there is no faucet.
var ErrNoFaucet = errors.New("ledger: the faucet exists only on the emulated testnet chain (ton.network = \"emu\")")

// Service is a node's connection to the chain and its wallet.
type Service struct {
	cfg   Config
	log   *slog.Logger
	store *ledger.Store
	net   *p2p.Network
	id    *identity.Identity
	space *ledger.Space

	// Set once, before ready is closed; read only after it is.
	chain  ton.Chain
	emu    *emu.Chain     // set on the emu host
	client *remote.Client // set on other emu nodes
	lite   *lite.Chain    // set on mainnet/testnet
	wallet *wallet.Wallet
	server *remote.Server
	ch     channels

	journal     *journal.Journal
	anchorSpace *ledger.Space
	anchors     *anchor.Anchorer // nil when anchoring is off
	ready       chan struct{}

	disabled error // set by New: the ledger cannot run here, and why

	failMu sync.Mutex
	failed error // set when a background connection found the ledger unusable

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// New prepares the service; Start connects it. A service that cannot run
// with cfg (no chain host, no global config) is created disabled: its
// routes say why.
func New(store *ledger.Store, net *p2p.Network, id *identity.Identity, cfg Config, log *slog.Logger) (*Service, error) {
	if cfg.Network != identity.Emu && cfg.GlobalConfig == "" {
		return &Service{cfg: cfg, log: log, disabled: fmt.Errorf("%w: ton.network = %q needs ton.global_config (the path or URL of the network's global config JSON, e.g. https://ton.org/global-config.json)", ErrUnavailable, cfg.Network)}, nil
	}
	if cfg.Network == identity.Emu && !cfg.EmuHost && cfg.EmuPeer == "" {
		return &Service{cfg: cfg, log: log, disabled: fmt.Errorf("%w: no emulated chain host: set ton.emu_host = true on one node, and ton.emu_peer (or a p2p.bootstrap peer) on the others", ErrUnavailable)}, nil
	}
	if cfg.DepositPoll == 0 {
		cfg.DepositPoll = 2 * time.Second
	}
	s := &Service{cfg: cfg, log: log, store: store, net: net, id: id, ready: make(chan struct{})}
	var err error
	if s.space, err = store.Space(wallet.SpaceName); err != nil {
		return nil, err
	}
	if s.ch.out, err = store.Space(outSpaceName); err != nil {
		return nil, err
	}
	if s.ch.in, err = store.Space(channel.SpaceName); err != nil {
		return nil, err
	}
	if s.anchorSpace, err = store.Space(anchor.SpaceName); err != nil {
		return nil, err
	}
	if s.journal, err = journal.Open(store, journal.WithLogger(log)); err != nil {
		return nil, fmt.Errorf("ledger: journal: %w", err)
	}
	return s, nil
}

// Start hosts the chain or starts dialling its host, in the background.
func (s *Service) Start(ctx context.Context) error {
	if s.disabled != nil {
		s.log.Warn("ledger disabled", "reason", s.disabled)
		return nil
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.cfg.EmuHost {
		c, err := emu.New(s.store, emu.WithLogger(s.log))
		if err != nil {
			cancel()
			return fmt.Errorf("ledger: open the emulated chain: %w", err)
		}
		opts := []remote.ServerOption{remote.WithServerLogger(s.log)}
		if s.cfg.FaucetMax != nil && s.cfg.FaucetMax.Sign() > 0 {
			opts = append(opts, remote.WithFaucet(c.Faucet, s.cfg.FaucetMax))
		}
		s.server = remote.Serve(s.net, c, opts...)
		if err := s.connected(ctx, c, c, nil); err != nil {
			cancel()
			return err
		}
		s.log.Info("hosting the emulated TON chain", "global_id", c.GlobalID(), "faucet", s.cfg.FaucetMax)
	} else if err := s.dialHost(ctx, runCtx); err != nil {
		cancel()
		return err
	}
	s.net.HandleRequest(ChannelProtocol, s.handleChannelMsg, maxChannelMsg, channelMsgTimeout)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.scanDeposits(runCtx)
	}()
	return nil
}

// hostWait is how long Start waits for the chain host before going on
// without it (and connecting in the background).
const hostWait = 10 * time.Second

// dialHost connects to the chain host. It waits up to hostWait so that a
// rolled-back journal stops the node at start; past that it keeps trying in
// the background, and a rollback found then disables the ledger.
func (s *Service) dialHost(startCtx, runCtx context.Context) error {
	waitCtx, cancel := context.WithTimeout(startCtx, hostWait)
	defer cancel()
	err := s.tryDial(waitCtx)
	if err == nil || errors.Is(err, anchor.ErrRolledBack) {
		return err
	}
	s.log.Warn("the chain is not reachable yet; the ledger will connect when it is", "network", s.cfg.Network, "emu_host", s.cfg.EmuPeer)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.tryDial(runCtx); err != nil && runCtx.Err() == nil {
			s.log.Error("ledger disabled", "err", err)
			s.failMu.Lock()
			s.failed = err
			s.failMu.Unlock()
		}
	}()
	return nil
}

// tryDial retries until the host answers (then sets the service up) or ctx ends.
func (s *Service) tryDial(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	for {
		if s.cfg.Network != identity.Emu {
			// Liteservers: the first proof chain from the config's init
			// block can take many requests, hence the longer deadline.
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			c, err := lite.Dial(dctx, lite.Config{GlobalConfig: s.cfg.GlobalConfig, Network: string(s.cfg.Network)}, lite.WithLogger(s.log))
			cancel()
			if err == nil {
				s.log.Info("connected to TON liteservers", "network", s.cfg.Network)
				s.lite = c
				return s.connected(ctx, c, nil, nil)
			}
			s.log.Warn("TON liteservers not reachable", "err", err)
		} else {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			c, err := remote.Dial(dctx, s.net, s.cfg.EmuPeer)
			cancel()
			if err == nil {
				s.log.Info("connected to the emulated TON chain", "host", s.cfg.EmuPeer)
				return s.connected(ctx, c, nil, c)
			}
			s.log.Debug("chain host not reachable yet", "host", s.cfg.EmuPeer, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// connected sets up the wallet, channels and anchoring on a reachable chain,
// and reconciles the journal with the chain's anchors: a journal behind its
// last anchor is refused (anchor.ErrRolledBack).
func (s *Service) connected(ctx context.Context, chain ton.Chain, host *emu.Chain, client *remote.Client) error {
	w, err := wallet.New(chain, s.id.WalletKey, s.cfg.WalletVersion, s.space, wallet.WithLogger(s.log))
	if err != nil {
		return fmt.Errorf("ledger: wallet: %w", err)
	}
	if s.ch.payee, err = channel.NewPayee(s.ch.in, chain.GlobalID(), channel.WithPayeeLogger(s.log)); err != nil {
		return fmt.Errorf("ledger: payment channels: %w", err)
	}
	if s.cfg.AnchorInterval > 0 {
		a, err := anchor.New(s.journal, w, chain, s.anchorSpace, anchor.WithLogger(s.log), anchor.WithInterval(s.cfg.AnchorInterval))
		if err != nil {
			return fmt.Errorf("ledger: anchoring: %w", err)
		}
		if err := a.Reconcile(ctx); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		s.anchors = a
	}
	s.chain, s.emu, s.client, s.wallet = chain, host, client, w
	close(s.ready)
	return nil
}

func (s *Service) scanDeposits(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-s.ready:
	}
	if s.anchors != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.anchors.Run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("anchoring stopped", "err", err)
			}
		}()
	}
	d := s.wallet.Deposits()
	t := time.NewTicker(s.cfg.DepositPoll)
	defer t.Stop()
	for {
		if got, err := d.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("deposit scan failed", "err", err)
		} else {
			for _, dep := range got {
				s.log.Info("deposit received", "from", dep.From, "amount", wallet.FormatTON(dep.Amount), "tx", fmt.Sprintf("%x", dep.TxHash))
				s.record(ctx, journal.KindDeposit, fmt.Sprintf("deposit:%x", dep.TxHash), dep.Amount, dep.From.StringRaw())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the background work and stops serving the chain. It is safe
// to call more than once: only the first call touches the store.
func (s *Service) Stop() { s.stopOnce.Do(s.stop) }

func (s *Service) stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.server != nil {
		s.server.Stop()
	}
	if s.lite != nil {
		s.lite.Close()
	}
	if s.journal != nil {
		s.net.RemoveHandler(ChannelProtocol)
		if err := s.journal.Close(); err != nil {
			s.log.Error("closing the journal", "err", err)
		}
	}
}

// Wallet returns the node's wallet, or ErrChainNotReady.
func (s *Service) Wallet() (*wallet.Wallet, error) {
	if err := s.unavailable(); err != nil {
		return nil, err
	}
	select {
	case <-s.ready:
		return s.wallet, nil
	default:
		return nil, fmt.Errorf("%w (chain host %s)", ErrChainNotReady, s.cfg.EmuPeer)
	}
}

// unavailable says why the ledger cannot serve, or nil.
func (s *Service) unavailable() error {
	if s.disabled != nil {
		return s.disabled
	}
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if s.failed != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, s.failed)
	}
	return nil
}

// WaitReady blocks until the chain is reachable or ctx ends.
func (s *Service) WaitReady(ctx context.Context) error {
	if err := s.unavailable(); err != nil {
		return err
	}
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (chain host %s): %w", ErrChainNotReady, s.cfg.EmuPeer, ctx.Err())
	}
}

// Chain returns the chain, or ErrChainNotReady.
func (s *Service) Chain() (ton.Chain, error) {
	if _, err := s.Wallet(); err != nil {
		return nil, err
	}
	return s.chain, nil
}

// Faucet pays nano from the emulated chain's faucet to this node's wallet.
func (s *Service) Faucet(ctx context.Context, nano *big.Int) error {
	w, err := s.Wallet()
	if err != nil {
		return err
	}
	switch {
	case s.emu != nil:
		if s.cfg.FaucetMax == nil || s.cfg.FaucetMax.Sign() == 0 {
			return fmt.Errorf("%w: the faucet is off on this host (ton.faucet_max_ton = 0)", ErrNoFaucet)
		}
		if nano.Cmp(s.cfg.FaucetMax) > 0 {
			return fmt.Errorf("%w: ask for at most %s TON (ton.faucet_max_ton on the chain host)", ErrFaucetLimit, wallet.FormatTON(s.cfg.FaucetMax))
		}
		return s.emu.Faucet(ctx, w.Address(), nano)
	case s.client != nil && s.client.HasFaucet():
		return s.client.Faucet(ctx, w.Address(), nano)
	}
	return ErrNoFaucet
}
