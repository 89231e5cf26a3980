package emu

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
)

func TestHeadAdvancesPerStep(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	h0, err := c.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tw := newTestWallet(t)
	if err := c.Faucet(ctx, tw.addr, tons(1)); err != nil {
		t.Fatal(err)
	}
	h1, _ := c.Head(ctx)
	if h1.Seqno != h0.Seqno+1 || h1.LT <= h0.LT || bytes.Equal(h1.RootHash, h0.RootHash) || len(h1.FileHash) != 32 {
		t.Fatalf("head after a step: %+v, before %+v", h1, h0)
	}
}

// TestEstimateMatchesExecution: the estimate of a signed order is what the
// order then costs, and estimating changes nothing.
func TestEstimateMatchesExecution(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	tw, to := newTestWallet(t), newTestWallet(t)
	if err := c.Faucet(ctx, tw.addr, tons(10)); err != nil {
		t.Fatal(err)
	}
	boc := tw.order(t, c, to.addr, tons(1), false, "estimate me")
	fees, err := c.EstimateExternal(ctx, boc, false)
	if err != nil {
		t.Fatal(err)
	}
	if bal := balance(t, c, tw.addr); bal.Cmp(tons(10)) != 0 {
		t.Fatalf("estimating changed the balance to %s", bal)
	}
	if fees.InFwdFee.Sign() <= 0 || fees.GasFee.Sign() <= 0 || fees.FwdFee.Sign() <= 0 {
		t.Fatalf("fees %+v: want import, gas and forwarding fees", fees)
	}
	hash, err := c.SendExternal(ctx, boc)
	if err != nil {
		t.Fatal(err)
	}
	tx := findByIn(history(t, c, tw.addr), hash)
	want := new(big.Int).Add(fees.InFwdFee, fees.StorageFee)
	want.Add(want, fees.GasFee)
	// The sender's validators keep a share of the forwarding fee; the rest
	// travels with the message.
	kept := new(big.Int).Sub(fees.FwdFee, sumFwd(tx))
	want.Add(want, kept)
	if tx.TotalFees.Cmp(want) != 0 {
		t.Fatalf("executed fees %s, estimate adds up to %s (%+v)", tx.TotalFees, want, fees)
	}
	// The same order again is a replayed seqno: the wallet refuses it.
	if _, err := c.EstimateExternal(ctx, boc, false); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("estimate of a replayed order: %v, want ErrRejected", err)
	}
	// An unsigned order prices only with the signature check ignored.
	wrongKey := to.key // signs for tw's wallet with another key
	unsigned, err := signV5R1(wrongKey, c.GlobalID(), tw.addr, uint32(seqno(t, c, tw.addr)), c.now().Add(time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EstimateExternal(ctx, unsigned, false); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("estimate of a bad signature: %v, want ErrRejected", err)
	}
	if _, err := c.EstimateExternal(ctx, unsigned, true); err != nil {
		t.Fatalf("estimate ignoring the signature: %v", err)
	}
}

func TestRunGetMethodResultExitCodeAndGas(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	res, err := c.RunGetMethodResult(ctx, c.FaucetAddress(), "seqno")
	if err != nil || res.ExitCode != 0 || res.GasUsed <= 0 || len(res.Stack) != 1 {
		t.Fatalf("seqno: %+v, %v", res, err)
	}
	res, err = c.RunGetMethodResult(ctx, c.FaucetAddress(), "no_such_method")
	if err != nil || res.ExitCode != 11 || len(res.Stack) != 0 {
		t.Fatalf("unknown method: %+v, %v (want exit code 11)", res, err)
	}
	var gm *ton.ErrGetMethod
	if _, err := c.RunGetMethod(ctx, c.FaucetAddress(), "no_such_method"); !errors.As(err, &gm) || gm.ExitCode != 11 {
		t.Fatalf("RunGetMethod of an unknown method: %v", err)
	}
	if _, err := c.RunGetMethodResult(ctx, newTestWallet(t).addr, "seqno"); !errors.Is(err, ton.ErrNotActive) {
		t.Fatalf("get-method on an empty account: %v", err)
	}
}

func TestTransactionsBeforeNewestFirst(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	tw := newTestWallet(t)
	for i := 0; i < 5; i++ {
		if err := c.Faucet(ctx, tw.addr, tons(1)); err != nil {
			t.Fatal(err)
		}
	}
	all := history(t, c, tw.addr) // oldest first
	if len(all) != 5 {
		t.Fatalf("%d transactions, want 5", len(all))
	}
	got, err := c.TransactionsBefore(ctx, tw.addr, 0, 2)
	if err != nil || len(got) != 2 || got[0].LT != all[4].LT || got[1].LT != all[3].LT {
		t.Fatalf("newest two: %v, %v", got, err)
	}
	got, err = c.TransactionsBefore(ctx, tw.addr, all[2].LT, 0)
	if err != nil || len(got) != 3 || got[0].LT != all[2].LT || got[2].LT != all[0].LT {
		t.Fatalf("from the third: %d transactions, %v", len(got), err)
	}
	got, err = c.TransactionsBefore(ctx, tw.addr, all[0].LT-1, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("before the first: %d transactions, %v", len(got), err)
	}
}
