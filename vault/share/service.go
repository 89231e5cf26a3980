package share

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Protocol carries requests, shares, declines, element errors and
// attestations between nodes.
// It is p2p.ProtocolID("vault", "share", "1.0.0").
const Protocol protocol.ID = "/tonmesh/vault/share/1.0.0"

// SpaceName is the store space the service owns.
const SpaceName = "vault-share"

// Errors the API maps to status codes; every error returned wraps one.
var (
	ErrBadRequest  = errors.New("share: bad request")
	ErrNotFound    = errors.New("share: not found")
	ErrConflict    = errors.New("share: conflict")
	ErrUndelivered = errors.New("share: not delivered")
)

// Source is the owner's decrypted elements (implemented by the vault).
type Source interface {
	// Element returns the owner's element of type t; any error means the
	// owner cannot provide it.
	Element(ctx context.Context, t passport.ElementType) (*passport.Element, error)
	// Types lists the types the owner has.
	Types(ctx context.Context) ([]passport.ElementType, error)
}

// Journal records settlements; every approved share is recorded.
type Journal interface {
	Record(ctx context.Context, e journal.Entry) error
}

// Config tunes the service; zero fields take the defaults shown.
type Config struct {
	// DeliverTimeout bounds one delivery to another node (30s).
	DeliverTimeout time.Duration
	// MaxPending bounds the pending requests a user node keeps (100).
	MaxPending int
	// MaxShareBytes bounds the encrypted files of one received share (64 MiB).
	MaxShareBytes int64
	// AttestationTTL is how long an attestation this node signs is valid (365 days).
	AttestationTTL time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.DeliverTimeout <= 0 {
		c.DeliverTimeout = 30 * time.Second
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 100
	}
	if c.MaxShareBytes <= 0 {
		c.MaxShareBytes = 64 << 20
	}
	if c.AttestationTTL <= 0 {
		c.AttestationTTL = 365 * 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service runs both ends of Passport sharing on one node: as a user it
// keeps pending requests, approves or declines them, and keeps element
// errors and attestations it receives; as a service (or verifier) it
// issues requests, receives shares, returns element errors and signs
// attestations.
type Service struct {
	cfg   Config
	log   *slog.Logger
	net   *p2p.Network
	id    *identity.Identity
	self  peer.ID
	src   Source
	jrnl  Journal
	space *ledger.Space

	// mu serializes every state change of the store (approve, receive,
	// decline, request intake), so the once-only checks hold.
	mu       sync.Mutex
	inFlight map[string]bool // request IDs being approved or declined

	runMu   sync.Mutex
	started bool
	stopped bool
}

// New prepares the service on its store space. src may be nil on a node
// that only acts as a service; j may be nil (nothing is journaled).
func New(store *ledger.Store, net *p2p.Network, id *identity.Identity, src Source, j Journal, cfg Config, log *slog.Logger) (*Service, error) {
	if store == nil || net == nil || id == nil || id.PeerKey == nil {
		return nil, errors.New("share: New needs a store, a network and an identity with a peer key")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	s := &Service{
		cfg:      cfg,
		log:      log.With("component", "vault-share"),
		net:      net,
		id:       id,
		self:     id.PeerID(),
		src:      src,
		jrnl:     j,
		inFlight: map[string]bool{},
	}
	var err error
	if s.space, err = store.Space(SpaceName); err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	return s, nil
}

// Start serves the share protocol until Stop.
func (s *Service) Start(_ context.Context) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.started || s.stopped {
		return errors.New("share: Start called twice or after Stop")
	}
	s.started = true
	s.net.Handle(Protocol, s.handleStream, 2*time.Minute)
	s.log.Info("passport sharing started", "peer", s.self)
	return nil
}

// Stop stops serving; streams being served finish on their own (the
// network waits for them when it closes). It starts no goroutines. It is
// safe to call more than once and without Start.
func (s *Service) Stop() {
	s.runMu.Lock()
	if s.stopped {
		s.runMu.Unlock()
		return
	}
	s.stopped = true
	started := s.started
	s.runMu.Unlock()
	if !started {
		return
	}
	s.net.RemoveHandler(Protocol)
}

// PeerID is the node's identity.
func (s *Service) PeerID() peer.ID { return s.self }

// RequestID is the ID of service's request with nonce: the first 16 bytes
// of SHA-256(service ‖ 0 ‖ nonce) in hex. Both ends compute the same ID.
func RequestID(service peer.ID, nonce string) string {
	h := sha256.New()
	h.Write([]byte(service))
	h.Write([]byte{0})
	h.Write([]byte(nonce))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func checkID(id string) error {
	if len(id) != 32 {
		return fmt.Errorf("%w: id %q: use the 32-hex-digit id the list shows", ErrBadRequest, id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return fmt.Errorf("%w: id %q: use the 32-hex-digit id the list shows", ErrBadRequest, id)
	}
	return nil
}

// claim marks id in flight; the caller must release it.
func (s *Service) claim(id string) error {
	if s.inFlight[id] {
		return fmt.Errorf("%w: request %s is being answered already", ErrConflict, id)
	}
	s.inFlight[id] = true
	return nil
}

func (s *Service) release(id string) {
	s.mu.Lock()
	delete(s.inFlight, id)
	s.mu.Unlock()
}
