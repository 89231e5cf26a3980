package emutest

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/ledger/ton"
)

// TestEnvFollowsFaucetPayment: a faucet payment made after Advance is
// stamped with the moved clock, and Follow, FollowOut, Cascade and Balance
// all find its arrival.
func TestEnvFollowsFaucetPayment(t *testing.T) {
	e := New(t)
	if !e.Now().Equal(Start()) {
		t.Fatalf("new clock reads %v, want %v", e.Now(), Start())
	}
	e.Advance(90 * time.Second)
	want := Start().Add(90 * time.Second)
	if !e.Now().Equal(want) {
		t.Fatalf("clock after Advance reads %v, want %v", e.Now(), want)
	}

	to := address.NewAddress(0, 0, make([]byte, 32))
	to.SetBounce(false)
	amount := big.NewInt(3_000_000_000)
	if err := e.Chain.Faucet(context.Background(), to, amount); err != nil {
		t.Fatal(err)
	}
	if got := e.Balance(t, to); got.Cmp(amount) != 0 {
		t.Fatalf("balance %s, want %s", got, amount)
	}

	hist := e.History(t, e.Chain.FaucetAddress())
	pay := hist[len(hist)-1]
	if len(pay.Out) != 1 || pay.Out[0].Kind != ton.Internal {
		t.Fatalf("faucet transaction sent %d messages, want one internal", len(pay.Out))
	}
	if int64(pay.Now) != want.Unix() {
		t.Fatalf("faucet transaction at %d, want the moved clock %d", pay.Now, want.Unix())
	}
	arrival := e.FollowOut(t, pay, 0)
	if byMsg := e.Follow(t, pay.Out[0]); byMsg.LT != arrival.LT || !sameAccount(byMsg.Account, arrival.Account) {
		t.Fatal("FollowOut and Follow disagree")
	}
	if !sameAccount(arrival.Account, to) || arrival.In.Value.Cmp(amount) != 0 {
		t.Fatalf("arrival on %v with %v, want %s on %s", arrival.Account, arrival.In.Value, amount, to)
	}
	if got := FindByIn(e.History(t, to), pay.Out[0].Hash); got == nil || got.LT != arrival.LT {
		t.Fatal("FindByIn missed the arrival in the receiver's history")
	}
	if FindByIn(hist, pay.Out[0].Hash) != nil {
		t.Fatal("FindByIn found the payment's message in the sender's own history")
	}
	cas := e.Cascade(t, pay)
	if len(cas) != 2 || cas[0] != pay || cas[1].LT != arrival.LT {
		t.Fatalf("cascade has %d transactions, want the payment and its arrival", len(cas))
	}
}

func sameAccount(a, b *address.Address) bool {
	return a.Workchain() == b.Workchain() && string(a.Data()) == string(b.Data())
}

func TestOpOf(t *testing.T) {
	for _, c := range []struct {
		name string
		body *cell.Cell
		want uint32
	}{
		{"nil", nil, 0},
		{"short", cell.BeginCell().MustStoreUInt(7, 16).EndCell(), 0},
		{"op", cell.BeginCell().MustStoreUInt(0x5fcc3d14, 32).MustStoreUInt(1, 64).EndCell(), 0x5fcc3d14},
	} {
		if got := OpOf(c.body); got != c.want {
			t.Errorf("%s: OpOf = %#x, want %#x", c.name, got, c.want)
		}
	}
}
