package channel

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu/emutest"
)

func fees(txs ...*ton.Transaction) *big.Int {
	s := new(big.Int)
	for _, tx := range txs {
		s.Add(s, tx.TotalFees)
		for _, m := range tx.Out {
			s.Add(s, m.FwdFee)
		}
	}
	return s
}

// The whole life of a channel on the emulated chain, to the nanoTON: open
// with 10 TON, 1,000 vouchers accepted off-chain (durably), one redeem of
// the last, close, timeout, finalize. The payee ends up exactly the last
// cumulative richer less the fees of its own transactions; the payer
// exactly that much poorer plus the fees of its own; every fee is read from
// the transactions.
func TestChannelLifeToTheNanoTON(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p := h.newParty(t, 9, 10*time.Minute)
	payerStart, payeeStart := h.Balance(t, p.payer.addr), h.Balance(t, p.payee.addr)
	deposit := tons(10)

	m, err := p.params.OpenMessage(1, deposit)
	if err != nil {
		t.Fatal(err)
	}
	openW := h.send(t, p.payer, m)
	openC := h.FollowOut(t, openW, 0)
	if !openC.Success {
		t.Fatalf("open: exit %d", openC.ExitCode)
	}

	// Off-chain: the payee tracks the channel, reads its deposit from the
	// chain and accepts 1,000 vouchers of 0.007 TON each.
	store, payee := openPayee(t, t.TempDir())
	defer store.Close()
	if _, err := payee.Track(ctx, p.params, new(big.Int)); err != nil {
		t.Fatal(err)
	}
	if err := payee.Sync(ctx, h.Chain, p.addr); err != nil {
		t.Fatal(err)
	}
	step := big.NewInt(7_000_000)
	sum := new(big.Int)
	for i := int64(1); i <= 1000; i++ {
		got, err := payee.Accept(ctx, p.voucher(t, new(big.Int).Mul(step, big.NewInt(i))))
		if err != nil {
			t.Fatalf("voucher %d: %v", i, err)
		}
		sum.Add(sum, got)
	}
	last, err := payee.Latest(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	cum := tons(7)
	if last.Cumulative.Cmp(cum) != 0 || sum.Cmp(cum) != 0 {
		t.Fatalf("latest %s, increments %s; want %s", last.Cumulative, sum, cum)
	}

	// On chain: the payee redeems the last voucher; the payer closes,
	// waits out the timeout and finalizes.
	redeemW := h.send(t, p.payee, redeemMsg(t, last))
	redeemC := h.FollowOut(t, redeemW, 0)
	if !redeemC.Success {
		t.Fatalf("redeem: exit %d", redeemC.ExitCode)
	}
	checkPayout(t, redeemC, p, cum)
	payout := redeemC.Out[0]
	payoutRecv := h.FollowOut(t, redeemC, 0)

	closeW := h.send(t, p.payer, CloseMessage(p.addr, 2))
	closeC := h.FollowOut(t, closeW, 0)
	h.Advance(10 * time.Minute)
	finW := h.send(t, p.payer, FinalizeMessage(p.addr, 3))
	finC := h.FollowOut(t, finW, 0)
	if !closeC.Success || !finC.Success {
		t.Fatalf("close exit %d, finalize exit %d", closeC.ExitCode, finC.ExitCode)
	}
	refund := finC.Out[0]
	refundRecv := h.FollowOut(t, finC, 0)
	if emutest.OpOf(refund.Body) != OpRefund {
		t.Fatalf("refund op %#x", emutest.OpOf(refund.Body))
	}
	if h.Balance(t, p.addr).Sign() != 0 {
		t.Fatalf("channel keeps %s after finalize", h.Balance(t, p.addr))
	}

	// redeemCost is what the redeem took from the channel's reserve beyond
	// the payout itself (its storage fee): the redeemer's value paid the
	// rest.
	redeemCost := new(big.Int).Neg(new(big.Int).Add(delta(redeemC), cum))
	if redeemCost.Sign() < 0 || redeemCost.Cmp(big.NewInt(100_000)) > 0 {
		t.Fatalf("redeem took %s from the reserve", redeemCost)
	}
	// The payee: +cum, less its wallet order, the channel's redeem fees
	// (paid from the redeem's value) and the payout's arrival.
	payeeFees := fees(redeemW, payoutRecv)
	payeeFees.Add(payeeFees, redeemC.TotalFees).Add(payeeFees, payout.FwdFee).Sub(payeeFees, redeemCost)
	payeeGot := new(big.Int).Sub(h.Balance(t, p.payee.addr), payeeStart)
	if want := new(big.Int).Sub(cum, payeeFees); payeeGot.Cmp(want) != 0 {
		t.Fatalf("payee gained %s, want cumulative %s - fees %s = %s", payeeGot, cum, payeeFees, want)
	}
	// The payer: -cum, less its three orders, the channel's open, close and
	// finalize fees, the refund's forwarding and arrival, and the reserve
	// the redeem used.
	payerFees := fees(openW, closeW, finW, openC, closeC, finC, refundRecv)
	payerFees.Add(payerFees, redeemCost)
	payerLost := new(big.Int).Sub(payerStart, h.Balance(t, p.payer.addr))
	if want := new(big.Int).Add(cum, payerFees); payerLost.Cmp(want) != 0 {
		t.Fatalf("payer lost %s, want cumulative %s + fees %s = %s", payerLost, cum, payerFees, want)
	}
	// The refund is the deposit less the cumulative, plus the unused
	// reserve the payer's messages brought.
	reserveIn := new(big.Int).Sub(openC.In.Value, deposit)
	reserveIn.Add(reserveIn, closeC.In.Value).Add(reserveIn, finC.In.Value)
	reserveSpent := fees(openC, closeC, finC)
	reserveSpent.Add(reserveSpent, redeemCost)
	want := new(big.Int).Sub(deposit, cum)
	want.Add(want, reserveIn).Sub(want, reserveSpent)
	if refund.Value.Cmp(want) != 0 {
		t.Fatalf("refund %s, want deposit - cumulative + reserve in - reserve spent = %s", refund.Value, want)
	}
	t.Logf("fees (nanoTON): open %s, redeem %s (+%s forward), close %s, finalize %s (+%s forward); payee paid %s, payer paid %s",
		openC.TotalFees, redeemC.TotalFees, payout.FwdFee, closeC.TotalFees, finC.TotalFees, refund.FwdFee, payeeFees, payerFees)
}
