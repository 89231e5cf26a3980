package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Names the market owns: its gossip topic, stream protocols and store space.
const (
	TopicName = "tonmesh/market/1"
	// SyncProtocol answers with the listings and items a node knows.
	SyncProtocol = "/tonmesh/market/sync/1.0.0"
	// CodeProtocol delivers a login code to the asset owner's node.
	CodeProtocol = "/tonmesh/market/code/1.0.0"
	// SpaceName is the market's store space.
	SpaceName = "market"
)

// Ledger is what the market needs from the node's money service
// (*ledger/service.Service implements it).
type Ledger interface {
	Wallet() (*wallet.Wallet, error)
	Chain() (ton.Chain, error)
	Record(ctx context.Context, e journal.Entry) error
}

// Messenger sends a text to a peer's user, end-to-end encrypted (the node
// wires it to chat). The market uses it to notify an asset's owner of a
// login code, beside the code stream.
type Messenger interface {
	Send(ctx context.Context, to peer.ID, text string) error
}

// Config tunes the service; zero durations take the defaults shown.
type Config struct {
	// Collection is the network's asset collection. Registry must be set;
	// the node fills GlobalID from the chain.
	Collection onchain.Collection
	// Registry: this node holds the registry key. It deploys the collection
	// if absent and may mint.
	Registry bool
	// CodeTTL is how long a login code stays usable (5 min).
	CodeTTL time.Duration
	// SettleInterval is how often known auctions are reconciled with the
	// chain and ended ones settled (30 s).
	SettleInterval time.Duration
}

func (c *Config) setDefaults() {
	if c.CodeTTL <= 0 {
		c.CodeTTL = 5 * time.Minute
	}
	if c.SettleInterval <= 0 {
		c.SettleInterval = 30 * time.Second
	}
}

// Errors the API maps to statuses; messages say what to do.
var (
	ErrBadRequest    = errors.New("market: bad request")
	ErrNotFound      = errors.New("market: not found")
	ErrForbidden     = errors.New("market: not allowed")
	ErrConflict      = errors.New("market: not possible in the asset's current state")
	ErrChainNotReady = errors.New("market: the chain is not reachable yet")
	ErrUndelivered   = errors.New("market: could not deliver")
	ErrCodeUsed      = errors.New("market: the login code was already used")
	ErrCodeExpired   = errors.New("market: the login code expired")
	ErrCodeWrong     = errors.New("market: wrong login code")
)

// Stats counts the service's gossip work since it started.
type Stats struct {
	BidsAccepted     uint64
	BidsRejected     uint64
	ListingsAccepted uint64
	ListingsRejected uint64
	// BidValidation is the time spent validating bids, in all.
	BidValidation time.Duration
	// BidSignatureChecks counts wallet signatures verified (Ed25519);
	// BidSignatureCacheHits the bids found verified already.
	BidSignatureChecks    uint64
	BidSignatureCacheHits uint64
}

// AcceptedBid is a bid this node's validator accepted (see OnBid).
type AcceptedBid struct {
	Asset     onchain.Asset
	Bidder    *address.Address
	Amount    *big.Int // the bid, without the attached gas
	OrderHash []byte
	At        time.Time
	Leads     bool // it became the leading bid in this node's view
}

// Service is one node's market: its view of auctions, its gossip
// validators, the bid mempool relay and the login codes.
type Service struct {
	cfg    Config
	log    *slog.Logger
	net    *p2p.Network
	id     *identity.Identity
	ledger Ledger
	msgr   Messenger
	space  *ledger.Space

	collAddr *address.Address

	mu       sync.Mutex
	auctions map[string]*auction // by asset name
	known    map[string]onchain.Asset
	orders   map[string]time.Time // accepted order hashes → valid until
	seqnos   map[string]seenSeqno // wallet (raw) → its latest accepted order
	items    map[string]*address.Address
	hooks    map[int]func(AcceptedBid)
	nextHook int

	walletMu sync.Mutex       // one market order of this node's wallet at a time
	codesMu  sync.Mutex       // login code records
	now      func() time.Time // the clock of login code expiry

	topic   *p2p.Topic
	sub     *p2p.Subscription
	relayq  chan relayed
	refresh chan onchain.Asset

	stats struct {
		bidsOK, bidsBad, listOK, listBad atomic.Uint64
		bidNanos                         atomic.Int64
		verifies, verifyHits             atomic.Uint64
	}
	verified verifiedBids

	life    sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type seenSeqno struct {
	seqno      uint32
	hash       string
	validUntil time.Time
}

// New prepares the service: it takes the store space and loads what the
// node knew. Start joins the topic and serves the protocols.
func New(store *ledger.Store, net *p2p.Network, id *identity.Identity, l Ledger, m Messenger, cfg Config, log *slog.Logger) (*Service, error) {
	if store == nil || net == nil || id == nil || id.PeerKey == nil || l == nil {
		return nil, errors.New("market: New needs a store, a network, an identity and the ledger")
	}
	if cfg.Collection.Registry == nil {
		return nil, errors.New("market: config: the collection's registry address is not set (market.registry: the TON address of the registry wallet)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	coll, err := cfg.Collection.Address()
	if err != nil {
		return nil, fmt.Errorf("market: collection address: %w", err)
	}
	s := &Service{
		cfg: cfg, log: log.With("component", "market"), net: net, id: id, ledger: l, msgr: m,
		collAddr: coll,
		now:      time.Now,
		auctions: make(map[string]*auction),
		known:    make(map[string]onchain.Asset),
		orders:   make(map[string]time.Time),
		seqnos:   make(map[string]seenSeqno),
		items:    make(map[string]*address.Address),
		hooks:    make(map[int]func(AcceptedBid)),
		relayq:   make(chan relayed, 256),
		refresh:  make(chan onchain.Asset, 256),
	}
	if s.space, err = store.Space(SpaceName); err != nil {
		return nil, fmt.Errorf("market: %w", err)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start joins the market topic, serves the sync and code protocols and
// starts the background work: the relay of bids to the chain, the
// reconcile-and-settle pass and the catch-up from peers. Stop ends it.
func (s *Service) Start(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.started || s.stopped {
		return errors.New("market: Start called twice or after Stop")
	}
	topic, err := s.net.JoinTopic(TopicName, p2p.TopicSpec{MaxSize: MaxMessage, MaxAge: p2p.MaxTopicMaxAge, Validate: s.validate})
	if err != nil {
		return fmt.Errorf("market: %w", err)
	}
	sub, err := topic.Subscribe()
	if err != nil {
		_ = topic.Close()
		return fmt.Errorf("market: %w", err)
	}
	s.topic, s.sub, s.started = topic, sub, true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.net.HandleRequest(SyncProtocol, s.handleSync, 64, 30*time.Second)
	s.net.HandleRequest(CodeProtocol, s.handleCode, maxCodeMsg, 30*time.Second)
	s.goRun(func() { s.drain(runCtx) })
	s.goRun(func() { s.relayLoop(runCtx) })
	s.goRun(func() { s.refreshLoop(runCtx) })
	s.goRun(func() { s.chainLoop(runCtx) })
	s.goRun(func() { s.resyncLoop(runCtx) })
	s.log.Info("market service started", "collection", s.collAddr.String(), "registry", s.cfg.Registry)
	return nil
}

func (s *Service) goRun(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// Stop stops serving and waits for the background work. It is safe to
// call more than once and without Start.
func (s *Service) Stop() {
	s.life.Lock()
	if s.stopped {
		s.life.Unlock()
		return
	}
	s.stopped = true
	started := s.started
	s.life.Unlock()
	if !started {
		return
	}
	s.net.RemoveHandler(SyncProtocol)
	s.net.RemoveHandler(CodeProtocol)
	s.cancel()
	s.sub.Cancel()
	s.wg.Wait()
	if err := s.topic.Close(); err != nil {
		s.log.Debug("closing the market topic", "err", err)
	}
}

// drain consumes the subscription: validated messages already did their
// work in the validator, but a subscription keeps this node in the mesh.
func (s *Service) drain(ctx context.Context) {
	for {
		if _, err := s.sub.Next(ctx); err != nil {
			return
		}
	}
}

// Stats returns the gossip counters.
func (s *Service) Stats() Stats {
	return Stats{
		BidsAccepted: s.stats.bidsOK.Load(), BidsRejected: s.stats.bidsBad.Load(),
		ListingsAccepted: s.stats.listOK.Load(), ListingsRejected: s.stats.listBad.Load(),
		BidValidation:      time.Duration(s.stats.bidNanos.Load()),
		BidSignatureChecks: s.stats.verifies.Load(), BidSignatureCacheHits: s.stats.verifyHits.Load(),
	}
}

// OnBid calls fn, synchronously from the validator (keep it short), for
// every bid this node accepts, until the returned cancel is called. For
// tools and benchmarks.
func (s *Service) OnBid(fn func(AcceptedBid)) (cancel func()) {
	s.mu.Lock()
	id := s.nextHook
	s.nextHook++
	s.hooks[id] = fn
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.hooks, id)
		s.mu.Unlock()
	}
}

// chain returns the chain or ErrChainNotReady.
func (s *Service) chain() (ton.Chain, error) {
	c, err := s.ledger.Chain()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChainNotReady, err)
	}
	return c, nil
}

// wallet returns the node's wallet or ErrChainNotReady.
func (s *Service) wallet() (*wallet.Wallet, error) {
	w, err := s.ledger.Wallet()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChainNotReady, err)
	}
	return w, nil
}

// Collection is the collection's address.
func (s *Service) Collection() *address.Address { return s.collAddr.Copy() }

// itemAddress returns (cached) the address of a's item.
func (s *Service) itemAddress(a onchain.Asset) (*address.Address, error) {
	s.mu.Lock()
	addr := s.items[a.Name]
	s.mu.Unlock()
	if addr != nil {
		return addr, nil
	}
	addr, err := s.cfg.Collection.ItemAddress(a)
	if err != nil {
		return nil, fmt.Errorf("market: item address of %s: %w", a, err)
	}
	s.mu.Lock()
	s.items[a.Name] = addr
	s.mu.Unlock()
	return addr, nil
}

// readItem reads a's item from the chain.
func (s *Service) readItem(ctx context.Context, a onchain.Asset) (*onchain.Item, error) {
	c, err := s.chain()
	if err != nil {
		return nil, err
	}
	it, err := onchain.ReadItem(ctx, c, s.cfg.Collection, a)
	if err != nil {
		return nil, fmt.Errorf("market: read %s from the chain: %w", a, err)
	}
	return it, nil
}
