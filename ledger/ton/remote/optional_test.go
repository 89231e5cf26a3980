package remote

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// TestOptionalMethodsOverRemote: head, fee estimation, get-method exit
// codes with gas, and newest-first history give over the protocol what the
// host's chain gives.
func TestOptionalMethodsOverRemote(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	space, err := tb.clientS.Space(wallet.SpaceName)
	if err != nil {
		t.Fatal(err)
	}
	alice := newWallet(t, tb.remote, space)
	for i := 0; i < 3; i++ {
		if err := tb.remote.Faucet(ctx, alice.Address(), tons(2)); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := tb.chain.Head(ctx)
	got, err := tb.remote.Head(ctx)
	if err != nil || got.Seqno != want.Seqno || got.LT != want.LT || !bytes.Equal(got.RootHash, want.RootHash) {
		t.Fatalf("head over remote %+v, %v; chain %+v", got, err, want)
	}

	gw, _ := tb.chain.RunGetMethodResult(ctx, tb.chain.FaucetAddress(), "seqno")
	gg, err := tb.remote.RunGetMethodResult(ctx, tb.chain.FaucetAddress(), "seqno")
	if err != nil || gg.GasUsed != gw.GasUsed || gg.GasUsed == 0 || gg.ExitCode != 0 || len(gg.Stack) != 1 {
		t.Fatalf("get-method result over remote %+v, %v; chain %+v", gg, err, gw)
	}
	gg, err = tb.remote.RunGetMethodResult(ctx, tb.chain.FaucetAddress(), "nope")
	if err != nil || gg.ExitCode != 11 {
		t.Fatalf("failing get-method over remote %+v, %v", gg, err)
	}

	hw, _ := tb.chain.TransactionsBefore(ctx, alice.Address(), 0, 0)
	for _, limit := range []int{0, 1, 2} {
		hg, err := tb.remote.TransactionsBefore(ctx, alice.Address(), 0, limit)
		n := len(hw)
		if limit > 0 {
			n = limit
		}
		if err != nil || len(hg) != n {
			t.Fatalf("limit %d: %d transactions, %v; want %d", limit, len(hg), err, n)
		}
		for i := range hg {
			if !bytes.Equal(hg[i].Hash, hw[i].Hash) {
				t.Fatalf("limit %d: transaction %d differs", limit, i)
			}
		}
	}
	hg, err := tb.remote.TransactionsBefore(ctx, alice.Address(), hw[1].LT, 0)
	if err != nil || len(hg) != len(hw)-1 || hg[0].LT != hw[1].LT {
		t.Fatalf("from lt %d: %d, %v", hw[1].LT, len(hg), err)
	}

	bob := newWallet(t, tb.remote, nil)
	order, err := alice.SignOrder(ctx, bob.Address(), tons(1), nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	boc := order.BOC
	fw, err := tb.chain.EstimateExternal(ctx, boc, false)
	if err != nil {
		t.Fatal(err)
	}
	fg, err := tb.remote.EstimateExternal(ctx, boc, false)
	if err != nil || fg.GasFee.Cmp(fw.GasFee) != 0 || fg.InFwdFee.Cmp(fw.InFwdFee) != 0 || fg.FwdFee.Cmp(fw.FwdFee) != 0 {
		t.Fatalf("estimate over remote %+v, %v; chain %+v", fg, err, fw)
	}
	if _, err := tb.remote.EstimateExternal(ctx, []byte("not a boc"), false); err == nil {
		t.Fatal("estimate of garbage accepted")
	}
	if _, err := tb.chain.SendExternal(ctx, boc); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.remote.EstimateExternal(ctx, boc, false); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("estimate of a spent order over remote: %v, want ErrRejected", err)
	}
}
