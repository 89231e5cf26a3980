package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

func TestAddressMatchesIdentity(t *testing.T) {
	e := newEnv(t)
	words, err := identity.NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.FromMnemonic(words)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []identity.WalletVersion{identity.V5R1, identity.V4R2} {
		w, err := New(e.chain, id.WalletKey, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := id.WalletAddress(v, identity.Emu)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Address().String(); got != want.String() {
			t.Errorf("%s address %s, identity says %s", v, got, want)
		}
	}
	if _, err := New(e.chain, id.WalletKey, "v3r2", nil); err == nil || !strings.Contains(err.Error(), "unknown wallet version") {
		t.Errorf("unknown version: err = %v", err)
	}
	if _, err := New(e.chain, id.WalletKey[:10], identity.V5R1, nil); err == nil {
		t.Errorf("short key accepted")
	}
}

// TestSendDeployAndBalances: faucet, deploy with the first send, a
// comment to another wallet, and balances to the nanoTON, on both wallet
// versions.
func TestSendDeployAndBalances(t *testing.T) {
	for _, v := range []identity.WalletVersion{identity.V5R1, identity.V4R2} {
		t.Run(string(v), func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			alice, bob := newWallet(t, e.chain, nil, v), newWallet(t, e.chain, nil, v)
			fund(t, e.chain, alice.Address(), tons(10))
			if st := account(t, e.chain, alice.Address()); st.Status != ton.StatusUninit {
				t.Fatalf("alice is %s after the faucet, want uninit", st.Status)
			}
			if n, err := alice.Seqno(ctx); err != nil || n != 0 {
				t.Fatalf("seqno of an undeployed wallet = %d, %v; want 0", n, err)
			}

			before, err := alice.Balance(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r, err := alice.Send(ctx, bob.Address(), tons(2), "hello bob")
			if err != nil {
				t.Fatalf("first send: %v", err)
			}
			if !r.Deployed || r.Seqno != 0 || len(r.MsgHash) != 32 || len(r.TxHash) != 32 || r.TxLT == 0 || len(r.Sent) != 1 {
				t.Fatalf("receipt of the deploying send: %+v", r)
			}
			if st := account(t, e.chain, alice.Address()); st.Status != ton.StatusActive || !bytes.Equal(st.LastTxHash, r.TxHash) {
				t.Fatalf("alice after first send: %s, last tx %x, receipt tx %x", st.Status, st.LastTxHash, r.TxHash)
			}
			after, _ := alice.Balance(ctx)
			if want := new(big.Int).Sub(before, new(big.Int).Add(tons(2), r.Fees)); after.Cmp(want) != 0 {
				t.Fatalf("alice balance %s, want before - amount - fees = %s", after, want)
			}
			if r.Sent[0].Bounce {
				t.Fatalf("transfer to an undeployed wallet was bounceable")
			}
			btxs := incoming(history(t, e.chain, bob.Address()), alice.Address())
			if len(btxs) != 1 || btxs[0].In.Comment != "hello bob" || !bytes.Equal(btxs[0].In.Hash, r.Sent[0].Hash) {
				t.Fatalf("bob's incoming transactions: %+v", btxs)
			}
			bobBal, _ := bob.Balance(ctx)
			if want := new(big.Int).Sub(tons(2), btxs[0].TotalFees); bobBal.Cmp(want) != 0 {
				t.Fatalf("bob balance %s, want %s", bobBal, want)
			}

			// Second send: no state init, seqno 1; bob deploys by paying
			// back, bounceable since alice is active.
			r2, err := alice.Send(ctx, bob.Address(), big.NewInt(123_456_789), "")
			if err != nil {
				t.Fatalf("second send: %v", err)
			}
			if r2.Deployed || r2.Seqno != 1 {
				t.Fatalf("second receipt: deployed %v seqno %d", r2.Deployed, r2.Seqno)
			}
			if n, _ := alice.Seqno(ctx); n != 2 {
				t.Fatalf("alice seqno %d after two sends, want 2", n)
			}
			r3, err := bob.Send(ctx, alice.Address(), tons(1), "back")
			if err != nil {
				t.Fatalf("bob pays back: %v", err)
			}
			if !r3.Deployed || !r3.Sent[0].Bounce {
				t.Fatalf("bob's first send: deployed %v, bounce %v (alice is active: want bounceable)", r3.Deployed, r3.Sent[0].Bounce)
			}
			atxs := incoming(history(t, e.chain, alice.Address()), bob.Address())
			if len(atxs) != 1 || atxs[0].In.Comment != "back" {
				t.Fatalf("alice's incoming from bob: %+v", atxs)
			}
			final, _ := alice.Balance(ctx)
			want := new(big.Int).Sub(after, new(big.Int).Add(big.NewInt(123_456_789), r2.Fees))
			want.Add(want, tons(1)).Sub(want, atxs[0].TotalFees)
			if final.Cmp(want) != 0 {
				t.Fatalf("alice final balance %s, want %s", final, want)
			}
		})
	}
}

func TestConcurrentSendsLandOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := newWallet(t, e.chain, nil, identity.V5R1), newWallet(t, e.chain, nil, identity.V5R1)
	fund(t, e.chain, alice.Address(), tons(20))
	const n = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		seqnos   = map[uint32]bool{}
		failures []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := alice.Send(ctx, bob.Address(), big.NewInt(100_000_000), fmt.Sprintf("payment %d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures = append(failures, err)
				return
			}
			seqnos[r.Seqno] = true
		}()
	}
	wg.Wait()
	if len(failures) != 0 {
		t.Fatalf("%d sends failed, first: %v", len(failures), failures[0])
	}
	if len(seqnos) != n {
		t.Fatalf("sends used %d distinct seqnos, want %d", len(seqnos), n)
	}
	if got, _ := alice.Seqno(ctx); got != n {
		t.Fatalf("alice seqno %d, want %d", got, n)
	}
	seen := map[string]int{}
	for _, tx := range incoming(history(t, e.chain, bob.Address()), alice.Address()) {
		seen[tx.In.Comment]++
	}
	for i := range n {
		if c := seen[fmt.Sprintf("payment %d", i)]; c != 1 {
			t.Errorf("payment %d arrived %d times, want once", i, c)
		}
	}
	if len(seen) != n {
		t.Errorf("bob received %d distinct payments, want %d", len(seen), n)
	}
}

func TestRefusalsSendNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := newWallet(t, e.chain, nil, identity.V5R1), newWallet(t, e.chain, nil, identity.V5R1)
	fund(t, e.chain, alice.Address(), tons(1))
	before := account(t, e.chain, alice.Address())

	_, err := alice.Send(ctx, bob.Address(), tons(1), "too much")
	if !errors.Is(err, ErrInsufficientBalance) {
		t.Fatalf("send of the whole balance: err = %v, want ErrInsufficientBalance", err)
	}
	for _, want := range []string{"holds " + FormatTON(before.Balance) + " TON", "sending 1 TON", "estimated fee 0.05 TON"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("insufficient-balance error %q does not say %q", err, want)
		}
	}
	if _, err := alice.Send(ctx, bob.Address(), big.NewInt(0), ""); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("zero amount: err = %v", err)
	}
	if _, err := alice.Send(ctx, bob.Address(), big.NewInt(-5), ""); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("negative amount: err = %v", err)
	}
	if _, err := alice.Send(ctx, nil, tons(1), ""); err == nil || !strings.Contains(err.Error(), "destination") {
		t.Errorf("nil destination: err = %v", err)
	}
	if _, err := alice.Send(ctx, bob.Address(), big.NewInt(1), strings.Repeat("x", MaxCommentBytes+1)); err == nil || !strings.Contains(err.Error(), "comment") {
		t.Errorf("huge comment: err = %v", err)
	}
	// An order signed with a clock far behind the chain is expired: the
	// wallet contract refuses it and nothing changes.
	late := newWallet(t, e.chain, nil, identity.V5R1, WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	fund(t, e.chain, late.Address(), tons(1))
	if _, err := late.Send(ctx, bob.Address(), big.NewInt(1000), ""); !errors.Is(err, ton.ErrRejected) || !strings.Contains(err.Error(), "refused order seqno 0") {
		t.Fatalf("expired order: err = %v, want a refusal wrapping ton.ErrRejected", err)
	}
	if st := account(t, e.chain, late.Address()); st.Status != ton.StatusUninit {
		t.Fatalf("refused deploy changed the wallet to %s", st.Status)
	}

	after := account(t, e.chain, alice.Address())
	if after.Balance.Cmp(before.Balance) != 0 || after.LastTxLT != before.LastTxLT || after.Status != before.Status {
		t.Fatalf("refused sends changed alice: %s/%d -> %s/%d", before.Balance, before.LastTxLT, after.Balance, after.LastTxLT)
	}
	if st := account(t, e.chain, bob.Address()); st.Status != ton.StatusNonExist {
		t.Fatalf("bob exists after refused sends: %s", st.Status)
	}
}

// TestNotSentReported: with no fee reserve the wallet signs an order its
// balance cannot pay; the chain runs it (seqno used) but no message goes
// out, and Send says so.
func TestNotSentReported(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := newWallet(t, e.chain, nil, identity.V5R1, WithFeeReserve(new(big.Int)))
	bob := newWallet(t, e.chain, nil, identity.V5R1)
	fund(t, e.chain, alice.Address(), tons(1))
	all, _ := alice.Balance(ctx)
	r, err := alice.Send(ctx, bob.Address(), all, "")
	if !errors.Is(err, ErrNotSent) || r == nil || len(r.Sent) != 0 {
		t.Fatalf("send of the whole balance without reserve: receipt %+v, err %v; want ErrNotSent", r, err)
	}
	if n, _ := alice.Seqno(ctx); n != 1 {
		t.Fatalf("seqno %d after the failed order, want 1 (the order ran)", n)
	}
	if st := account(t, e.chain, bob.Address()); st.Status != ton.StatusNonExist {
		t.Fatalf("bob received something: %s", st.Status)
	}
}

func TestParseAddress(t *testing.T) {
	e := newEnv(t)
	w := newWallet(t, e.chain, nil, identity.V5R1)
	for _, s := range []string{w.Address().String(), w.Address().StringRaw(), w.Address().Bounce(true).String()} {
		a, err := ParseAddress(s)
		if err != nil || !a.Equals(w.Address()) {
			t.Errorf("ParseAddress(%q) = %v, %v", s, a, err)
		}
	}
	for _, s := range []string{"", "hello", "0:1234", "EQ" + strings.Repeat("A", 46), "0:" + strings.Repeat("zz", 32)} {
		if _, err := ParseAddress(s); err == nil {
			t.Errorf("ParseAddress(%q) accepted", s)
		}
	}
}
