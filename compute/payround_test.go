package compute

import (
	"context"
	"errors"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"
)

// TestPayRoundsOneVoucher: payments on a channel made together are paid
// by one call for their sum, and each learns the same cumulative total;
// another channel has its own round; a failed round fails its payments.
func TestPayRoundsOneVoucher(t *testing.T) {
	var r payRounds
	ch := address.MustParseRawAddr("0:" + strings.Repeat("1", 64))
	var mu sync.Mutex
	var calls []string
	paid := new(big.Int)
	do := func(key string, fail error) payFunc {
		return func(_ context.Context, total *big.Int) (*address.Address, *big.Int, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, key+":"+total.String())
			if fail != nil {
				return nil, nil, fail
			}
			paid.Add(paid, total)
			return ch, new(big.Int).Set(paid), nil
		}
	}
	// Rounds close when the test says so.
	closers := make(chan func(), 4)
	r.closeAfter = func(f func()) { closers <- f }
	var wg sync.WaitGroup
	cums := make([]*big.Int, 5)
	for i := range 5 {
		wg.Go(func() {
			_, cum, err := r.pay(context.Background(), "a", big.NewInt(int64(i+1)), do("a", nil))
			if err != nil {
				t.Error(err)
			}
			cums[i] = cum
		})
	}
	closeA := <-closers // the first payment opened the round
	// Wait until all five have joined it (their sum is in the round).
	for {
		r.mu.Lock()
		total := r.open["a"].total.Int64()
		r.mu.Unlock()
		if total == 15 {
			break
		}
		runtime.Gosched()
	}
	closeA()
	wg.Wait()
	if len(calls) != 1 || calls[0] != "a:15" {
		t.Fatalf("calls %q, want one payment of 15", calls)
	}
	for i, c := range cums {
		if c == nil || c.Int64() != 15 {
			t.Fatalf("payment %d got cumulative %v, want 15", i, c)
		}
	}
	// The next payment opens a new round.
	go func() { (<-closers)() }()
	if _, cum, err := r.pay(context.Background(), "a", big.NewInt(5), do("a", nil)); err != nil || cum.Int64() != 20 {
		t.Fatalf("next round: %v, %v", cum, err)
	}
	go func() { (<-closers)() }()
	boom := errors.New("voucher refused")
	if _, _, err := r.pay(context.Background(), "b", big.NewInt(7), do("b", boom)); !errors.Is(err, boom) {
		t.Fatalf("failed round: %v, want %v", err, boom)
	}
	r.wg.Wait()
	if len(calls) != 3 || calls[2] != "b:7" || paid.Int64() != 20 {
		t.Fatalf("calls %q, paid %s", calls, paid)
	}
}

// TestSealedReceiptChecks: the client's receipt check refuses a receipt
// naming another worker, request or price, like the signed check does.
func TestSealedReceiptChecks(t *testing.T) {
	k, id := testKey(t)
	_, other := testKey(t)
	o := &Offer{PricePrompt: "1", PriceCompletion: "2"}
	good := &Receipt{Peer: id.String(), RequestID: "r", Model: "m", PromptTokens: 3, CompletionTokens: 4, PricePrompt: "1", PriceCompletion: "2"}
	b := mustSign(t, k, kindReceipt, good)
	r, err := openSealedReceipt(b, id, o, "r", "m", 16)
	if err != nil || *r != *good {
		t.Fatalf("good receipt: %+v, %v", r, err)
	}
	for name, c := range map[string]struct {
		b      []byte
		worker peer.ID
		id     string
		max    int64
	}{
		"another worker":  {b, other, "r", 16},
		"another request": {b, id, "x", 16},
		"over max_tokens": {b, id, "r", 3},
		"not a receipt":   {mustSign(t, k, kindWithdraw, &withdrawal{Peer: id.String()}), id, "r", 16},
		"wrong prices":    {mustSign(t, k, kindReceipt, &Receipt{Peer: id.String(), RequestID: "r", Model: "m", PricePrompt: "9", PriceCompletion: "2"}), id, "r", 16},
	} {
		if _, err := openSealedReceipt(c.b, c.worker, o, c.id, "m", c.max); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
