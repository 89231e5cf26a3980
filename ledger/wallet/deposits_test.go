package wallet

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/p2p/identity"
)

// TestDepositsOnceAcrossSyncsAndRestart: deposits are recorded once, even
// when Sync runs twice and after the process reopens its store.
func TestDepositsOnceAcrossSyncsAndRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e := openEnv(t, dir)
	key := newKey(t)
	alice, err := New(e.chain, key, identity.V5R1, e.space)
	if err != nil {
		t.Fatal(err)
	}
	bob := newWallet(t, e.chain, nil, identity.V5R1)
	fund(t, e.chain, alice.Address(), tons(3))
	fund(t, e.chain, bob.Address(), tons(5))
	if _, err := bob.Send(ctx, alice.Address(), tons(2), "for alice"); err != nil {
		t.Fatal(err)
	}
	// Alice's own send and its transaction are not deposits.
	if _, err := alice.Send(ctx, bob.Address(), tons(1), "out"); err != nil {
		t.Fatal(err)
	}

	added, err := alice.Deposits().Sync(ctx)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if len(added) != 2 {
		t.Fatalf("first sync recorded %d deposits, want 2 (faucet, bob)", len(added))
	}
	if added[1].Comment != "for alice" || !added[1].From.Equals(bob.Address()) || added[1].Amount.Cmp(tons(2)) != 0 {
		t.Fatalf("bob's deposit recorded as %+v", added[1])
	}
	if !added[0].From.Equals(e.chain.FaucetAddress()) || added[0].Amount.Cmp(tons(3)) != 0 {
		t.Fatalf("faucet deposit recorded as %+v", added[0])
	}
	again, err := alice.Deposits().Sync(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second sync recorded %d, err %v; want none", len(again), err)
	}
	lt, total, err := alice.Deposits().Cursor()
	if err != nil {
		t.Fatal(err)
	}
	if st := account(t, e.chain, alice.Address()); lt != st.LastTxLT {
		t.Fatalf("cursor lt %d, want the account's last lt %d", lt, st.LastTxLT)
	}
	if total.Cmp(tons(5)) != 0 {
		t.Fatalf("total credited %s, want 5 TON", total)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: reopen the store, the chain and the wallet.
	e = openEnv(t, dir)
	defer e.store.Close()
	alice, err = New(e.chain, key, identity.V5R1, e.space)
	if err != nil {
		t.Fatal(err)
	}
	if added, err := alice.Deposits().Sync(ctx); err != nil || len(added) != 0 {
		t.Fatalf("sync after restart recorded %d, err %v; want none", len(added), err)
	}
	fund(t, e.chain, alice.Address(), big.NewInt(7))
	added, err = alice.Deposits().Sync(ctx)
	if err != nil || len(added) != 1 || added[0].Amount.Int64() != 7 {
		t.Fatalf("sync of a new deposit after restart: %d recorded, err %v", len(added), err)
	}
	list, err := alice.Deposits().ListDeposits()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("ListDeposits has %d, want 3", len(list))
	}
	sum := new(big.Int)
	for i, d := range list {
		sum.Add(sum, d.Amount)
		if i > 0 && d.LT <= list[i-1].LT {
			t.Fatalf("deposits not in LT order")
		}
		if len(d.TxHash) != 32 || d.Fee.Sign() < 0 || d.Time.IsZero() {
			t.Fatalf("deposit %d incomplete: %+v", i, d)
		}
	}
	if !bytes.Equal(list[2].TxHash, added[0].TxHash) {
		t.Fatalf("last listed deposit is not the new one")
	}
	if _, total, _ := alice.Deposits().Cursor(); total.Cmp(sum) != 0 {
		t.Fatalf("total %s differs from the sum of deposits %s", total, sum)
	}
}

// TestDepositsBounceNotCredited: a bounce coming back is the wallet's own
// money, not a deposit.
func TestDepositsBounceNotCredited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := newWallet(t, e.chain, e.space, identity.V5R1)
	nobody := newWallet(t, e.chain, nil, identity.V5R1)
	fund(t, e.chain, alice.Address(), tons(3))
	// Bounceable to a never-used address: it comes back.
	r, err := alice.SendPayload(ctx, nobody.Address(), tons(1), nil, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sent[0].Bounce {
		t.Fatal("message not bounceable")
	}
	back := false
	for _, tx := range history(t, e.chain, alice.Address()) {
		back = back || (tx.In != nil && tx.In.Bounced)
	}
	if !back {
		t.Fatal("bounce did not come back")
	}
	added, err := alice.Deposits().Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || !added[0].From.Equals(e.chain.FaucetAddress()) {
		t.Fatalf("recorded %d deposits, want only the faucet's: %+v", len(added), added)
	}
}

func TestDepositsRun(t *testing.T) {
	e := newEnv(t)
	alice := newWallet(t, e.chain, e.space, identity.V5R1, WithPollInterval(10*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- alice.Deposits().Run(ctx) }()
	fund(t, e.chain, alice.Address(), tons(1))

	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	for {
		list, err := alice.Deposits().ListDeposits()
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 {
			break
		}
		select {
		case <-wait.Done():
			t.Fatalf("Run did not record the deposit: %d recorded", len(list))
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}
