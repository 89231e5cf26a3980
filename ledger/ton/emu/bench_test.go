package emu

import (
	"context"
	"math/big"
	"testing"
)

// BenchmarkWalletTransfer measures one wallet v5r1 transfer on the
// emulated chain: the signed external, the internal delivery to an active
// wallet, and the durable (fsync'd) commit of the step. Orders are signed
// before the timer starts.
func BenchmarkWalletTransfer(b *testing.B) {
	c, store := openChain(b, b.TempDir())
	defer store.Close()
	ctx := context.Background()
	alice, bob := newTestWallet(b), newTestWallet(b)
	for _, w := range []*testWallet{alice, bob} {
		if err := c.Faucet(ctx, w.addr, tons(1_000_000)); err != nil {
			b.Fatal(err)
		}
		if _, err := c.SendExternal(ctx, w.order(b, c, w.addr, big.NewInt(1), false, "deploy")); err != nil {
			b.Fatal(err)
		}
	}
	first := uint32(seqno(b, c, alice.addr))
	orders := make([][]byte, b.N)
	for i := range orders {
		orders[i] = alice.orderAt(b, bob.addr, big.NewInt(1_000_000), true, "bench", first+uint32(i), false)
	}
	b.ResetTimer()
	for i := range orders {
		if _, err := c.SendExternal(ctx, orders[i]); err != nil {
			b.Fatalf("transfer %d: %v", i, err)
		}
	}
	b.StopTimer()
	if got := seqno(b, c, alice.addr); got != uint64(first)+uint64(b.N) {
		b.Fatalf("seqno %d after %d transfers from %d", got, b.N, first)
	}
}
