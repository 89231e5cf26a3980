package service

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/xssnick/tonutils-go/address"
)

// noWholeHistory is a chain whose whole-history read fails, so a page
// must come from TransactionsBefore.
type noWholeHistory struct{ *emu.Chain }

func (noWholeHistory) Transactions(context.Context, *address.Address, uint64, int) ([]*ton.Transaction, error) {
	return nil, errors.New("read the whole history")
}

// oldOnly hides TransactionsBefore: the fallback reads everything.
type oldOnly struct{ ton.Chain }

func TestHistoryPagesNewestFirst(t *testing.T) {
	store, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := emu.New(store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	addr := address.MustParseRawAddr("0:" + "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff")
	for range 5 {
		if err := c.Faucet(ctx, addr, big.NewInt(1_000_000_000)); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := c.Transactions(ctx, addr, 0, 0) // oldest first
	for _, chain := range []ton.Chain{noWholeHistory{c}, oldOnly{c}} {
		first, err := historyPage(ctx, chain, addr, 0, 2)
		if err != nil || len(first) != 2 || first[0].LT != all[4].LT || first[1].LT != all[3].LT {
			t.Fatalf("%T: first page %v, %v", chain, first, err)
		}
		next, err := historyPage(ctx, chain, addr, first[1].LT, 2)
		if err != nil || len(next) != 2 || next[0].LT != all[2].LT || next[1].LT != all[1].LT {
			t.Fatalf("%T: second page %v, %v", chain, next, err)
		}
		last, err := historyPage(ctx, chain, addr, all[0].LT, 2)
		if err != nil || len(last) != 0 {
			t.Fatalf("%T: before the first: %v, %v", chain, last, err)
		}
	}
}
