package service_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// TestChannelLifeAcrossNodes: node 2 opens a channel to node 3, pays it with
// 1,000 vouchers over libp2p, node 3 redeems, node 2 closes and finalizes;
// then every nanoTON of the genesis supply is accounted for.
func TestChannelLifeAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 vouchers and a close timeout")
	}
	c := harness.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, n := range c.Nodes {
		if err := n.Ledger().WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	payer, payee := c.Nodes[1].Ledger(), c.Nodes[2].Ledger()
	for _, s := range []interface {
		Faucet(context.Context, *big.Int) error
	}{payer, payee} {
		if err := s.Faucet(ctx, big.NewInt(20_000_000_000)); err != nil {
			t.Fatal(err)
		}
	}
	// The payee's wallet must exist to receive bounceable payouts: one send deploys it.
	wPayee, _ := payee.Wallet()
	wPayer, _ := payer.Wallet()
	if _, err := wPayee.Send(ctx, wPayer.Address(), big.NewInt(1_000_000_000), "hello"); err != nil {
		t.Fatal(err)
	}

	ch, err := payer.OpenChannel(ctx, c.Nodes[2].Identity().PeerID(), big.NewInt(10_000_000_000), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	step := big.NewInt(1_000_000) // 0.001 TON
	var cum *big.Int
	for i := range 1000 {
		if cum, err = payer.Pay(ctx, ch, step); err != nil {
			t.Fatalf("voucher %d: %v", i+1, err)
		}
	}
	if cum.Cmp(big.NewInt(1_000_000_000)) != 0 {
		t.Fatalf("cumulative after 1000 vouchers = %s, want 1 TON", cum)
	}
	if _, err := payer.Pay(ctx, ch, big.NewInt(9_500_000_000)); err == nil {
		t.Fatal("a payment over the deposit was signed")
	}
	list, err := payee.Channels(ctx)
	if err != nil || len(list) != 1 || list[0].Paid.Nano != "1000000000" || list[0].Role != "payee" {
		t.Fatalf("payee's channels = %+v, %v", list, err)
	}

	got, err := payee.Redeem(ctx, ch)
	if err != nil || got.Cmp(cum) != 0 {
		t.Fatalf("redeem = %v, %v", got, err)
	}
	list, _ = payer.Channels(ctx)
	if len(list) != 1 || list[0].Redeemed.Nano != "1000000000" || list[0].Status != "open" {
		t.Fatalf("payer's view after redeem = %+v", list)
	}
	if err := payer.CloseChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	list, _ = payer.Channels(ctx)
	if list[0].Status != "closing" || list[0].Deadline == nil {
		t.Fatalf("after close = %+v", list[0])
	}
	if err := payer.FinalizeChannel(ctx, ch); err == nil {
		t.Fatal("finalize before the timeout succeeded")
	}
	time.Sleep(time.Until(*list[0].Deadline) + 1500*time.Millisecond)
	if err := payer.FinalizeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	list, _ = payer.Channels(ctx)
	if list[0].Status != "closed" {
		t.Fatalf("after finalize = %+v", list[0])
	}

	host, _ := c.Nodes[0].Ledger().Chain()
	chain := host.(*emu.Chain)
	accounts := []*address.Address{chain.FaucetAddress(), wPayer.Address(), wPayee.Address(), ch}
	requireSupplyConserved(ctx, t, chain, accounts)
}

// requireSupplyConserved checks, to the nanoTON, that the genesis supply
// equals what the accounts hold plus every fee their transactions paid.
func requireSupplyConserved(ctx context.Context, t *testing.T, chain ton.Chain, accounts []*address.Address) {
	t.Helper()
	total := new(big.Int)
	for _, a := range accounts {
		st, err := chain.Account(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		total.Add(total, st.Balance)
		txs, err := chain.Transactions(ctx, a, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range txs {
			total.Add(total, tx.TotalFees)
			for _, m := range tx.Out {
				if m.Kind == ton.Internal {
					total.Add(total, m.FwdFee)
				}
			}
		}
	}
	if total.Cmp(emu.DefaultGenesisSupply) != 0 {
		t.Fatalf("balances + fees = %s nanoTON, genesis supply %s: %s nanoTON unaccounted",
			total, emu.DefaultGenesisSupply, new(big.Int).Sub(emu.DefaultGenesisSupply, total))
	}
	t.Logf("supply conserved: %s TON across %d accounts", wallet.FormatTON(total), len(accounts))
}
