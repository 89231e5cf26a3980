package wallet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
)

// SpaceName is the ledger space a node gives its wallet (Store.Space).
const SpaceName = "wallet"

const (
	// DefaultTTL is how long a signed order stays valid (valid_until).
	DefaultTTL = 2 * time.Minute
	// DefaultPollInterval is how often a send checks the chain for its
	// transaction, and how often Deposits.Run scans.
	DefaultPollInterval = time.Second
)

// DefaultFeeReserve is what a send keeps aside for fees when it checks the
// balance: 0.05 TON. A v5r1 transfer costs about 0.004 TON (0.006 with the
// deploy); the margin covers a bigger payload and the receiver's side.
var DefaultFeeReserve = big.NewInt(50_000_000)

// ErrInsufficientBalance is returned, before anything is signed, when the
// wallet holds less than the amount plus the fee reserve.
var ErrInsufficientBalance = errors.New("wallet: insufficient balance")

// ErrNotSent is returned when the chain ran the wallet's order but the
// wallet sent no message (its action phase failed, e.g. the balance could
// not cover amount and fees). The seqno was used; no value left.
var ErrNotSent = errors.New("wallet: the order was executed but no message was sent")

// Wallet is a node's TON wallet on one chain. It is safe for concurrent
// use: sends are serialised, one order in flight at a time.
type Wallet struct {
	chain    ton.Chain
	c        contract
	addr     *address.Address
	log      *slog.Logger
	clock    func() time.Time
	ttl      time.Duration
	poll     time.Duration
	reserve  *big.Int
	deposits *Deposits

	sendMu sync.Mutex // one order in flight: seqnos are used in order
}

// Option configures New and NewDeposits.
type Option func(*options)

type options struct {
	log     *slog.Logger
	clock   func() time.Time
	ttl     time.Duration
	poll    time.Duration
	reserve *big.Int
}

// WithLogger sends the wallet's logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock valid_until is signed from (default time.Now).
// On an emulated chain pass the chain's clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithTTL sets how long a signed order stays valid (default DefaultTTL).
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithPollInterval sets how often the chain is polled while a send waits
// and between deposit scans (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.poll = d } }

// WithFeeReserve sets what the balance check keeps aside for fees, in
// nanoTON (default DefaultFeeReserve).
func WithFeeReserve(nano *big.Int) Option { return func(o *options) { o.reserve = nano } }

func buildOptions(opts []Option) options {
	o := options{
		log:     slog.New(slog.DiscardHandler),
		clock:   time.Now,
		ttl:     DefaultTTL,
		poll:    DefaultPollInterval,
		reserve: DefaultFeeReserve,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// New opens the wallet of key, of the given version (identity.V5R1, the
// default TON wallet, or identity.V4R2), on chain. space is where its
// deposits are recorded (the node's Store.Space(SpaceName)); with a nil
// space the wallet sends but Deposits returns nil. Nothing touches the
// chain until the first call that needs it; the wallet deploys itself with
// its first send.
func New(chain ton.Chain, key ed25519.PrivateKey, version identity.WalletVersion, space *ledger.Space, opts ...Option) (*Wallet, error) {
	if chain == nil {
		return nil, errors.New("wallet: no chain given")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("wallet: key is %d bytes, want an Ed25519 private key of %d (derive it with identity.FromMnemonic)", len(key), ed25519.PrivateKeySize)
	}
	if version == "" {
		version = identity.V5R1
	}
	o := buildOptions(opts)
	if o.ttl <= 0 || o.poll <= 0 || o.reserve == nil || o.reserve.Sign() < 0 {
		return nil, fmt.Errorf("wallet: TTL and poll interval must be positive and the fee reserve not negative")
	}
	c := contract{version: version, key: key, globalID: chain.GlobalID()}
	addr, err := c.address()
	if err != nil {
		return nil, err
	}
	w := &Wallet{
		chain:   chain,
		c:       c,
		addr:    addr,
		log:     o.log.With("wallet", addr.String()),
		clock:   o.clock,
		ttl:     o.ttl,
		poll:    o.poll,
		reserve: new(big.Int).Set(o.reserve),
	}
	if space != nil {
		w.deposits = NewDeposits(chain, addr, space, opts...)
	}
	return w, nil
}

// Address is the wallet's address (non-bounceable form; testnet-flagged
// on testnet and emu).
func (w *Wallet) Address() *address.Address { return w.addr.Copy() }

// Version is the wallet contract's version.
func (w *Wallet) Version() identity.WalletVersion { return w.c.version }

// Deposits is the wallet's deposit scanner, nil if New had no space.
func (w *Wallet) Deposits() *Deposits { return w.deposits }

// Balance is the wallet's balance on chain, in nanoTON.
func (w *Wallet) Balance(ctx context.Context) (*big.Int, error) {
	st, err := w.chain.Account(ctx, w.addr)
	if err != nil {
		return nil, fmt.Errorf("wallet: read balance of %s: %w", w.addr, err)
	}
	return st.Balance, nil
}

// Seqno is the sequence number the wallet's next order must carry: the
// contract's get-method seqno, or 0 while the wallet is not deployed.
func (w *Wallet) Seqno(ctx context.Context) (uint32, error) {
	st, err := w.chain.Account(ctx, w.addr)
	if err != nil {
		return 0, fmt.Errorf("wallet: read state of %s: %w", w.addr, err)
	}
	return w.seqnoOf(ctx, st)
}

func (w *Wallet) seqnoOf(ctx context.Context, st *ton.AccountState) (uint32, error) {
	switch st.Status {
	case ton.StatusActive:
	case ton.StatusFrozen:
		return 0, fmt.Errorf("wallet: %s is frozen (storage fees unpaid): unfreeze it with a TON wallet app", w.addr)
	default:
		return 0, nil
	}
	res, err := w.chain.RunGetMethod(ctx, w.addr, "seqno")
	if err != nil {
		return 0, fmt.Errorf("wallet: read seqno of %s: %w", w.addr, err)
	}
	if len(res) != 1 {
		return 0, fmt.Errorf("wallet: seqno of %s: get-method returned %d values, want 1", w.addr, len(res))
	}
	n, ok := res[0].(*big.Int)
	if !ok || n.Sign() < 0 || !n.IsUint64() || n.Uint64() > 0xffffffff {
		return 0, fmt.Errorf("wallet: seqno of %s: get-method returned %v, want a 32-bit number", w.addr, res[0])
	}
	return uint32(n.Uint64()), nil
}
