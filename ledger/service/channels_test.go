package service_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/service"
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
	c, ctx := readyCluster(t, 3, 3*time.Minute)
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

// TestTopUpRaisesWhatPayAllows: node 2 opens a 1 TON channel to node 3 and
// pays it in full; a payment over the deposit is refused; after a top-up the
// same payment goes through and the payee holds it. Top-ups the payer may
// not make are refused, in Go and over the API, with what to do instead.
func TestTopUpRaisesWhatPayAllows(t *testing.T) {
	c, ctx := readyCluster(t, 3, 2*time.Minute)
	payer, payee := c.Nodes[1].Ledger(), c.Nodes[2].Ledger()
	if err := payer.Faucet(ctx, big.NewInt(20_000_000_000)); err != nil {
		t.Fatal(err)
	}
	ch, err := payer.OpenChannel(ctx, c.Nodes[2].Identity().PeerID(), big.NewInt(1_000_000_000), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cum, err := payer.Pay(ctx, ch, big.NewInt(1_000_000_000)); err != nil || cum.Cmp(big.NewInt(1_000_000_000)) != 0 {
		t.Fatalf("pay the whole deposit = %v, %v", cum, err)
	}
	half := big.NewInt(500_000_000)
	if _, err := payer.Pay(ctx, ch, half); !errors.Is(err, wallet.ErrInsufficientBalance) {
		t.Fatalf("pay over the deposit: %v, want wallet.ErrInsufficientBalance", err)
	}

	unknown := address.NewAddress(0, 0, bytes.Repeat([]byte{7}, 32))
	refusals := []struct {
		name string
		err  func() error
		want error
		hint string
	}{
		{"unknown channel", func() error { _, err := payer.TopUp(ctx, unknown, half); return err }, service.ErrUnknownChannel, "tonmesh ledger channels"},
		{"zero", func() error { _, err := payer.TopUp(ctx, ch, new(big.Int)); return err }, wallet.ErrBadAmount, "more than 0"},
		{"negative", func() error { _, err := payer.TopUp(ctx, ch, big.NewInt(-1)); return err }, wallet.ErrBadAmount, "more than 0"},
		{"the payee", func() error { _, err := payee.TopUp(ctx, ch, half); return err }, service.ErrNotPayer, "channel open"},
		{"over the wallet", func() error { _, err := payer.TopUp(ctx, ch, big.NewInt(1_000_000_000_000)); return err }, wallet.ErrInsufficientBalance, "holds"},
	}
	for _, r := range refusals {
		if err := r.err(); !errors.Is(err, r.want) || !strings.Contains(err.Error(), r.hint) {
			t.Errorf("top-up by %s: %v, want %v saying %q", r.name, err, r.want, r.hint)
		}
	}

	dep, err := payer.TopUp(ctx, ch, big.NewInt(2_000_000_000))
	if err != nil || dep.Cmp(big.NewInt(3_000_000_000)) != 0 {
		t.Fatalf("top up 2 TON = %v, %v; want a 3 TON deposit", dep, err)
	}
	// The payee was told: it holds the new deposit before any voucher over the old one.
	if d, paid, err := payee.Incoming(ch); err != nil || d.Cmp(dep) != 0 || paid.Cmp(big.NewInt(1_000_000_000)) != 0 {
		t.Fatalf("payee after the top-up holds %v deposited, %v paid (%v); want 3 TON, 1 TON", d, paid, err)
	}
	cum, err := payer.Pay(ctx, ch, half)
	if err != nil || cum.Cmp(big.NewInt(1_500_000_000)) != 0 {
		t.Fatalf("the refused payment after the top-up = %v, %v; want 1.5 TON in total", cum, err)
	}
	if _, paid, err := payee.Incoming(ch); err != nil || paid.Cmp(cum) != 0 {
		t.Fatalf("payee holds %v paid (%v), want %s", paid, err, cum)
	}
	list, err := payer.Channels(ctx)
	if err != nil || len(list) != 1 || list[0].Deposited.Nano != "3000000000" || list[0].Paid.Nano != "1500000000" {
		t.Fatalf("payer's channels = %+v, %v", list, err)
	}

	// Over the API: the route answers the new deposit and 4xx that say what to do.
	cl, clPayee := ledgerClient(t, c, 1), ledgerClient(t, c, 2)
	id := list[0].ID
	res, err := cl.ChannelAction(ctx, id, "topup", "0.25")
	if err != nil || res.Amount.Nano != "3250000000" || res.Action != "topup" {
		t.Fatalf("topup over the API = %+v, %v", res, err)
	}
	api := []struct {
		name   string
		cl     *service.Client
		id     string
		amount string
		status int
	}{
		{"zero", cl, id, "0", http.StatusBadRequest},
		{"malformed amount", cl, id, "1,5", http.StatusBadRequest},
		{"no amount", cl, id, "", http.StatusBadRequest},
		{"malformed id", cl, "EQnope", "1", http.StatusBadRequest},
		{"unknown channel", cl, unknown.StringRaw(), "1", http.StatusNotFound},
		{"the payee", clPayee, id, "1", http.StatusForbidden},
		{"over the wallet", cl, id, "1000", http.StatusPaymentRequired},
	}
	for _, r := range api {
		if _, err := r.cl.ChannelAction(ctx, r.id, "topup", r.amount); !apiutil.IsStatus(err, r.status) {
			t.Errorf("topup by %s over the API: %v, want HTTP %d", r.name, err, r.status)
		}
	}

	if err := payer.CloseChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := payer.TopUp(ctx, ch, half); !errors.Is(err, service.ErrChannelClosing) || !strings.Contains(err.Error(), "open a new one") {
		t.Errorf("top-up while closing: %v, want ErrChannelClosing", err)
	}
	if _, err := cl.ChannelAction(ctx, id, "topup", "1"); !apiutil.IsStatus(err, http.StatusConflict) {
		t.Errorf("topup while closing over the API: %v, want HTTP 409", err)
	}
	list, _ = payer.Channels(ctx)
	if list[0].Deposited.Nano != "3250000000" {
		t.Errorf("refused top-ups changed the deposit: %+v", list[0])
	}

	j, err := cl.Journal(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var topups []string
	for _, e := range j {
		if e.Kind == "channel_topup" {
			topups = append(topups, e.Amount.Nano)
		}
	}
	if len(topups) != 2 || topups[0] != "2000000000" || topups[1] != "250000000" {
		t.Errorf("journal top-ups = %v, want 2 TON then 0.25 TON", topups)
	}
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
