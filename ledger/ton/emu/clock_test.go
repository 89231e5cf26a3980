package emu

import (
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
)

// An injected clock drives block times; the faucet signs valid_until from
// it, so it works even far from the wall clock.
func TestInjectedClock(t *testing.T) {
	store, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var mu sync.Mutex
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, err := New(store, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	w := newTestWallet(t)
	if err := c.Faucet(context.Background(), w.addr, tons(1)); err != nil {
		t.Fatalf("faucet under a 2031 clock: %v", err)
	}
	txs := history(t, c, w.addr)
	if len(txs) != 1 || int64(txs[0].Now) != now.Unix() {
		t.Fatalf("transaction time %d, want the injected %d", txs[0].Now, now.Unix())
	}
	// A clock going backwards does not move block time backwards.
	mu.Lock()
	now = now.Add(-time.Hour)
	mu.Unlock()
	if err := c.Faucet(context.Background(), w.addr, tons(1)); err != nil {
		t.Fatal(err)
	}
	txs = history(t, c, w.addr)
	if txs[1].Now < txs[0].Now {
		t.Fatalf("block time went backwards: %d then %d", txs[0].Now, txs[1].Now)
	}
}

// Concurrent faucet transfers and reads: every transfer lands exactly once.
func TestConcurrentUse(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	wallets := []*testWallet{newTestWallet(t), newTestWallet(t), newTestWallet(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(wallets))
	for _, w := range wallets {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 2 {
				if err := c.Faucet(ctx, w.addr, big.NewInt(700_000_000)); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := c.Account(ctx, w.addr); err != nil {
					errs <- err
				}
				if _, err := c.Transactions(ctx, c.FaucetAddress(), 0, 3); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, w := range wallets {
		txs := history(t, c, w.addr)
		if len(txs) != 2 {
			t.Fatalf("%s received %d transfers, want 2", w.addr, len(txs))
		}
		want := big.NewInt(1_400_000_000)
		for _, tx := range txs {
			want.Sub(want, tx.TotalFees)
		}
		if got := balance(t, c, w.addr); got.Cmp(want) != 0 {
			t.Fatalf("%s balance %s, want %s", w.addr, got, want)
		}
	}
	if got := seqno(t, c, c.FaucetAddress()); got != 6 {
		t.Fatalf("faucet seqno %d after 6 transfers, want 6", got)
	}
	if got := len(history(t, c, c.FaucetAddress())); got != 7 {
		t.Fatalf("faucet has %d transactions, want genesis + 6", got)
	}
	page, err := c.Transactions(ctx, c.FaucetAddress(), 0, 3)
	if err != nil || len(page) != 3 {
		t.Fatalf("limit 3 gave %d transactions, %v", len(page), err)
	}
	rest, err := c.Transactions(ctx, c.FaucetAddress(), page[2].LT, 0)
	if err != nil || len(rest) != 4 || rest[0].LT <= page[2].LT {
		t.Fatalf("after lt %d: %d transactions, %v", page[2].LT, len(rest), err)
	}
}
