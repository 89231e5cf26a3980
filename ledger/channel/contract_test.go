package channel

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu/emutest"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Opening deploys the contract at the address Params computes, with the
// state and get-methods the parameters say; top-ups add to the deposit.
func TestOpenTopUpAndGetters(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p := h.newParty(t, 42, 90*time.Second)
	h.open(t, p, tons(5))

	acct, err := h.Chain.Account(ctx, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := CodeHash()
	if acct.Status != ton.StatusActive || !bytes.Equal(acct.Code.Hash(), want) {
		t.Fatalf("channel at %s: status %s, code hash %x, want active with %x", p.addr, acct.Status, acct.Code.Hash(), want)
	}
	st := h.state(t, p.addr)
	if st.Deposited.Cmp(tons(5)) != 0 || st.Redeemed.Sign() != 0 || st.Closing() {
		t.Fatalf("state after open: deposited %s redeemed %s closing %v", st.Deposited, st.Redeemed, st.Closing())
	}
	if st.Payer.StringRaw() != p.payer.addr.StringRaw() || st.Payee.StringRaw() != p.payee.addr.StringRaw() ||
		!bytes.Equal(st.PayerKey, p.params.PayerKey) || st.GlobalID != -3 || st.ID != 42 || st.Timeout != 90*time.Second {
		t.Fatalf("get_channel_data returned params %+v, want %+v", st.Params, p.params)
	}
	// The single-value getters agree.
	for method, want := range map[string]*big.Int{
		"get_deposited":  tons(5),
		"get_redeemed":   big.NewInt(0),
		"get_closing_at": big.NewInt(0),
		"get_timeout":    big.NewInt(90),
		"get_payer_key":  new(big.Int).SetBytes(p.params.PayerKey),
	} {
		res, err := h.Chain.RunGetMethod(ctx, p.addr, method)
		if err != nil || len(res) != 1 || res[0].(*big.Int).Cmp(want) != 0 {
			t.Fatalf("%s = %v, %v; want %s", method, res, err, want)
		}
	}
	res, err := h.Chain.RunGetMethod(ctx, p.addr, "get_payee")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := addrOf(res[0]); err != nil || a.StringRaw() != p.payee.addr.StringRaw() {
		t.Fatalf("get_payee = %v, %v", a, err)
	}

	// Top-up by the payer.
	m, err := TopUpMessage(p.addr, 2, tons(2))
	if err != nil {
		t.Fatal(err)
	}
	if tx := h.FollowOut(t, h.send(t, p.payer, m), 0); !tx.Success {
		t.Fatalf("top-up failed: exit %d", tx.ExitCode)
	}
	if st := h.state(t, p.addr); st.Deposited.Cmp(tons(7)) != 0 {
		t.Fatalf("deposited %s after a 2 TON top-up, want 7 TON", st.Deposited)
	}
	// Top-up by someone else is refused.
	h.refused(t, p.payee, p.addr, m, ExitNotPayer)
	// Value below amount + MinFee is refused.
	low, _ := TopUpMessage(p.addr, 3, tons(1))
	low.Amount = tlbNano(new(big.Int).Add(tons(1), big.NewInt(MinFee-1)))
	h.refused(t, p.payer, p.addr, low, ExitLowValue)
	// An unknown op is refused.
	unknown := CloseMessage(p.addr, 4)
	unknown.Body = cell.BeginCell().MustStoreUInt(0xdeadbeef, 32).MustStoreUInt(0, 64).EndCell()
	h.refused(t, p.payer, p.addr, unknown, ExitUnknownOp)
	// A plain comment is accepted and adds to the fee reserve only.
	comment := CloseMessage(p.addr, 5)
	comment.Body = cell.BeginCell().MustStoreUInt(0, 32).MustStoreStringSnake("hi").EndCell()
	if tx := h.FollowOut(t, h.send(t, p.payee, comment), 0); !tx.Success {
		t.Fatalf("comment refused: exit %d", tx.ExitCode)
	}
	if st := h.state(t, p.addr); st.Deposited.Cmp(tons(7)) != 0 {
		t.Fatalf("a comment changed the deposit to %s", st.Deposited)
	}
}

// Every voucher rule, each refusal with its own exit code.
func TestRedeemRules(t *testing.T) {
	h := newHarness(t)
	p := h.newParty(t, 1, time.Hour)
	h.open(t, p, tons(5))
	other := h.newParty(t, 2, time.Hour)
	h.open(t, other, tons(1))

	// The payee redeems 1 TON.
	v1 := p.voucher(t, tons(1))
	ctx := h.FollowOut(t, h.send(t, p.payee, redeemMsg(t, v1)), 0)
	if !ctx.Success || len(ctx.Out) != 1 {
		t.Fatalf("redeem failed: exit %d", ctx.ExitCode)
	}
	checkPayout(t, ctx, p, tons(1))
	if st := h.state(t, p.addr); st.Redeemed.Cmp(tons(1)) != 0 {
		t.Fatalf("redeemed %s, want 1 TON", st.Redeemed)
	}

	// Replay and an older voucher: stale.
	h.refused(t, p.payee, p.addr, redeemMsg(t, v1), ExitStale)
	h.refused(t, p.payee, p.addr, redeemMsg(t, p.voucher(t, big.NewInt(500))), ExitStale)
	// Forged: signed by a key that is not the payer's.
	_, mallory, _ := ed25519.GenerateKey(rand.Reader)
	forged, err := Voucher{GlobalID: -3, Channel: p.addr, Cumulative: tons(2)}.Sign(mallory)
	if err != nil {
		t.Fatal(err)
	}
	h.refused(t, p.payee, p.addr, redeemMsg(t, forged), ExitBadSignature)
	// A bit flipped in a genuine voucher's amount: the signature fails.
	tampered := p.voucher(t, tons(2))
	tampered.Cumulative = tons(3)
	h.refused(t, p.payee, p.addr, redeemMsg(t, tampered), ExitBadSignature)
	// Wrong channel: a genuine voucher for another channel of the same
	// payer key, delivered here.
	wrong, err := Voucher{GlobalID: -3, Channel: other.addr, Cumulative: tons(1)}.Sign(p.payer.key)
	if err != nil {
		t.Fatal(err)
	}
	m := redeemMsg(t, wrong)
	m.DstAddr = p.addr
	h.refused(t, p.payee, p.addr, m, ExitWrongChannel)
	// Wrong network: signed for mainnet's global ID.
	mainnet, err := Voucher{GlobalID: MainnetGlobalID, Channel: p.addr, Cumulative: tons(2)}.Sign(p.payer.key)
	if err != nil {
		t.Fatal(err)
	}
	h.refused(t, p.payee, p.addr, redeemMsg(t, mainnet), ExitWrongNetwork)
	// Over-deposit.
	h.refused(t, p.payee, p.addr, redeemMsg(t, p.voucher(t, new(big.Int).Add(tons(5), big.NewInt(1)))), ExitOverDeposit)
	// Too little value for the gas.
	low := redeemMsg(t, p.voucher(t, tons(2)))
	low.Amount = tlbNano(big.NewInt(MinFee - 1))
	h.refused(t, p.payee, p.addr, low, ExitLowValue)
	// A validly signed blob without the voucher tag.
	notVoucher := p.voucher(t, tons(2))
	raw, _ := notVoucher.MarshalBinary()
	raw[ed25519.SignatureSize] ^= 0xff
	copy(raw, ed25519.Sign(p.payer.key, raw[ed25519.SignatureSize:]))
	bad := redeemMsg(t, p.voucher(t, tons(2)))
	bad.Body = cell.BeginCell().MustStoreUInt(uint64(OpRedeem), 32).MustStoreUInt(0, 64).
		MustStoreRef(cell.BeginCell().MustStoreSlice(raw, uint(8*len(raw))).EndCell()).EndCell()
	h.refused(t, p.payee, p.addr, bad, ExitBadVoucher)

	if st := h.state(t, p.addr); st.Redeemed.Cmp(tons(1)) != 0 {
		t.Fatalf("refusals changed redeemed to %s", st.Redeemed)
	}

	// Anyone may redeem: a third party (here the other channel's payer)
	// submits the payee's voucher; the payout still goes to the payee.
	v5 := p.voucher(t, tons(5))
	ctx = h.FollowOut(t, h.send(t, other.payer, redeemMsg(t, v5)), 0)
	if !ctx.Success {
		t.Fatalf("third-party redeem failed: exit %d", ctx.ExitCode)
	}
	checkPayout(t, ctx, p, tons(4))
	if st := h.state(t, p.addr); st.Redeemed.Cmp(tons(5)) != 0 {
		t.Fatalf("redeemed %s, want 5 TON (the whole deposit)", st.Redeemed)
	}
}

// checkPayout asserts the redeem transaction ctx paid the payee diff plus
// what was left of the redeem's value after the channel's fees, in one
// non-bounceable payout message.
func checkPayout(t testing.TB, ctx *ton.Transaction, p *party, diff *big.Int) {
	t.Helper()
	out := ctx.Out[0]
	if out.Dst.StringRaw() != p.payee.addr.StringRaw() || out.Bounce {
		t.Fatalf("payout to %s (bounce %v), want non-bounceable to the payee %s", out.Dst, out.Bounce, p.payee.addr)
	}
	if op := emutest.OpOf(out.Body); op != OpPayout {
		t.Fatalf("payout op %#x, want %#x", op, OpPayout)
	}
	// The channel's balance drops by exactly diff plus its own storage
	// fee: the redeemer's value pays the gas and the forwarding.
	leftover := new(big.Int).Sub(out.Value, diff)
	if leftover.Sign() < 0 || leftover.Cmp(ctx.In.Value) >= 0 {
		t.Fatalf("payout %s for a difference of %s: leftover %s not within the redeem value %s", out.Value, diff, leftover, ctx.In.Value)
	}
	spent := new(big.Int).Neg(delta(ctx))
	if extra := new(big.Int).Sub(spent, diff); extra.Sign() < 0 || extra.Cmp(big.NewInt(100_000)) > 0 {
		t.Fatalf("channel spent %s on a %s payout: %s more than the payout (storage fee only expected)", spent, diff, extra)
	}
}

// The close timeout: the payee may redeem until it ends, then anyone
// finalizes and the payer gets the rest; every misstep has its exit code.
func TestCloseTimeout(t *testing.T) {
	h := newHarness(t)
	p := h.newParty(t, 1, time.Hour)
	h.open(t, p, tons(5))

	// Finalize before any close.
	h.refused(t, p.payee, p.addr, FinalizeMessage(p.addr, 1), ExitNotClosing)
	// Only the payer closes.
	h.refused(t, p.payee, p.addr, CloseMessage(p.addr, 1), ExitNotPayer)
	closeTx := h.FollowOut(t, h.send(t, p.payer, CloseMessage(p.addr, 2)), 0)
	if !closeTx.Success {
		t.Fatalf("close failed: exit %d", closeTx.ExitCode)
	}
	st := h.state(t, p.addr)
	if !st.Closing() || st.ClosingAt.Unix() != int64(closeTx.Now) || !st.Deadline().Equal(st.ClosingAt.Add(time.Hour)) {
		t.Fatalf("after close: closing at %v (tx at %d), deadline %v", st.ClosingAt, closeTx.Now, st.Deadline())
	}
	h.refused(t, p.payer, p.addr, CloseMessage(p.addr, 3), ExitClosing)
	topUp, _ := TopUpMessage(p.addr, 4, tons(1))
	h.refused(t, p.payer, p.addr, topUp, ExitClosing)
	h.refused(t, p.payee, p.addr, FinalizeMessage(p.addr, 5), ExitTooEarly)

	// One second before the deadline the payee still redeems.
	h.Advance(time.Hour - time.Second)
	if tx := h.FollowOut(t, h.send(t, p.payee, redeemMsg(t, p.voucher(t, tons(2)))), 0); !tx.Success {
		t.Fatalf("redeem inside the timeout failed: exit %d", tx.ExitCode)
	}
	h.refused(t, p.payer, p.addr, FinalizeMessage(p.addr, 6), ExitTooEarly)
	// At the deadline redeeming is over and finalizing is open to anyone.
	h.Advance(time.Second)
	h.refused(t, p.payee, p.addr, redeemMsg(t, p.voucher(t, tons(3))), ExitExpired)

	before := h.state(t, p.addr)
	stranger := h.newWallet(t, tons(1))
	fin := h.FollowOut(t, h.send(t, stranger, FinalizeMessage(p.addr, 7)), 0)
	if !fin.Success || len(fin.Out) != 1 {
		t.Fatalf("finalize failed: exit %d", fin.ExitCode)
	}
	refund := fin.Out[0]
	if refund.Dst.StringRaw() != p.payer.addr.StringRaw() {
		t.Fatalf("refund went to %s, want the payer %s", refund.Dst, p.payer.addr)
	}
	// Everything the channel held, plus the finalize message's value, less
	// the transaction's fees, goes to the payer.
	want := new(big.Int).Add(before.Balance, fin.In.Value)
	want.Sub(want, fin.TotalFees).Sub(want, refund.FwdFee)
	if refund.Value.Cmp(want) != 0 {
		t.Fatalf("refund %s, want balance %s + value %s - fees = %s", refund.Value, before.Balance, fin.In.Value, want)
	}
	acct, err := h.Chain.Account(context.Background(), p.addr)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Status == ton.StatusActive || acct.Balance.Sign() != 0 {
		t.Fatalf("channel after finalize: %s with %s nanoTON, want destroyed", acct.Status, acct.Balance)
	}
	if _, err := ReadState(context.Background(), h.Chain, p.addr); !errors.Is(err, ton.ErrNotActive) {
		t.Fatalf("ReadState of a finalized channel: %v, want ton.ErrNotActive", err)
	}
}
