package anchor

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// SpaceName is the ledger space anchors are kept in.
const SpaceName = "anchor"

// Defaults for New's options.
const (
	DefaultInterval   = 10 * time.Minute
	DefaultMaxRecords = 1 << 16
	DefaultStaleAfter = 15 * time.Minute // well past wallet.DefaultTTL
)

// DefaultAmount is the value an anchor message carries: 0.001 TON. Sent
// to the wallet itself, it comes straight back; only fees are spent.
var DefaultAmount = big.NewInt(1_000_000)

var (
	// ErrRolledBack means the chain holds an anchor the journal cannot
	// match: the database was rolled back. Do not continue on it.
	ErrRolledBack = errors.New("anchor: the journal was rolled back behind an anchor confirmed on chain")
	// ErrNothingToAnchor is returned by AnchorNow when every record is
	// already anchored.
	ErrNothingToAnchor = errors.New("anchor: no new journal records to anchor")
	// ErrPending is returned by AnchorNow while an earlier anchor is still
	// waiting for its transaction.
	ErrPending = errors.New("anchor: an earlier anchor is still pending")
	// ErrNotAnchored is returned by Prove for a record no confirmed anchor
	// covers yet.
	ErrNotAnchored = errors.New("anchor: record is not covered by a confirmed anchor yet")
)

// Status is an anchor's lifecycle state.
type Status string

const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	// StatusAbandoned: never found on chain within the stale time; its
	// range is anchored again by a later anchor.
	StatusAbandoned Status = "abandoned"
)

// Anchor is one commitment of a range of journal records to the chain.
type Anchor struct {
	ID       uint64 `json:"id"`
	FromSeq  uint64 `json:"from_seq"` // exclusive
	ToSeq    uint64 `json:"to_seq"`   // inclusive
	Root     []byte `json:"root"`
	HeadHash []byte `json:"head_hash"`
	Status   Status `json:"status"`
	// Wallet sent the anchor (raw form "0:<hex>"); Dest received it.
	Wallet string `json:"wallet"`
	Dest   string `json:"dest"`
	// BodyHash is the cell hash of the message body, how the transaction
	// is found again; ScanFromLT the wallet's last transaction before it.
	BodyHash   []byte `json:"body_hash"`
	ScanFromLT uint64 `json:"scan_from_lt"`
	// MsgHash is the normalised hash of the wallet's external order, once
	// sent.
	MsgHash     []byte    `json:"msg_hash,omitempty"`
	TxLT        uint64    `json:"tx_lt,omitempty"`
	TxHash      []byte    `json:"tx_hash,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
}

// Body is what the anchor's message commits to.
func (a *Anchor) Body() *Body {
	return &Body{FromSeq: a.FromSeq, ToSeq: a.ToSeq, Root: a.Root, Head: a.HeadHash}
}

// Wallet is what anchoring needs of the node's wallet (*wallet.Wallet).
type Wallet interface {
	Address() *address.Address
	SendPayload(ctx context.Context, to *address.Address, amount *big.Int, body *cell.Cell, bounce bool, init *tlb.StateInit) (*wallet.Receipt, error)
}

// Anchorer anchors one journal from one wallet. It is safe for concurrent
// use; anchors are made one at a time.
type Anchorer struct {
	j     *journal.Journal
	w     Wallet
	chain ton.Chain
	space *ledger.Space
	o     options
	addr  *address.Address
	dest  *address.Address

	mu         sync.Mutex // held while reconciling and anchoring
	reconciled bool
}

// Option configures New.
type Option func(*options)

type options struct {
	log        *slog.Logger
	clock      func() time.Time
	interval   time.Duration
	maxRecords uint64
	staleAfter time.Duration
	amount     *big.Int
	dest       *address.Address
}

// WithLogger sends the anchorer's logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock for created/confirmed times and staleness.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithInterval sets how often Run anchors new records.
func WithInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithMaxRecords caps the records one anchor covers; the rest wait for
// the next one.
func WithMaxRecords(n uint64) Option { return func(o *options) { o.maxRecords = n } }

// WithStaleAfter sets how long a pending anchor not found on chain is
// waited for before it is abandoned (keep it well above the wallet TTL).
func WithStaleAfter(d time.Duration) Option { return func(o *options) { o.staleAfter = d } }

// WithAmount sets the nanoTON an anchor message carries.
func WithAmount(nano *big.Int) Option { return func(o *options) { o.amount = nano } }

// WithDestination sends anchors to addr instead of the wallet itself.
func WithDestination(addr *address.Address) Option { return func(o *options) { o.dest = addr } }

// New returns an anchorer of j that sends from w on chain and keeps its
// state in space (the node's Store.Space(SpaceName)). Call Reconcile
// before anything else (Run and AnchorNow do it if it has not succeeded).
func New(j *journal.Journal, w Wallet, chain ton.Chain, space *ledger.Space, opts ...Option) (*Anchorer, error) {
	if j == nil || w == nil || chain == nil || space == nil {
		return nil, errors.New("anchor: journal, wallet, chain and space are all required")
	}
	o := options{
		log:        slog.New(slog.DiscardHandler),
		clock:      time.Now,
		interval:   DefaultInterval,
		maxRecords: DefaultMaxRecords,
		staleAfter: DefaultStaleAfter,
		amount:     DefaultAmount,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.interval <= 0 || o.staleAfter <= 0 || o.maxRecords == 0 || o.amount == nil || o.amount.Sign() <= 0 {
		return nil, errors.New("anchor: interval, stale time, max records and amount must be positive")
	}
	a := &Anchorer{j: j, w: w, chain: chain, space: space, o: o, addr: w.Address()}
	a.dest = a.addr
	if o.dest != nil {
		a.dest = o.dest
	}
	a.o.log = o.log.With("component", "anchor")
	return a, nil
}

func anchorKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte("a"), id) }

func (a *Anchorer) save(an *Anchor) error {
	v, err := json.Marshal(an)
	if err != nil {
		return fmt.Errorf("anchor: encode anchor %d: %w", an.ID, err)
	}
	if err := a.space.Set(anchorKey(an.ID), v); err != nil {
		return fmt.Errorf("anchor: write anchor %d: %w", an.ID, err)
	}
	return nil
}

// List returns every anchor, oldest first.
func (a *Anchorer) List() ([]*Anchor, error) {
	var out []*Anchor
	err := a.space.Iterate([]byte("a"), func(k, v []byte) error {
		an := &Anchor{}
		if err := json.Unmarshal(v, an); err != nil {
			return fmt.Errorf("anchor: anchor record %x is damaged (restore the store from a backup): %w", k, err)
		}
		out = append(out, an)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// state is the last confirmed anchor, the pending one, and the next ID.
type state struct {
	confirmed *Anchor
	pending   *Anchor
	nextID    uint64
}

func (a *Anchorer) state() (state, error) {
	all, err := a.List()
	if err != nil {
		return state{}, err
	}
	st := state{nextID: 1}
	for _, an := range all {
		st.nextID = an.ID + 1
		switch an.Status {
		case StatusConfirmed:
			st.confirmed = an
		case StatusPending:
			st.pending = an
		}
	}
	return st, nil
}
