package emu

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/big"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
)

func TestGenesisFaucet(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()

	st, err := c.Account(ctx, c.FaucetAddress())
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != ton.StatusActive {
		t.Fatalf("faucet status %s, want active", st.Status)
	}
	txs := history(t, c, c.FaucetAddress())
	if len(txs) != 1 || !txs[0].Success {
		t.Fatalf("faucet history: %d transactions, want 1 successful genesis", len(txs))
	}
	want := new(big.Int).Sub(DefaultGenesisSupply, txs[0].TotalFees)
	if st.Balance.Cmp(want) != 0 {
		t.Fatalf("faucet balance %s, want supply - genesis fees = %s", st.Balance, want)
	}
	if got := seqno(t, c, c.FaucetAddress()); got != 0 {
		t.Fatalf("faucet seqno %d, want 0", got)
	}
	res, err := c.RunGetMethod(ctx, c.FaucetAddress(), "get_public_key")
	if err != nil {
		t.Fatal(err)
	}
	pub := c.faucetKey.Public().(ed25519.PublicKey)
	if res[0].(*big.Int).Cmp(new(big.Int).SetBytes(pub)) != 0 {
		t.Fatalf("get_public_key = %x, want %x", res[0], pub)
	}
	if c.GlobalID() != -3 {
		t.Fatalf("global id %d", c.GlobalID())
	}
}

func TestFaucetDeployTransfer(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	alice, bob := newTestWallet(t), newTestWallet(t)

	// Faucet to a never-used address: it becomes uninit holding the amount.
	faucetBefore := balance(t, c, c.FaucetAddress())
	if err := c.Faucet(ctx, alice.addr, tons(10)); err != nil {
		t.Fatalf("faucet: %v", err)
	}
	st, _ := c.Account(ctx, alice.addr)
	if st.Status != ton.StatusUninit {
		t.Fatalf("alice status %s, want uninit", st.Status)
	}
	aliceTxs := history(t, c, alice.addr)
	if len(aliceTxs) != 1 || aliceTxs[0].In.Comment != faucetComment {
		t.Fatalf("alice history after faucet: %+v", aliceTxs)
	}
	if want := new(big.Int).Sub(tons(10), aliceTxs[0].TotalFees); st.Balance.Cmp(want) != 0 {
		t.Fatalf("alice balance %s, want %s", st.Balance, want)
	}
	ftxs := history(t, c, c.FaucetAddress())
	ftx := ftxs[len(ftxs)-1]
	lost := new(big.Int).Sub(faucetBefore, balance(t, c, c.FaucetAddress()))
	if want := new(big.Int).Add(tons(10), new(big.Int).Add(ftx.TotalFees, sumFwd(ftx))); lost.Cmp(want) != 0 {
		t.Fatalf("faucet lost %s, want amount+fees = %s", lost, want)
	}
	if got := seqno(t, c, c.FaucetAddress()); got != 1 {
		t.Fatalf("faucet seqno %d after one transfer, want 1", got)
	}

	// Alice's first order carries her state init: it deploys her wallet
	// and pays bob (who does not exist yet: non-bounceable).
	aliceBefore := balance(t, c, alice.addr)
	hash, err := c.SendExternal(ctx, alice.order(t, c, bob.addr, tons(2), false, "hello bob"))
	if err != nil {
		t.Fatalf("alice deploy+transfer: %v", err)
	}
	atx := findByIn(history(t, c, alice.addr), hash)
	if atx == nil || !atx.Success || len(atx.Out) != 1 {
		t.Fatalf("alice's transaction for message %x not found or failed: %+v", hash, atx)
	}
	st, _ = c.Account(ctx, alice.addr)
	if st.Status != ton.StatusActive {
		t.Fatalf("alice status %s after first order, want active", st.Status)
	}
	lost = new(big.Int).Sub(aliceBefore, st.Balance)
	if want := new(big.Int).Add(tons(2), new(big.Int).Add(atx.TotalFees, sumFwd(atx))); lost.Cmp(want) != 0 {
		t.Fatalf("alice lost %s, want amount+fees = %s", lost, want)
	}
	if atx.TotalFees.Sign() <= 0 {
		t.Fatalf("alice paid no fees")
	}
	btx := findByIn(history(t, c, bob.addr), atx.Out[0].Hash)
	if btx == nil || btx.In.Comment != "hello bob" || btx.In.Src.StringRaw() != alice.addr.StringRaw() {
		t.Fatalf("bob's transaction for alice's message not found or wrong: %+v", btx)
	}
	if got, want := balance(t, c, bob.addr), new(big.Int).Sub(tons(2), btx.TotalFees); got.Cmp(want) != 0 {
		t.Fatalf("bob balance %s, want %s", got, want)
	}
	if got := seqno(t, c, alice.addr); got != 1 {
		t.Fatalf("alice seqno %d, want 1", got)
	}
	res, err := c.RunGetMethod(ctx, alice.addr, "get_public_key")
	if err != nil || res[0].(*big.Int).Cmp(new(big.Int).SetBytes(alice.key.Public().(ed25519.PublicKey))) != 0 {
		t.Fatalf("alice get_public_key = %v, %v", res, err)
	}

	// Bob deploys and pays alice back, bounceable to an active wallet.
	bobBefore, aliceBefore := balance(t, c, bob.addr), balance(t, c, alice.addr)
	hash, err = c.SendExternal(ctx, bob.order(t, c, alice.addr, big.NewInt(123_456_789), true, "thanks"))
	if err != nil {
		t.Fatalf("bob transfer: %v", err)
	}
	btx = findByIn(history(t, c, bob.addr), hash)
	if btx == nil || !btx.Success {
		t.Fatalf("bob's transaction not found or failed: %+v", btx)
	}
	lost = new(big.Int).Sub(bobBefore, balance(t, c, bob.addr))
	if want := new(big.Int).Add(big.NewInt(123_456_789), new(big.Int).Add(btx.TotalFees, sumFwd(btx))); lost.Cmp(want) != 0 {
		t.Fatalf("bob lost %s, want %s", lost, want)
	}
	atx = findByIn(history(t, c, alice.addr), btx.Out[0].Hash)
	if atx == nil || atx.In.Comment != "thanks" {
		t.Fatalf("alice did not receive bob's message: %+v", atx)
	}
	t.Logf("v5r1 transfer fees: sender total %s + forward %s nanoTON; active receiver %v nanoTON", btx.TotalFees, sumFwd(btx), atx.TotalFees)
	gained := new(big.Int).Sub(balance(t, c, alice.addr), aliceBefore)
	if want := new(big.Int).Sub(big.NewInt(123_456_789), atx.TotalFees); gained.Cmp(want) != 0 {
		t.Fatalf("alice gained %s, want %s", gained, want)
	}
}

func TestRefusedExternalsChangeNothing(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	alice, bob := newTestWallet(t), newTestWallet(t)
	if err := c.Faucet(ctx, alice.addr, tons(5)); err != nil {
		t.Fatal(err)
	}
	order := alice.order(t, c, bob.addr, tons(1), false, "once")
	if _, err := c.SendExternal(ctx, order); err != nil {
		t.Fatalf("first send: %v", err)
	}
	before, _ := c.Account(ctx, alice.addr)
	nTx := len(history(t, c, alice.addr))
	bobBefore := balance(t, c, bob.addr)

	// Replay: the wallet's own seqno check refuses it.
	if _, err := c.SendExternal(ctx, order); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("replayed external: err = %v, want ErrRejected", err)
	}
	// Bad signature: flip one bit of the signature (the body's last bits).
	bad := alice.order(t, c, bob.addr, tons(1), false, "forged")
	ext, err := ton.ParseExternal(bad)
	if err != nil {
		t.Fatal(err)
	}
	body := ext.Msg.AsExternalIn().Body
	forged := flipLastSignatureBit(t, ext, body)
	if _, err := c.SendExternal(ctx, forged); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("forged external: err = %v, want ErrRejected", err)
	}
	after, _ := c.Account(ctx, alice.addr)
	if after.Balance.Cmp(before.Balance) != 0 || after.LastTxLT != before.LastTxLT || len(history(t, c, alice.addr)) != nTx {
		t.Fatalf("refused messages changed alice: balance %s -> %s, lt %d -> %d", before.Balance, after.Balance, before.LastTxLT, after.LastTxLT)
	}
	if balance(t, c, bob.addr).Cmp(bobBefore) != 0 {
		t.Fatalf("refused messages changed bob's balance")
	}
	if got := seqno(t, c, alice.addr); got != 1 {
		t.Fatalf("alice seqno %d, want 1", got)
	}
	// The properly signed order with the right seqno still goes through.
	if _, err := c.SendExternal(ctx, bad); err != nil {
		t.Fatalf("valid second order: %v", err)
	}
	if got := seqno(t, c, alice.addr); got != 2 {
		t.Fatalf("alice seqno %d, want 2", got)
	}
}

func TestBounceReturnsValue(t *testing.T) {
	c, store := openChain(t, t.TempDir())
	defer store.Close()
	ctx := context.Background()
	alice, nobody := newTestWallet(t), newTestWallet(t)
	if err := c.Faucet(ctx, alice.addr, tons(5)); err != nil {
		t.Fatal(err)
	}
	// Deploy alice first so the bounce test measures one transfer only.
	if _, err := c.SendExternal(ctx, alice.order(t, c, alice.addr, big.NewInt(1), false, "deploy")); err != nil {
		t.Fatal(err)
	}
	before := balance(t, c, alice.addr)
	hash, err := c.SendExternal(ctx, alice.order(t, c, nobody.addr, tons(1), true, "bounce me"))
	if err != nil {
		t.Fatal(err)
	}
	txs := history(t, c, alice.addr)
	send := findByIn(txs, hash)
	ntx := findByIn(history(t, c, nobody.addr), send.Out[0].Hash)
	if ntx == nil || !ntx.Bounced || len(ntx.Out) != 1 || !ntx.Out[0].Bounced {
		t.Fatalf("transfer to a non-existent address did not bounce: %+v", ntx)
	}
	back := findByIn(txs, ntx.Out[0].Hash)
	if back == nil {
		t.Fatalf("bounce did not come back to alice")
	}
	st, _ := c.Account(ctx, nobody.addr)
	if st.Status != ton.StatusNonExist || st.Balance.Sign() != 0 {
		t.Fatalf("bounced-from address is %s with %s", st.Status, st.Balance)
	}
	// alice pays: her send (amount + fees + forward fee), minus what came
	// back (the bounce's value), plus the fees of the bounce's arrival.
	got := balance(t, c, alice.addr)
	want := new(big.Int).Sub(before, tons(1))
	want.Sub(want, send.TotalFees).Sub(want, sumFwd(send))
	want.Add(want, ntx.Out[0].Value).Sub(want, back.TotalFees)
	if got.Cmp(want) != 0 {
		t.Fatalf("alice balance after bounce %s, want %s", got, want)
	}
	if ntx.Out[0].Value.Cmp(tons(1)) >= 0 || ntx.Out[0].Value.Sign() <= 0 {
		t.Fatalf("bounced value %s should be the amount less fees", ntx.Out[0].Value)
	}
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, store := openChain(t, dir)
	alice, bob := newTestWallet(t), newTestWallet(t)
	if err := c.Faucet(ctx, alice.addr, tons(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendExternal(ctx, alice.order(t, c, bob.addr, tons(1), false, "before restart")); err != nil {
		t.Fatal(err)
	}
	aliceBal, bobBal, faucetBal := balance(t, c, alice.addr), balance(t, c, bob.addr), balance(t, c, c.FaucetAddress())
	aliceHist := history(t, c, alice.addr)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	c2, store2 := openChain(t, dir)
	defer store2.Close()
	if got := balance(t, c2, alice.addr); got.Cmp(aliceBal) != 0 {
		t.Fatalf("alice balance after restart %s, want %s", got, aliceBal)
	}
	if got := balance(t, c2, bob.addr); got.Cmp(bobBal) != 0 {
		t.Fatalf("bob balance after restart %s, want %s", got, bobBal)
	}
	if got := balance(t, c2, c2.FaucetAddress()); got.Cmp(faucetBal) != 0 {
		t.Fatalf("faucet balance after restart %s, want %s", got, faucetBal)
	}
	h2 := history(t, c2, alice.addr)
	if len(h2) != len(aliceHist) {
		t.Fatalf("alice history %d transactions after restart, want %d", len(h2), len(aliceHist))
	}
	for i := range h2 {
		if string(h2[i].Hash) != string(aliceHist[i].Hash) {
			t.Fatalf("transaction %d differs after restart", i)
		}
	}
	// The chain goes on: seqnos continue, LT keeps increasing.
	if _, err := c2.SendExternal(ctx, alice.order(t, c2, bob.addr, tons(1), false, "after restart")); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	if err := c2.Faucet(ctx, bob.addr, tons(1)); err != nil {
		t.Fatalf("faucet after restart: %v", err)
	}
	h3 := history(t, c2, alice.addr)
	if last, prev := h3[len(h3)-1], h3[len(h3)-2]; last.LT <= prev.LT || string(last.PrevHash) != string(prev.Hash) || last.PrevLT != prev.LT {
		t.Fatalf("history not chained after restart: prev lt %d, last lt %d prevLT %d", prev.LT, last.LT, last.PrevLT)
	}
	if got := seqno(t, c2, alice.addr); got != 2 {
		t.Fatalf("alice seqno %d after restart, want 2", got)
	}
}
