package service_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// TestConcurrentPaymentsShareVouchers: many payments at once on one
// channel all arrive, to the nanoTON, whether they share vouchers or not;
// payments that would pass the deposit fail one by one with
// ErrInsufficientBalance and the others still go through.
func TestConcurrentPaymentsShareVouchers(t *testing.T) {
	c, ctx := readyCluster(t, 3, 2*time.Minute)
	payer, payee := c.Nodes[1].Ledger(), c.Nodes[2].Ledger()
	if err := payer.Faucet(ctx, big.NewInt(5_000_000_000)); err != nil {
		t.Fatal(err)
	}
	deposit := big.NewInt(1_000_000_000)
	ch, err := payer.OpenChannel(ctx, c.Nodes[2].Identity().PeerID(), deposit, 0)
	if err != nil {
		t.Fatal(err)
	}
	step := big.NewInt(10_000_000)
	// 60 payments of 0.01 TON, then 60 more: the channel holds 100.
	var mu sync.Mutex
	paid, refused, maxCum := 0, 0, new(big.Int)
	for range 2 {
		var wg sync.WaitGroup
		for range 60 {
			wg.Go(func() {
				cum, err := payer.Pay(ctx, ch, step)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					paid++
					if cum.Cmp(maxCum) > 0 {
						maxCum = cum
					}
				case errors.Is(err, wallet.ErrInsufficientBalance):
					refused++
				default:
					t.Errorf("payment: %v", err)
				}
			})
		}
		wg.Wait()
	}
	if paid != 100 || refused != 20 || maxCum.Cmp(deposit) != 0 {
		t.Fatalf("%d paid, %d refused, highest cumulative %s: want 100 paid, 20 refused, %s", paid, refused, maxCum, deposit)
	}
	_, got, err := payee.Incoming(ch)
	if err != nil || got.Cmp(deposit) != 0 {
		t.Fatalf("the payee holds vouchers for %v (%v), want %s", got, err, deposit)
	}
}

// readyCluster starts n nodes and waits until every ledger is ready; ctx
// ends after d or with the test.
func readyCluster(t *testing.T, n int, d time.Duration) (*harness.Cluster, context.Context) {
	t.Helper()
	c := harness.Start(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	for _, node := range c.Nodes {
		if err := node.Ledger().WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return c, ctx
}
