package channel

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

const nanoPerTON = 1_000_000_000

func tons(n int64) *big.Int { return big.NewInt(n * nanoPerTON) }

// harness is an emulated chain with a clock the test moves.
type harness struct {
	chain *emu.Chain
	store *ledger.Store

	mu  sync.Mutex
	now time.Time
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	store, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{store: store, now: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)}
	h.chain, err = emu.New(store, emu.WithClock(h.clock))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
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
	if err := h.chain.Faucet(context.Background(), addr, fund); err != nil {
		t.Fatal(err)
	}
	return &testWallet{key: key, addr: addr, init: init}
}

// send signs and submits one order carrying msgs (mode 3 each) and returns
// the wallet's transaction.
func (h *harness) send(t testing.TB, w *testWallet, msgs ...*tlb.InternalMessage) *ton.Transaction {
	t.Helper()
	ctx := context.Background()
	st, err := h.chain.Account(ctx, w.addr)
	if err != nil {
		t.Fatal(err)
	}
	var seqno uint64
	var init *tlb.StateInit
	if st.Status == ton.StatusActive {
		res, err := h.chain.RunGetMethod(ctx, w.addr, "seqno")
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
		MustStoreUInt(uint64(h.clock().Add(time.Minute).Unix()), 32).
		MustStoreUInt(seqno, 32).
		MustStoreBuilder(actions)
	sig := payload.EndCell().Sign(w.key)
	body := payload.MustStoreSlice(sig, 512).EndCell()
	ext, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: w.addr, StateInit: init, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.chain.SendExternal(ctx, ext.ToBOC())
	if err != nil {
		t.Fatalf("wallet order: %v", err)
	}
	tx := findByIn(h.history(t, w.addr), hash)
	if tx == nil || !tx.Success || len(tx.Out) != len(msgs) {
		t.Fatalf("wallet transaction for %x missing or failed: %+v", hash, tx)
	}
	return tx
}

// follow returns the transaction that out-message i of tx caused at its
// destination.
func (h *harness) follow(t testing.TB, tx *ton.Transaction, i int) *ton.Transaction {
	t.Helper()
	m := tx.Out[i]
	got := findByIn(h.history(t, m.Dst), m.Hash)
	if got == nil {
		t.Fatalf("no transaction at %s for message %x", m.Dst, m.Hash)
	}
	return got
}

func (h *harness) history(t testing.TB, addr *address.Address) []*ton.Transaction {
	t.Helper()
	txs, err := h.chain.Transactions(context.Background(), addr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return txs
}

func (h *harness) balance(t testing.TB, addr *address.Address) *big.Int {
	t.Helper()
	st, err := h.chain.Account(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return st.Balance
}

func (h *harness) state(t testing.TB, ch *address.Address) *State {
	t.Helper()
	st, err := ReadState(context.Background(), h.chain, ch)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func findByIn(txs []*ton.Transaction, hash []byte) *ton.Transaction {
	for _, tx := range txs {
		if tx.In != nil && bytes.Equal(tx.In.Hash, hash) {
			return tx
		}
	}
	return nil
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
		GlobalID: h.chain.GlobalID(),
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
	ctx := h.follow(t, h.send(t, p.payer, m), 0)
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
	before, err := h.chain.Account(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	ctx := h.follow(t, h.send(t, w, msg), 0)
	if ctx.Success || ExitCode(ctx.ExitCode) != code {
		t.Fatalf("channel answered success=%v exit %d, want refusal with exit %d", ctx.Success, ctx.ExitCode, code)
	}
	if !ctx.Bounced || len(ctx.Out) != 1 || !ctx.Out[0].Bounced || ctx.Out[0].Dst.StringRaw() != w.addr.StringRaw() {
		t.Fatalf("refused message (exit %d) did not bounce back to the sender", code)
	}
	after, err := h.chain.Account(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	if before.Data != nil && !bytes.Equal(before.Data.Hash(), after.Data.Hash()) {
		t.Fatalf("refused message (exit %d) changed the channel's data", code)
	}
}

func tlbNano(n *big.Int) tlb.Coins { return tlb.FromNanoTON(n) }

// opOf is the 32-bit op of a message body, or 0.
func opOf(body *cell.Cell) uint32 {
	if body == nil {
		return 0
	}
	s, err := body.BeginParse()
	if err != nil {
		return 0
	}
	op, _ := s.LoadUInt(32)
	return uint32(op)
}
