package emu

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm"
)

// SpaceName is the ledger space the chain keeps its state in.
const SpaceName = "chain"

// DefaultGlobalID is the emulated chain's global ID: testnet's, so wallet
// addresses and v5r1 wallet IDs match what identity.Emu computes.
const DefaultGlobalID int32 = -3

// DefaultGenesisSupply is the faucet's balance at genesis: 1e9 TON.
var DefaultGenesisSupply = new(big.Int).Mul(big.NewInt(1_000_000_000), big.NewInt(1_000_000_000))

// Chain is an in-process TON chain. It is safe for concurrent use.
type Chain struct {
	log      *slog.Logger
	space    *ledger.Space
	cfg      *tvm.PreparedBlockchainConfig
	vm       *tvm.TVM
	globalID int32
	clock    func() time.Time

	faucetKey  ed25519.PrivateKey
	faucetAddr *address.Address
	faucetMu   sync.Mutex // one faucet transfer at a time (seqno)

	mu       sync.Mutex // guards everything below; held for a whole step
	accounts map[acctKey]*accountEntry
	meta     meta
}

var _ ton.Chain = (*Chain)(nil)

// Option configures New.
type Option func(*options)

type options struct {
	log      *slog.Logger
	clock    func() time.Time
	globalID int32
	supply   *big.Int
}

// WithLogger sends the chain's logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the source of block unix times (default time.Now). Block
// times never go backwards even if the clock does.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithGlobalID sets the chain's global ID (default -3, testnet's). It
// takes effect at genesis; a reopened chain must be given the same ID.
func WithGlobalID(id int32) Option { return func(o *options) { o.globalID = id } }

// WithGenesisSupply sets the faucet's balance at genesis, in nanoTON.
func WithGenesisSupply(nano *big.Int) Option { return func(o *options) { o.supply = nano } }

// New opens the chain kept in store's space "chain", creating it (genesis:
// the faucet wallet, deployed and funded) when the space is empty. The
// caller closes store after it stops using the chain.
func New(store *ledger.Store, opts ...Option) (*Chain, error) {
	o := options{
		log:      slog.New(slog.DiscardHandler),
		clock:    time.Now,
		globalID: DefaultGlobalID,
		supply:   DefaultGenesisSupply,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.supply == nil || o.supply.Sign() <= 0 {
		return nil, fmt.Errorf("emu: genesis supply must be positive, got %v", o.supply)
	}
	space, err := store.Space(SpaceName)
	if err != nil {
		return nil, fmt.Errorf("emu: reserve ledger space: %w", err)
	}
	cfg, err := buildConfig(o.globalID)
	if err != nil {
		return nil, err
	}
	key, addr, err := faucetWallet(o.globalID)
	if err != nil {
		return nil, err
	}
	c := &Chain{
		log:        o.log,
		space:      space,
		cfg:        cfg,
		vm:         tvm.NewTVM(),
		globalID:   o.globalID,
		clock:      o.clock,
		faucetKey:  key,
		faucetAddr: addr,
		accounts:   make(map[acctKey]*accountEntry),
	}
	raw, err := space.Get(keyMeta)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		if err := c.genesis(o.supply); err != nil {
			return nil, err
		}
		c.log.Info("emulated TON chain created", "global_id", c.globalID, "faucet", c.faucetAddr.String())
	case err != nil:
		return nil, fmt.Errorf("emu: read chain meta: %w", err)
	default:
		if c.meta, err = decodeMeta(raw); err != nil {
			return nil, err
		}
		c.log.Info("emulated TON chain reopened", "steps", c.meta.steps, "lt", c.meta.lt)
	}
	return c, nil
}

// GlobalID implements ton.Chain.
func (c *Chain) GlobalID() int32 { return c.globalID }

// FaucetAddress is the address of the testnet faucet wallet.
func (c *Chain) FaucetAddress() *address.Address { return c.faucetAddr }

// Account implements ton.Chain.
func (c *Chain) Account(ctx context.Context, addr *address.Address) (*ton.AccountState, error) {
	if err := checkAddr(addr); err != nil {
		return nil, err
	}
	c.mu.Lock()
	e, err := c.account(nil, keyOf(addr))
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return stateOf(addr, e)
}

// stateOf converts an executor account into the project's type.
func stateOf(addr *address.Address, e *accountEntry) (*ton.AccountState, error) {
	sa := e.prepared.ShardAccount()
	st := e.prepared.State()
	out := &ton.AccountState{
		Address: addr,
		Status:  ton.StatusNonExist,
		Balance: new(big.Int),
	}
	if sa != nil && sa.LastTransLT != 0 {
		out.LastTxLT = sa.LastTransLT
		out.LastTxHash = append([]byte(nil), sa.LastTransHash...)
	}
	if st == nil || !st.IsValid {
		return out, nil
	}
	out.Balance.Set(st.Balance.Nano())
	switch st.Status {
	case tlb.AccountStatusActive:
		out.Status = ton.StatusActive
		if st.StateInit != nil {
			out.Code, out.Data = st.StateInit.Code, st.StateInit.Data
		}
	case tlb.AccountStatusFrozen:
		out.Status = ton.StatusFrozen
	case tlb.AccountStatusUninit:
		out.Status = ton.StatusUninit
	}
	return out, nil
}

// Transactions implements ton.Chain: it reads the store from afterLT on,
// only the transactions it returns.
func (c *Chain) Transactions(ctx context.Context, addr *address.Address, afterLT uint64, limit int) ([]*ton.Transaction, error) {
	if err := checkAddr(addr); err != nil {
		return nil, err
	}
	k := keyOf(addr)
	if afterLT == math.MaxUint64 {
		return nil, nil
	}
	return c.readTxs(ctx, addr, limit, func(fn func(key, value []byte) error) error {
		return c.space.IterateFrom(txPrefix(k), txKey(k, afterLT+1), fn)
	})
}

// readTxs decodes the transactions of addr that walk passes, up to limit
// (0: all).
func (c *Chain) readTxs(ctx context.Context, addr *address.Address, limit int, walk func(func(key, value []byte) error) error) ([]*ton.Transaction, error) {
	wc := int32(int8(keyOf(addr)[0]))
	var out []*ton.Transaction
	errDone := errors.New("done")
	err := walk(func(_, value []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		tx, err := decodeTx(wc, value)
		if err != nil {
			return err
		}
		out = append(out, tx)
		if limit > 0 && len(out) >= limit {
			return errDone
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return nil, fmt.Errorf("emu: read transactions of %s: %w", addr, err)
	}
	return out, nil
}

func checkAddr(addr *address.Address) error {
	if addr == nil || addr.Type() != address.StdAddress || addr.BitsLen() != 256 {
		return fmt.Errorf("emu: %v is not a standard 256-bit account address", addr)
	}
	return nil
}

// account returns the account under k: from the step's overlay st when
// given, else the cache, else the store, else an empty account. c.mu must
// be held.
func (c *Chain) account(st *step, k acctKey) (*accountEntry, error) {
	if st != nil {
		if e, ok := st.accounts[k]; ok {
			return e, nil
		}
	}
	if e, ok := c.accounts[k]; ok {
		return e, nil
	}
	raw, err := c.space.Get(accountKey(k))
	if errors.Is(err, ledger.ErrNotFound) {
		return emptyAccount(k)
	}
	if err != nil {
		return nil, fmt.Errorf("emu: read account %s: %w", k.address(), err)
	}
	e, err := decodeAccount(k, raw)
	if err != nil {
		return nil, err
	}
	c.accounts[k] = e
	return e, nil
}
