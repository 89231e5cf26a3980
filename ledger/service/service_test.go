package service_test

import (
	"context"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/ledger/service"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

func ledgerClient(t *testing.T, c *harness.Cluster, i int) *service.Client {
	return service.NewClient(c.Client(t, i).Client)
}

func nano(t *testing.T, a service.Amount) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(a.Nano, 10)
	if !ok {
		t.Fatalf("bad amount %+v", a)
	}
	return n
}

// TestThreeNodesFaucetAndTransfer runs the ledger over three real nodes: the
// first hosts the emulated chain; the others reach it over libp2p.
func TestThreeNodesFaucetAndTransfer(t *testing.T) {
	c := harness.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range c.Nodes {
		if err := n.Ledger().WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a, b := ledgerClient(t, c, 1), ledgerClient(t, c, 2)
	if _, err := a.Faucet(ctx, "50"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Faucet(ctx, "5"); err != nil {
		t.Fatal(err)
	}
	balB, err := b.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Send(ctx, service.SendRequest{To: balB.Address, Amount: "12.345", Comment: "rent"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Deployed {
		t.Error("first send did not report deploying the wallet")
	}
	balA, _ := a.Balance(ctx)
	wantA := new(big.Int).Sub(big.NewInt(50_000_000_000), big.NewInt(12_345_000_000))
	wantA.Sub(wantA, nano(t, res.Fees))
	if got := nano(t, balA.Balance); got.Cmp(wantA) != 0 {
		t.Errorf("sender balance %s, want 50 - 12.345 - fees = %s", got, wantA)
	}
	// The receiver's wallet is not deployed (uninit): receiving costs it only
	// storage, read from its own transaction.
	hist, err := b.History(ctx, 5)
	if err != nil || len(hist) < 2 {
		t.Fatalf("receiver history %v, %v", hist, err)
	}
	in := hist[0]
	if in.In == nil || in.In.Comment != "rent" || nano(t, in.In.Value).Cmp(big.NewInt(12_345_000_000)) != 0 {
		t.Fatalf("receiver's last transaction %+v", in)
	}
	wantB := new(big.Int).Add(big.NewInt(5_000_000_000), big.NewInt(12_345_000_000))
	for _, h := range hist[:2] {
		wantB.Sub(wantB, nano(t, h.Fees))
	}
	balB, _ = b.Balance(ctx)
	if got := nano(t, balB.Balance); got.Cmp(wantB) != 0 {
		t.Errorf("receiver balance %s, want 5 + 12.345 - fees = %s", got, wantB)
	}

	// Every node sees the same chain: node 1 (the host) agrees with node 3.
	viaHost, err := c.Nodes[0].Ledger().Chain()
	if err != nil {
		t.Fatal(err)
	}
	wB, _ := c.Nodes[2].Ledger().Wallet()
	st, err := viaHost.Account(ctx, wB.Address())
	if err != nil || st.Balance.Cmp(nano(t, balB.Balance)) != 0 {
		t.Errorf("host sees %v for node 3's wallet, node 3 sees %s (%v)", st.Balance, balB.Balance.Nano, err)
	}

	// The receiver's deposit scanner records the transfer once.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		deps, err := b.Deposits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(deps) == 2 {
			if deps[1].Comment != "rent" && deps[0].Comment != "rent" {
				t.Errorf("deposits %+v lack the transfer", deps)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the receiver never recorded 2 deposits (faucet + transfer)")
}

func TestBadLedgerRequests(t *testing.T) {
	c := harness.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Nodes[1].Ledger().WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	cl := c.Client(t, 1).Client
	l := service.NewClient(cl)
	unknownChannel := "0:" + strings.Repeat("07", 32)
	cases := []struct {
		name   string
		err    error
		status int
	}{
		{"amount with 10 decimals", post(ctx, cl, "/api/v1/ledger/faucet", `{"amount":"1.0000000001"}`), http.StatusBadRequest},
		{"negative amount", post(ctx, cl, "/api/v1/ledger/send", `{"to":"0QANf_wTKfVD7MgloawYkj3xo74GYrZll_Jf0SCZ0tnFu-d7","amount":"-1"}`), http.StatusBadRequest},
		{"bad address", post(ctx, cl, "/api/v1/ledger/send", `{"to":"nope","amount":"1"}`), http.StatusBadRequest},
		{"unknown field", post(ctx, cl, "/api/v1/ledger/send", `{"to":"x","amount":"1","memo":"x"}`), http.StatusBadRequest},
		{"not JSON", post(ctx, cl, "/api/v1/ledger/send", `to=x`), http.StatusBadRequest},
		{"over the faucet limit", post(ctx, cl, "/api/v1/ledger/faucet", `{"amount":"100000"}`), http.StatusBadRequest},
		{"topup of a malformed channel id", post(ctx, cl, "/api/v1/ledger/channels/nope/topup", `{"amount":"1"}`), http.StatusBadRequest},
		{"topup of an unknown channel", post(ctx, cl, "/api/v1/ledger/channels/"+unknownChannel+"/topup", `{"amount":"1"}`), http.StatusNotFound},
		{"topup of nothing", post(ctx, cl, "/api/v1/ledger/channels/"+unknownChannel+"/topup", `{"amount":"0"}`), http.StatusBadRequest},
		{"topup of a malformed amount", post(ctx, cl, "/api/v1/ledger/channels/"+unknownChannel+"/topup", `{"amount":"one"}`), http.StatusBadRequest},
	}
	for _, tc := range cases {
		if !apiutil.IsStatus(tc.err, tc.status) {
			t.Errorf("%s: %v, want HTTP %d", tc.name, tc.err, tc.status)
		}
	}
	// Sending more than the wallet holds is refused before anything is signed.
	bal, _ := l.Balance(ctx)
	_, err := l.Send(ctx, service.SendRequest{To: bal.Address, Amount: "1"})
	if !apiutil.IsStatus(err, http.StatusPaymentRequired) {
		t.Fatalf("send from an empty wallet: %v, want 402", err)
	}
	after, _ := l.Balance(ctx)
	if after.Balance != bal.Balance || after.Status != bal.Status {
		t.Errorf("refused send changed the wallet: %+v -> %+v", bal, after)
	}
	if _, err := wallet.ParseTON(bal.Balance.TON); err != nil {
		t.Errorf("balance %q does not parse back: %v", bal.Balance.TON, err)
	}
}

func post(ctx context.Context, c *apiutil.Client, path, body string) error {
	return c.Do(ctx, http.MethodPost, path, strings.NewReader(body), nil)
}
