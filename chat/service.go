package chat

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Protocols, record namespace and store spaces the chat service owns.
const (
	MsgProtocol     = "/tonmesh/chat/msg/1.0.0"
	MailboxProtocol = "/tonmesh/chat/mailbox/1.0.0"
	// PrekeyNamespace holds each identity's prekey bundle under its peer ID.
	PrekeyNamespace = "chat-prekey"
	// SpaceName is the store space of the user's own conversations.
	SpaceName = "chat"
	// MailboxSpaceName is the store space of items held for other peers.
	MailboxSpaceName = "chat-mailbox"
)

// MaxTTL is the longest message timer.
const MaxTTL = 365 * 24 * time.Hour

// mailboxRetry is the delay before fetching again after a failed fetch
// (at start the node may not have peers yet).
const mailboxRetry = 5 * time.Second

// peerLocks is how many per-peer locks the service has.
const peerLocks = 64

// maxClockSkew is how far a peer's clock may be ahead of ours.
const maxClockSkew = 5 * time.Minute

// Config tunes the service; zero fields take the defaults shown.
type Config struct {
	// PrekeyRefresh is how often the prekey bundle is republished (6h).
	PrekeyRefresh time.Duration
	// PrekeyRotate is the age at which a new prekey replaces the current
	// one; the previous one is kept for sessions started from it (7 days).
	PrekeyRotate time.Duration
	// MailboxPoll is how often the node fetches its mailbox (1 min).
	MailboxPoll time.Duration
	// SweepInterval is how often expired messages are deleted (1s).
	SweepInterval time.Duration
	// DirectTimeout bounds one direct delivery attempt (5s).
	DirectTimeout time.Duration
	// DeviceRefresh is how long a contact's device list is used before it
	// is fetched again from the DHT, in the background (10 min).
	DeviceRefresh time.Duration
	// MailboxReplicas is how many peers hold an offline message (3).
	MailboxReplicas int
	// Holder limits what this node keeps for others.
	Holder HolderLimits
	// PlainDeposits leaves the signed envelope itself with mailbox holders,
	// as nodes did before sealed deposits: the holders learn the sender.
	// Only for holders that do not take sealed items yet, and for
	// comparison in bench-chat.
	PlainDeposits bool
	// Metrics, if set, receives the service's counters.
	Metrics prometheus.Registerer
	// ResolveName, if set, turns a name (@username or +888 number) into
	// its owner's wallet address, so that names can be recipients. The node
	// sets it to the market's on-chain lookup.
	ResolveName func(ctx context.Context, name string) (*address.Address, error)
}

// HolderLimits bound what a node holds in mailboxes for other peers.
type HolderLimits struct {
	MaxItemsPerSender int           // 1000
	MaxBytesPerSender int64         // 16 MiB
	MaxBytes          int64         // 256 MiB in all
	MaxAge            time.Duration // 14 days
	// MaxItemsPerMailbox and MaxBytesPerMailbox bound what is held for
	// one recipient, sealed and plain items together (1000, 16 MiB).
	MaxItemsPerMailbox int
	MaxBytesPerMailbox int64
	// PowBits is the proof of work a sealed deposit must carry, in leading
	// zero bits of its stamp (17: about 11 ms of one core with SHA-256
	// instructions); senders offer it first. Negative: none.
	PowBits int
	// RefusePlain refuses plain (unsealed, sender-signed) deposits, which
	// nodes that do not seal yet make; while they are taken, a depositor
	// can avoid the proof of work by signing with a fresh peer key.
	RefusePlain bool
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PrekeyRefresh, 6*time.Hour)
	def(&c.PrekeyRotate, 7*24*time.Hour)
	def(&c.MailboxPoll, time.Minute)
	def(&c.SweepInterval, time.Second)
	def(&c.DirectTimeout, 5*time.Second)
	def(&c.DeviceRefresh, 10*time.Minute)
	def(&c.Holder.MaxAge, 14*24*time.Hour)
	if c.MailboxReplicas <= 0 {
		c.MailboxReplicas = 3
	}
	if c.Holder.MaxItemsPerSender <= 0 {
		c.Holder.MaxItemsPerSender = 1000
	}
	if c.Holder.MaxBytesPerSender <= 0 {
		c.Holder.MaxBytesPerSender = 16 << 20
	}
	if c.Holder.MaxBytes <= 0 {
		c.Holder.MaxBytes = 256 << 20
	}
	if c.Holder.MaxItemsPerMailbox <= 0 {
		c.Holder.MaxItemsPerMailbox = 1000
	}
	if c.Holder.MaxBytesPerMailbox <= 0 {
		c.Holder.MaxBytesPerMailbox = 16 << 20
	}
	if c.Holder.PowBits == 0 {
		c.Holder.PowBits = 17
	}
}

// Service is one identity's chat: its conversations, sessions and prekeys,
// and the mailboxes it holds for others.
type Service struct {
	cfg   Config
	log   *slog.Logger
	net   *p2p.Network
	id    *identity.Identity
	self  peer.ID
	sign  ed25519.PrivateKey
	store *ledger.Store
	space *ledger.Space // SpaceName
	mbox  *ledger.Space // MailboxSpaceName

	locks    [peerLocks]sync.Mutex // per-peer conversation locks, by hash of the peer ID (peerLockIndex)
	sessions sessionCache          // decoded sessions; see sessionCache
	metas    metaCache             // decoded conversation metadata; see metaCache
	streams  streamPool            // idle message streams (msgstreams.go)
	glocks   groupLocks            // per-group locks (groupstore.go)
	devices  deviceState           // linked devices (devices.go)
	keys     peerKeyCache          // senders' keys, expanded (peerkeys.go)
	// msgsStopped is set once the service stops serving MsgProtocol
	// (stopServingMsgs); streams opened before refuse what comes after.
	msgsStopped atomic.Bool

	prekeys   prekeyState
	listeners listeners
	holder    holderState
	stats     counters
	metrics   *metrics

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type counters struct {
	rejected   atomic.Uint64
	duplicates atomic.Uint64
}

// New prepares the service: it takes the store spaces, loads (or makes) the
// prekeys and registers the prekey record namespace. Start serves and
// publishes.
func New(store *ledger.Store, net *p2p.Network, id *identity.Identity, cfg Config, log *slog.Logger) (*Service, error) {
	if store == nil || net == nil || id == nil || id.PeerKey == nil || id.EncKey == nil {
		return nil, errors.New("chat: New needs a store, a network and an identity with peer and encryption keys")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	raw, err := id.PeerKey.Raw()
	if err != nil || len(raw) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("chat: the peer key is not an Ed25519 key: %v", err)
	}
	s := &Service{
		cfg:   cfg,
		log:   log.With("component", "chat"),
		net:   net,
		id:    id,
		self:  id.PeerID(),
		sign:  ed25519.PrivateKey(raw),
		store: store,
	}
	if s.space, err = store.Space(SpaceName); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if s.mbox, err = store.Space(MailboxSpaceName); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if s.metrics, err = newMetrics(cfg.Metrics); err != nil {
		return nil, err
	}
	if err := s.loadPrekeys(time.Now()); err != nil {
		return nil, err
	}
	if err := s.loadDevices(); err != nil {
		return nil, err
	}
	if err := net.Records().Register(PrekeyNamespace, p2p.RecordValidatorFunc(validatePrekeyRecord)); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if err := net.Records().Register(DeviceNamespace, p2p.RecordValidatorFunc(validateDeviceRecord)); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return s, nil
}

// Start serves the chat protocols and starts the background work: prekey
// publication, mailbox fetches and the expiry sweeper. Stop ends it.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return errors.New("chat: Start called twice or after Stop")
	}
	s.started = true
	if err := s.loadHolderUsage(); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.net.Handle(MsgProtocol, func(ctx context.Context, st network.Stream) error {
		return s.serveMsgs(ctx, runCtx, st) // msgstreams.go
	}, msgStreamTimeout)
	s.net.HandleRequest(MailboxProtocol, s.handleMailbox, maxMailboxReq, 30*time.Second)
	s.loop(runCtx, "prekeys", s.cfg.PrekeyRefresh, s.publishLoopStep)
	s.startDevices(runCtx)
	s.startResend(runCtx)
	s.loop(runCtx, "mailbox", s.cfg.MailboxPoll, func(ctx context.Context) time.Duration {
		if _, err := s.FetchMailbox(ctx); err != nil {
			s.log.Debug("mailbox fetch failed; retrying soon", "err", err)
			return min(s.cfg.MailboxPoll, mailboxRetry)
		}
		return 0
	})
	s.loop(runCtx, "sweep", s.cfg.SweepInterval, func(ctx context.Context) time.Duration {
		s.sweep(ctx, time.Now())
		return 0
	})
	s.log.Info("chat service started", "peer", s.self)
	return nil
}

// loop runs step now and then every interval (or after the delay step
// returns, if positive) until ctx ends.
func (s *Service) loop(ctx context.Context, name string, interval time.Duration, step func(context.Context) time.Duration) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			next := step(ctx)
			if next <= 0 {
				next = interval
			}
			t := time.NewTimer(next)
			select {
			case <-ctx.Done():
				t.Stop()
				s.log.Debug("chat loop stopped", "loop", name)
				return
			case <-t.C:
			}
		}
	}()
}

// Stop stops serving and waits for the background work to end. It is safe to
// call more than once and without Start.
func (s *Service) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	started := s.started
	cancel := s.cancel
	s.mu.Unlock()
	if !started {
		return
	}
	s.stopServingMsgs()
	s.net.RemoveHandler(MailboxProtocol)
	s.net.RemoveHandler(DeviceProtocol)
	s.streams.close()
	cancel()
	s.wg.Wait()
}

// lockPeer serializes work on one conversation (session state, counters).
func (s *Service) lockPeer(p peer.ID) func() {
	m := &s.locks[peerLockIndex(p)]
	m.Lock()
	return m.Unlock
}

// PeerID is this node's peer ID; Identity is who it chats as.
func (s *Service) PeerID() peer.ID { return s.self }
