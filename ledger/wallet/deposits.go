package wallet

import (
	"bytes"
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
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
)

// scanPage is how many transactions one Sync reads and commits at a time.
const scanPage = 100

// Keys in the wallet's space, each followed by the watched account
// (1 byte workchain + 32 bytes hash):
//
//	"c" + acct                  -> cursor: LT (8 bytes BE) + total credited (decimal)
//	"d" + acct + LT(8) + txhash -> deposit (JSON)
//	"h" + acct + txhash         -> LT (8 bytes BE): the deposit index by hash
const (
	prefixCursor  = 'c'
	prefixDeposit = 'd'
	prefixByHash  = 'h'
)

// Deposit is one incoming value transfer recorded from the chain.
type Deposit struct {
	// TxHash and LT identify the receiving transaction.
	TxHash []byte
	LT     uint64
	// Time is the transaction's block time.
	Time time.Time
	// From is the sender; MsgHash the incoming message's hash.
	From    *address.Address
	MsgHash []byte
	// Amount is the value the message carried, in nanoTON; Fee is what
	// the receiving transaction cost the account.
	Amount  *big.Int
	Fee     *big.Int
	Comment string
}

// storedDeposit is Deposit's form in the store.
type storedDeposit struct {
	TxHash  []byte `json:"tx"`
	LT      uint64 `json:"lt"`
	Time    int64  `json:"time"`
	From    string `json:"from"`
	MsgHash []byte `json:"msg"`
	Amount  string `json:"amount"`
	Fee     string `json:"fee"`
	Comment string `json:"comment,omitempty"`
}

// Deposits records the incoming value transfers of one account from the
// chain into the ledger. It is safe for concurrent use; scans run one at
// a time.
type Deposits struct {
	chain ton.Chain
	addr  *address.Address
	acct  []byte
	space *ledger.Space
	log   *slog.Logger
	poll  time.Duration

	mu sync.Mutex // one scan at a time
}

// NewDeposits watches addr on chain and records its deposits in space,
// which must not be nil (the node's Store.Space(SpaceName)).
// Several accounts may share a space: keys carry the account.
func NewDeposits(chain ton.Chain, addr *address.Address, space *ledger.Space, opts ...Option) *Deposits {
	o := buildOptions(opts)
	acct := append([]byte{byte(addr.Workchain())}, addr.Data()...)
	return &Deposits{chain: chain, addr: addr.Copy(), acct: acct, space: space, log: o.log.With("deposits", addr.String()), poll: o.poll}
}

func (d *Deposits) key(prefix byte, parts ...[]byte) []byte {
	k := append([]byte{prefix}, d.acct...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func ltBytes(lt uint64) []byte { return binary.BigEndian.AppendUint64(nil, lt) }

// Cursor is the LT of the last transaction scanned and the total credited
// so far, in nanoTON.
func (d *Deposits) Cursor() (uint64, *big.Int, error) {
	raw, err := d.space.Get(d.key(prefixCursor))
	if errors.Is(err, ledger.ErrNotFound) {
		return 0, new(big.Int), nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("wallet: read deposit cursor: %w", err)
	}
	if len(raw) < 9 {
		return 0, nil, fmt.Errorf("wallet: deposit cursor of %s is corrupt (%d bytes)", d.addr, len(raw))
	}
	total, ok := new(big.Int).SetString(string(raw[8:]), 10)
	if !ok {
		return 0, nil, fmt.Errorf("wallet: deposit cursor of %s has a corrupt total", d.addr)
	}
	return binary.BigEndian.Uint64(raw[:8]), total, nil
}

// Sync reads the account's transactions after the cursor and records each
// incoming internal value transfer as a deposit. Each page of transactions
// is one durable batch: the deposits, the new total and the new cursor
// together, so a crash never loses or doubles a credit. A deposit already
// recorded (by transaction hash) is never recorded again. It returns the
// deposits recorded by this call.
func (d *Deposits) Sync(ctx context.Context) ([]*Deposit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var added []*Deposit
	for {
		cursor, total, err := d.Cursor()
		if err != nil {
			return added, err
		}
		txs, err := d.chain.Transactions(ctx, d.addr, cursor, scanPage)
		if err != nil {
			return added, fmt.Errorf("wallet: scan transactions of %s after lt %d: %w", d.addr, cursor, err)
		}
		if len(txs) == 0 {
			return added, nil
		}
		b := d.space.NewBatch()
		var page []*Deposit
		for _, tx := range txs {
			if tx.LT <= cursor {
				return added, fmt.Errorf("wallet: chain returned transaction lt %d at or before cursor %d of %s", tx.LT, cursor, d.addr)
			}
			cursor = tx.LT
			dep := depositOf(tx)
			if dep == nil {
				continue
			}
			if _, err := d.space.Get(d.key(prefixByHash, tx.Hash)); err == nil {
				continue // recorded already
			} else if !errors.Is(err, ledger.ErrNotFound) {
				return added, fmt.Errorf("wallet: check deposit %x: %w", tx.Hash, err)
			}
			val, err := json.Marshal(stored(dep))
			if err != nil {
				return added, fmt.Errorf("wallet: encode deposit %x: %w", tx.Hash, err)
			}
			b.Set(d.key(prefixDeposit, ltBytes(tx.LT), tx.Hash), val)
			b.Set(d.key(prefixByHash, tx.Hash), ltBytes(tx.LT))
			total.Add(total, dep.Amount)
			page = append(page, dep)
		}
		b.Set(d.key(prefixCursor), append(ltBytes(cursor), total.String()...))
		if err := b.Commit(); err != nil {
			return added, fmt.Errorf("wallet: record deposits of %s: %w", d.addr, err)
		}
		for _, dep := range page {
			d.log.Info("deposit recorded", "amount_ton", FormatTON(dep.Amount), "from", dep.From.String(), "lt", dep.LT)
		}
		added = append(added, page...)
		if len(txs) < scanPage {
			return added, nil
		}
	}
}

// depositOf returns the deposit tx records, or nil: a deposit is an
// inbound internal message with value that stayed (not a bounce coming
// back, and not bounced away).
func depositOf(tx *ton.Transaction) *Deposit {
	in := tx.In
	if in == nil || in.Kind != ton.Internal || in.Value == nil || in.Value.Sign() <= 0 || in.Bounced || tx.Bounced {
		return nil
	}
	return &Deposit{
		TxHash:  bytes.Clone(tx.Hash),
		LT:      tx.LT,
		Time:    time.Unix(int64(tx.Now), 0).UTC(),
		From:    in.Src,
		MsgHash: bytes.Clone(in.Hash),
		Amount:  new(big.Int).Set(in.Value),
		Fee:     new(big.Int).Set(tx.TotalFees),
		Comment: in.Comment,
	}
}

func stored(d *Deposit) storedDeposit {
	from := ""
	if d.From != nil {
		from = d.From.StringRaw()
	}
	return storedDeposit{TxHash: d.TxHash, LT: d.LT, Time: d.Time.Unix(), From: from, MsgHash: d.MsgHash,
		Amount: d.Amount.String(), Fee: d.Fee.String(), Comment: d.Comment}
}

func (s storedDeposit) deposit() (*Deposit, error) {
	amount, ok1 := new(big.Int).SetString(s.Amount, 10)
	fee, ok2 := new(big.Int).SetString(s.Fee, 10)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("amount %q or fee %q is not a number", s.Amount, s.Fee)
	}
	var from *address.Address
	if s.From != "" {
		var err error
		if from, err = address.ParseRawAddr(s.From); err != nil {
			return nil, fmt.Errorf("sender %q: %w", s.From, err)
		}
	}
	return &Deposit{TxHash: s.TxHash, LT: s.LT, Time: time.Unix(s.Time, 0).UTC(), From: from, MsgHash: s.MsgHash,
		Amount: amount, Fee: fee, Comment: s.Comment}, nil
}

// ListDeposits returns the recorded deposits, oldest first.
func (d *Deposits) ListDeposits() ([]*Deposit, error) {
	var out []*Deposit
	err := d.space.Iterate(d.key(prefixDeposit), func(key, value []byte) error {
		var s storedDeposit
		if err := json.Unmarshal(value, &s); err != nil {
			return fmt.Errorf("wallet: deposit record %x is corrupt: %w", key, err)
		}
		dep, err := s.deposit()
		if err != nil {
			return fmt.Errorf("wallet: deposit record %x is corrupt: %w", key, err)
		}
		out = append(out, dep)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Run scans every poll interval (WithPollInterval) until ctx ends, then
// returns ctx's error. Scan failures are logged and retried next tick.
func (d *Deposits) Run(ctx context.Context) error {
	tick := time.NewTicker(d.poll)
	defer tick.Stop()
	for {
		if _, err := d.Sync(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("deposit scan failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
