package channel

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/ton/emu/emutest"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

const nanoPerTON = 1_000_000_000

func tons(n int64) *big.Int { return big.NewInt(n * nanoPerTON) }

// harness is an emulated chain with a clock the test moves.
type harness struct {
	*emutest.Env
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return &harness{Env: emutest.New(t)}
}

// testWallet is a v5r1 wallet whose orders the test signs itself, with
// valid_until from the harness clock.
type testWallet struct {
	key  ed25519.PrivateKey
	addr *address.Address
	init *tlb.StateInit
}

func v5cfg() wallet.ConfigV5R1Final {
	return wallet.ConfigV5R1Final{NetworkGlobalID: emu.DefaultGlobalID, Workchain: 0}
}

// newWallet makes a wallet funded by the faucet with fund nanoTON.
func (h *harness) newWallet(t testing.TB, fund *big.Int) *testWallet {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	init, err := wallet.GetStateInit(pub, v5cfg(), 0)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := wallet.AddressFromPubKey(pub, v5cfg(), 0)
	if err != nil {
		t.Fatal(err)
	}
	addr.SetBounce(false)
	addr.SetTestnetOnly(true)
	if err := h.Chain.Faucet(context.Background(), addr, fund); err != nil {
		t.Fatal(err)
	}
	return &testWallet{key: key, addr: addr, init: init}
}

// send signs and submits one order carrying msgs (mode 3 each) and returns
// the wallet's transaction.
func (h *harness) send(t testing.TB, w *testWallet, msgs ...*tlb.InternalMessage) *ton.Transaction {
	t.Helper()
	ctx := context.Background()
	st, err := h.Chain.Account(ctx, w.addr)
	if err != nil {
		t.Fatal(err)
	}
	var seqno uint64
	var init *tlb.StateInit
	if st.Status == ton.StatusActive {
		res, err := h.Chain.RunGetMethod(ctx, w.addr, "seqno")
		if err != nil {
			t.Fatal(err)
		}
		seqno = res[0].(*big.Int).Uint64()
	} else {
		init = w.init
	}
	wm := make([]*wallet.Message, len(msgs))
	for i, m := range msgs {
		wm[i] = &wallet.Message{Mode: 3, InternalMessage: m}
	}
	actions, err := wallet.PackV5OutActions(wm)
	if err != nil {
		t.Fatal(err)
	}
	id := wallet.V5R1ID{NetworkGlobalID: emu.DefaultGlobalID, WorkChain: 0}
	payload := cell.BeginCell().
		MustStoreUInt(0x7369676e, 32).
		MustStoreUInt(uint64(id.Serialized()), 32).
		MustStoreUInt(uint64(h.Now().Add(time.Minute).Unix()), 32).
		MustStoreUInt(seqno, 32).
		MustStoreBuilder(actions)
	sig := payload.EndCell().Sign(w.key)
	body := payload.MustStoreSlice(sig, 512).EndCell()
	ext, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: w.addr, StateInit: init, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Chain.SendExternal(ctx, ext.ToBOC())
	if err != nil {
		t.Fatalf("wallet order: %v", err)
	}
	tx := emutest.FindByIn(h.History(t, w.addr), hash)
	if tx == nil || !tx.Success || len(tx.Out) != len(msgs) {
		t.Fatalf("wallet transaction for %x missing or failed: %+v", hash, tx)
	}
	return tx
}

func (h *harness) state(t testing.TB, ch *address.Address) *State {
	t.Helper()
	st, err := ReadState(context.Background(), h.Chain, ch)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// delta is what tx did to its account's balance: the inbound value, less
// everything sent (value and forwarding fees) and the fees.
func delta(tx *ton.Transaction) *big.Int {
	d := new(big.Int)
	if tx.In != nil {
		d.Add(d, tx.In.Value)
	}
	for _, m := range tx.Out {
		d.Sub(d, m.Value).Sub(d, m.FwdFee)
	}
	return d.Sub(d, tx.TotalFees)
}

// party is a payer, a payee and their channel's parameters.
type party struct {
	payer, payee *testWallet
	params       Params
	addr         *address.Address
}

func (h *harness) newParty(t testing.TB, id uint64, timeout time.Duration) *party {
	t.Helper()
	payer, payee := h.newWallet(t, tons(100)), h.newWallet(t, tons(10))
	p := Params{
		Payer:    payer.addr,
		Payee:    payee.addr,
		PayerKey: payer.key.Public().(ed25519.PublicKey),
		GlobalID: h.Chain.GlobalID(),
		ID:       id,
		Timeout:  timeout,
	}
	addr, err := p.Address()
	if err != nil {
		t.Fatal(err)
	}
	return &party{payer: payer, payee: payee, params: p, addr: addr}
}

// open deploys the party's channel with amount and returns the channel's
// transaction.
func (h *harness) open(t testing.TB, p *party, amount *big.Int) *ton.Transaction {
	t.Helper()
	m, err := p.params.OpenMessage(1, amount)
	if err != nil {
		t.Fatal(err)
	}
	ctx := h.FollowOut(t, h.send(t, p.payer, m), 0)
	if !ctx.Success {
		t.Fatalf("open failed with exit code %d", ctx.ExitCode)
	}
	return ctx
}

func (p *party) voucher(t testing.TB, cum *big.Int) *SignedVoucher {
	t.Helper()
	sv, err := Voucher{GlobalID: p.params.GlobalID, Channel: p.addr, Cumulative: cum}.Sign(p.payer.key)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

func redeemMsg(t testing.TB, sv *SignedVoucher) *tlb.InternalMessage {
	t.Helper()
	m, err := RedeemMessage(7, sv)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// refused sends msg from w and checks the channel refused it with code,
// bounced the value back, and changed nothing it stores.
func (h *harness) refused(t testing.TB, w *testWallet, ch *address.Address, msg *tlb.InternalMessage, code ExitCode) {
	t.Helper()
	before, err := h.Chain.Account(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	ctx := h.FollowOut(t, h.send(t, w, msg), 0)
	if ctx.Success || ExitCode(ctx.ExitCode) != code {
		t.Fatalf("channel answered success=%v exit %d, want refusal with exit %d", ctx.Success, ctx.ExitCode, code)
	}
	if !ctx.Bounced || len(ctx.Out) != 1 || !ctx.Out[0].Bounced || ctx.Out[0].Dst.StringRaw() != w.addr.StringRaw() {
		t.Fatalf("refused message (exit %d) did not bounce back to the sender", code)
	}
	after, err := h.Chain.Account(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	if before.Data != nil && !bytes.Equal(before.Data.Hash(), after.Data.Hash()) {
		t.Fatalf("refused message (exit %d) changed the channel's data", code)
	}
}

func tlbNano(n *big.Int) tlb.Coins { return tlb.FromNanoTON(n) }
