package emutest

import (
	"bytes"
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
)

// Env is an emulated chain in its own store, with a clock the test moves.
type Env struct {
	Store *ledger.Store
	Chain *emu.Chain

	mu  sync.Mutex
	now time.Time
}

// Start is the first reading of a new Env's clock (in UTC).
func Start() time.Time { return time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC) }

// New opens a store in t.TempDir(), closed when the test ends, and an
// emulated chain on it whose clock is the Env's.
func New(t testing.TB) *Env {
	t.Helper()
	store, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &Env{Store: store, now: Start()}
	e.Chain, err = emu.New(store, emu.WithClock(e.Now))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Now is the clock's reading; pass it wherever a clock is wanted so that
// the chain and the code under test agree on the time.
func (e *Env) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// Advance moves the clock forward by d.
func (e *Env) Advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// History is every transaction of addr.
func (e *Env) History(t testing.TB, addr *address.Address) []*ton.Transaction {
	t.Helper()
	txs, err := e.Chain.Transactions(context.Background(), addr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return txs
}

// Balance is addr's balance in nanoTON.
func (e *Env) Balance(t testing.TB, addr *address.Address) *big.Int {
	t.Helper()
	st, err := e.Chain.Account(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return st.Balance
}

// Follow is the transaction message m caused at its destination.
func (e *Env) Follow(t testing.TB, m *ton.Message) *ton.Transaction {
	t.Helper()
	got := FindByIn(e.History(t, m.Dst), m.Hash)
	if got == nil {
		t.Fatalf("no transaction at %s for message %x", m.Dst, m.Hash)
	}
	return got
}

// FollowOut is the transaction that out-message i of tx caused at its
// destination.
func (e *Env) FollowOut(t testing.TB, tx *ton.Transaction, i int) *ton.Transaction {
	t.Helper()
	if i < 0 || i >= len(tx.Out) {
		t.Fatalf("transaction lt %d sent %d messages, no message %d", tx.LT, len(tx.Out), i)
	}
	return e.Follow(t, tx.Out[i])
}

// Cascade is tx and every transaction its internal messages caused,
// breadth first.
func (e *Env) Cascade(t testing.TB, tx *ton.Transaction) []*ton.Transaction {
	t.Helper()
	out := []*ton.Transaction{tx}
	for i := 0; i < len(out); i++ {
		for _, m := range out[i].Out {
			if m.Kind == ton.Internal {
				out = append(out, e.Follow(t, m))
			}
		}
	}
	return out
}

// FindByIn is the transaction of txs whose inbound message has hash, or nil.
func FindByIn(txs []*ton.Transaction, hash []byte) *ton.Transaction {
	for _, tx := range txs {
		if tx.In != nil && bytes.Equal(tx.In.Hash, hash) {
			return tx
		}
	}
	return nil
}

// OpOf is the 32-bit op of a message body, or 0 when the body is missing or
// shorter than 32 bits.
func OpOf(body *cell.Cell) uint32 {
	if body == nil {
		return 0
	}
	s, err := body.BeginParse()
	if err != nil {
		return 0
	}
	op, _ := s.LoadUInt(32)
	return uint32(op)
}
