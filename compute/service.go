package compute

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/compute/attest"
	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Protocols, topic and store space the compute service owns.
var (
	// InferProtocol carries a client's request to a proxy and the sealed answer back.
	InferProtocol = p2p.ProtocolID("compute", "infer", "1.0.0")
	// WorkProtocol carries a sealed request from a proxy to a worker and the answer back.
	WorkProtocol = p2p.ProtocolID("compute", "work", "1.0.0")
)

const (
	// OffersTopic is the gossip topic of worker offers and proxy announcements.
	OffersTopic = "tonmesh/compute/offers/1"
	// SpaceName is the compute service's store space: the channel this node
	// pays each proxy or worker through, and the proxy's book (what each
	// client channel was billed, and the proxy's counters).
	SpaceName = "compute"
)

// Payments is what the compute service needs from the node's ledger
// (*ledger/service.Service implements it).
type Payments interface {
	OpenChannel(ctx context.Context, payee peer.ID, deposit *big.Int, timeout time.Duration) (*address.Address, error)
	Pay(ctx context.Context, ch *address.Address, amount *big.Int) (*big.Int, error)
	Incoming(ch *address.Address) (deposited, paid *big.Int, err error)
	Record(ctx context.Context, e journal.Entry) error
	RecordAll(ctx context.Context, es []journal.Entry) error
}

// DefaultCommissionPercent is the proxy commission of a default node.
const DefaultCommissionPercent = 5

// Config sets a node's compute roles; zero fields take the defaults shown.
type Config struct {
	// Worker and Proxy are roles; every node is a client.
	Worker, Proxy bool
	// Backend runs the models (worker only; required there).
	Backend backend.Backend
	// PricePrompt and PriceCompletion are the worker's prices in nanoTON
	// per million tokens (nil: 0).
	PricePrompt, PriceCompletion *big.Int
	// Concurrency is how many requests the worker runs at once (4).
	Concurrency int
	// Attester produces the worker's attestation (attest.NoneAttester()).
	Attester attest.Attester
	// AllowUnattested lets this node, as a client, use workers attested
	// "none" (testnets only); their answers are marked not confidential.
	AllowUnattested bool
	// CommissionPercent is the proxy's share on top of worker prices; 0
	// is none (DefaultCommissionPercent is what a node's config defaults to).
	CommissionPercent float64
	// MaxPrice is the client's default cap in nanoTON per million tokens,
	// commission included, compared with the higher of an offer's prompt
	// and completion prices; nil: no cap.
	MaxPrice *big.Int
	// ChannelDeposit is deposited in each payment channel this node opens,
	// client → proxy and proxy → worker (10 TON).
	ChannelDeposit *big.Int
	// OfferInterval is how often offers and proxy announcements are
	// re-published (10s); OfferTTL how long each is valid (30s).
	OfferInterval, OfferTTL time.Duration
	// FirstTokenTimeout, IdleTimeout and TotalTimeout bound a request: to
	// its first chunk, between chunks, and in all (30s, 30s, 10m).
	FirstTokenTimeout, IdleTimeout, TotalTimeout time.Duration
	// MaxTokens is the max_tokens a client request gets when it sets none
	// (512); the proxy reserves the cost of that many completion tokens.
	MaxTokens int
	// KeyLifetime is how long a worker's HPKE key is used (1h); it is
	// re-attested on each rotation.
	KeyLifetime time.Duration
	// ProxyTimeout is how long a client waits to reach a proxy and for its
	// offer before it tries the next proxy (10s); ProxyDownFor how long a
	// proxy that did not answer is tried only after the others (1m).
	ProxyTimeout, ProxyDownFor time.Duration
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.OfferInterval, 10*time.Second)
	def(&c.OfferTTL, 30*time.Second)
	def(&c.FirstTokenTimeout, 30*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.TotalTimeout, 10*time.Minute)
	def(&c.KeyLifetime, time.Hour)
	def(&c.ProxyTimeout, 10*time.Second)
	def(&c.ProxyDownFor, time.Minute)
	if c.OfferTTL > maxOfferTTL {
		c.OfferTTL = maxOfferTTL
	}
	if c.KeyLifetime > maxKeyLifetime {
		c.KeyLifetime = maxKeyLifetime
	}
	if c.KeyLifetime < 4*c.OfferTTL {
		c.KeyLifetime = 4 * c.OfferTTL
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Concurrency > maxConcurrency {
		c.Concurrency = maxConcurrency
	}
	if c.Attester == nil {
		c.Attester = attest.NoneAttester()
	}
	if c.ChannelDeposit == nil || c.ChannelDeposit.Sign() <= 0 {
		c.ChannelDeposit = big.NewInt(10_000_000_000)
	}
	if c.PricePrompt == nil {
		c.PricePrompt = new(big.Int)
	}
	if c.PriceCompletion == nil {
		c.PriceCompletion = new(big.Int)
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = 512
	}
}

func (c *Config) check() error {
	if c.Worker && c.Backend == nil {
		return errors.New("compute: a worker needs a backend (compute.backend)")
	}
	if c.PricePrompt.Sign() < 0 || c.PriceCompletion.Sign() < 0 {
		return errors.New("compute: worker prices must not be negative")
	}
	if c.CommissionPercent < 0 || c.CommissionPercent > 100 {
		return fmt.Errorf("compute: proxy commission %v%% must be between 0 and 100", c.CommissionPercent)
	}
	if c.MaxPrice != nil && c.MaxPrice.Sign() < 0 {
		return errors.New("compute: max price must not be negative")
	}
	return nil
}

// Option adjusts a Service.
type Option func(*Service)

// WithTrafficTap is a test hook: tap sees every byte this node, as a proxy,
// reads or writes on compute streams (client and worker side), so a test
// can check that no content crosses the proxy in clear. tap must not keep
// or modify its argument beyond the call and may be called concurrently.
func WithTrafficTap(tap func(b []byte)) Option {
	return func(s *Service) { s.tap = tap }
}

// Service is one node's compute: the client role always, and the worker and
// proxy roles when configured.
type Service struct {
	cfg   Config
	log   *slog.Logger
	net   *p2p.Network
	id    *identity.Identity
	self  peer.ID
	names peerNames // text forms of peer IDs, memoised
	pay   Payments  // nil: requests are free (tests and benchmarks only)
	space *ledger.Space
	tap   func([]byte)

	table  *offerTable
	topic  *p2p.Topic
	worker *workerState // nil unless cfg.Worker
	proxy  *proxyState  // nil unless cfg.Proxy
	client clientState
	health proxyHealth
	// verified holds the worker offers this client has verified; picks
	// the worker each proxy picked last, per model.
	verified verifiedOffers
	picks    lastPicks
	// rounds gathers payments per channel into one voucher (payround.go).
	rounds payRounds
	// records gathers job_paid entries into one journal commit (recordround.go).
	records recordRounds

	mu       sync.Mutex
	started  bool
	stopped  bool
	runCtx   context.Context // ends at Stop; requests in flight end with it
	cancel   context.CancelFunc
	wg       sync.WaitGroup // background loops
	handlers sync.WaitGroup // requests in flight (track)
	settling sync.WaitGroup // payments for answers already delivered (background)
	// settleSlots holds a token per payment running in the background.
	settleSlots chan struct{}
}

// New prepares the service and takes its store space. pay may be nil only
// in tests and benchmarks: requests are then free.
func New(store *ledger.Store, net *p2p.Network, id *identity.Identity, pay Payments, cfg Config, log *slog.Logger, opts ...Option) (*Service, error) {
	if store == nil || net == nil || id == nil || id.PeerKey == nil {
		return nil, errors.New("compute: New needs a store, a network and an identity with a peer key")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg:   cfg,
		log:   log.With("component", "compute"),
		net:   net,
		id:    id,
		self:  id.PeerID(),
		pay:   pay,
		table: newOfferTable(),

		settleSlots: make(chan struct{}, maxSettling),
	}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.space, err = store.Space(SpaceName); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	s.client.init()
	s.health.init()
	if cfg.Worker {
		s.worker = newWorkerState(cfg.Concurrency)
	}
	if cfg.Proxy {
		s.proxy = newProxyState(commissionBP(cfg.CommissionPercent))
		if err := s.proxy.loadBook(s.space, s.log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start joins the offers topic, serves the role protocols and starts
// publishing offers (worker) and announcements (proxy). Stop ends it.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return errors.New("compute: Start called twice or after Stop")
	}
	s.started = true
	topic, err := s.net.JoinTopic(OffersTopic, p2p.TopicSpec{
		MaxSize: MaxSignedSize,
		MaxAge:  p2p.MaxTopicMaxAge,
		Validate: func(_ context.Context, from peer.ID, payload []byte) error {
			_, err := decodeGossip(payload, from, time.Now())
			return err
		},
		Quick: true, // a decode and a signature check
	})
	if err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	sub, err := topic.Subscribe()
	if err != nil {
		_ = topic.Close()
		return fmt.Errorf("compute: %w", err)
	}
	s.topic = topic
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.runCtx, s.cancel = runCtx, cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.receiveGossip(runCtx, sub)
	}()
	s.loop(runCtx, "prune", s.cfg.OfferInterval, func(context.Context) { s.table.prune(time.Now()) })
	if s.worker != nil {
		if err := s.rotateKey(ctx, time.Now()); err != nil {
			cancel()
			s.wg.Wait()
			_ = topic.Close()
			return err
		}
		s.net.Handle(WorkProtocol, s.handler(s.serveWork), s.workTimeout())
		s.loop(runCtx, "offer", s.cfg.OfferInterval, s.publishOffer)
	}
	if s.proxy != nil {
		s.net.Handle(InferProtocol, s.handler(s.serveInfer), s.inferTimeout())
		s.loop(runCtx, "announce", s.cfg.OfferInterval, s.publishProxy)
	}
	s.log.Info("compute service started", "worker", s.cfg.Worker, "proxy", s.cfg.Proxy)
	return nil
}

// paymentWait bounds the payment exchange after an answer.
const paymentWait = 30 * time.Second

// workTimeout bounds a request on a worker: the answer, then the payment.
func (s *Service) workTimeout() time.Duration { return s.cfg.TotalTimeout + 2*paymentWait }

// inferTimeout bounds a request on a proxy: the worker's, then the
// client's payment.
func (s *Service) inferTimeout() time.Duration { return s.workTimeout() + paymentWait }

// background runs pay, a payment for an answer already delivered, in its
// own goroutine, bounded by paymentWait; Stop waits for it before it
// cancels requests. It reports false, and runs nothing, once the service
// is stopping.
//
// At most maxSettling payments run behind the answers; past that, the
// caller makes its own payment before it returns, so a client that pays
// more slowly than it is answered is slowed down instead of piling up
// open streams and unpaid bills.
func (s *Service) background(pay func(ctx context.Context)) bool {
	s.mu.Lock()
	if s.stopped || !s.started {
		s.mu.Unlock()
		return false
	}
	s.settling.Add(1)
	s.mu.Unlock()
	run := func() {
		defer s.settling.Done()
		ctx, cancel := context.WithTimeout(context.Background(), paymentWait)
		defer cancel()
		pay(ctx)
	}
	select {
	case s.settleSlots <- struct{}{}:
		go func() {
			defer func() { <-s.settleSlots }()
			run()
		}()
	default:
		run()
	}
	return true
}

// maxSettling bounds the payments a client runs behind its answers.
const maxSettling = 512

// loop runs step now and then every interval until ctx ends.
func (s *Service) loop(ctx context.Context, name string, interval time.Duration, step func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			step(ctx)
			select {
			case <-ctx.Done():
				s.log.Debug("compute loop stopped", "loop", name)
				return
			case <-t.C:
			}
		}
	}()
}

// Stop withdraws the worker's offer, stops serving, cancels the requests
// in flight and waits for them and the background work. It is safe to call
// more than once and without Start.
func (s *Service) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	started := s.started
	s.mu.Unlock()
	if !started {
		return
	}
	if s.worker != nil {
		s.net.RemoveHandler(WorkProtocol)
		s.withdraw()
	}
	if s.proxy != nil {
		s.net.RemoveHandler(InferProtocol)
	}
	// Pay for what was answered before cancelling anything: each payment
	// is bounded by paymentWait.
	s.settling.Wait()
	s.cancel()
	s.handlers.Wait()
	s.rounds.wg.Wait()
	s.records.wg.Wait()
	s.wg.Wait()
	if s.proxy != nil {
		// Counters not yet written with a bill (refusals, failures, free jobs).
		if err := s.proxy.save(); err != nil {
			s.log.Warn("saving the proxy's counters at stop failed", "err", err)
		}
	}
	if err := s.topic.Close(); err != nil {
		s.log.Debug("closing the offers topic", "err", err)
	}
}

// PeerID is this node's peer ID.
func (s *Service) PeerID() peer.ID { return s.self }
