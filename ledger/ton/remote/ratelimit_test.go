package remote

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestLimiterPerPeer(t *testing.T) {
	l := newLimiter(2, 10*time.Second)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	a, b := peer.ID("a"), peer.ID("b")
	for i := range 2 {
		if ok, _ := l.allow(a); !ok {
			t.Fatalf("request %d of a refused within the burst", i+1)
		}
	}
	if ok, wait := l.allow(a); ok || wait != 10*time.Second {
		t.Fatalf("third request of a: allowed %v, wait %s; want refused, 10s", ok, wait)
	}
	if ok, _ := l.allow(b); !ok {
		t.Fatal("another peer is limited by a's requests")
	}
	now = now.Add(5 * time.Second)
	if ok, wait := l.allow(a); ok || wait != 5*time.Second {
		t.Fatalf("after 5s: allowed %v, wait %s", ok, wait)
	}
	now = now.Add(5 * time.Second)
	if ok, _ := l.allow(a); !ok {
		t.Fatal("a refused after its allowance refilled")
	}
}

// TestFaucetRateLimitOverRemote: the host refuses a peer over its
// allowance with rate_limited, which the client maps to
// ErrFaucetRateLimited, and nothing is paid.
func TestFaucetRateLimitOverRemote(t *testing.T) {
	tb := newTestbed(t)
	tb.server.limit = newLimiter(2, time.Hour)
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	tb.server.limit.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx := context.Background()
	to := newWallet(t, tb.remote, nil).Address()
	for range 2 {
		if err := tb.remote.Faucet(ctx, to, tons(1)); err != nil {
			t.Fatal(err)
		}
	}
	err := tb.remote.Faucet(ctx, to, tons(1))
	if !errors.Is(err, ErrFaucetRateLimited) {
		t.Fatalf("third faucet request: %v, want ErrFaucetRateLimited", err)
	}
	// Two transfers and no third (the balance itself may have paid a
	// nanoTON of storage between them, as on TON).
	if txs, err := tb.chain.Transactions(ctx, to, 0, 0); err != nil || len(txs) != 2 {
		t.Fatalf("%d transactions (%v) after two paid requests and a refused one, want 2", len(txs), err)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if err := tb.remote.Faucet(ctx, to, tons(1)); err != nil {
		t.Fatalf("after the allowance refilled: %v", err)
	}
}
