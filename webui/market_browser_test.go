package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// eventually retries f until it succeeds, for setup through the API that
// waits for the chain or the network; it fails the test after a minute.
func eventually(t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fund pays every node from the faucet, once the chain is reachable.
func fund(t *testing.T, b *browser) {
	for i := range b.c.Nodes {
		eventually(t, fmt.Sprintf("fund node %d from the faucet", i+1), func(ctx context.Context) error {
			return b.c.Client(t, i).Post(ctx, "/api/v1/ledger/faucet", map[string]string{"amount": "50"}, nil)
		})
	}
}

// testMarket: node 2 auctions a number it bought; a bid placed on node
// 3's page appears, as it arrives by gossip, on node 1's page without a
// reload.
func testMarket(t *testing.T, b *browser) {
	seller := b.c.Client(t, 1)
	var bought struct {
		Asset string `json:"asset"`
	}
	eventually(t, "node 2 buys a number (once the registry deployed the collection)", func(ctx context.Context) error {
		return seller.Post(ctx, "/api/v1/market/buy-number", nil, &bought)
	})
	if err := seller.Post(context.Background(), "/api/v1/market/auctions",
		map[string]string{"asset": bought.Asset, "min": "2", "duration": "1h"}, nil); err != nil {
		t.Fatalf("start the auction of %s: %v", bought.Asset, err)
	}
	row := `document.querySelector('#auctions .auction[data-asset=` + jsString(bought.Asset) + `]')`
	// The auction reaches the other nodes by gossip, and a page lists the
	// auctions known when it loads: open the pages once their nodes know it.
	for _, i := range []int{0, 2} {
		eventually(t, fmt.Sprintf("node %d learns the auction of %s", i+1, bought.Asset), func(ctx context.Context) error {
			var auctions json.RawMessage
			if err := b.c.Client(t, i).Get(ctx, "/api/v1/market/auctions", &auctions); err != nil {
				return err
			}
			if !bytes.Contains(auctions, []byte(bought.Asset)) {
				return fmt.Errorf("not listed yet")
			}
			return nil
		})
	}
	b.open(t, 0, "/ui/market")
	b.open(t, 2, "/ui/market")
	b.waitJS(t, 2, "the auction listed on the bidder's page", row+` !== null`)
	b.waitJS(t, 0, "the auction listed on the watcher's page", row+` !== null`)

	// A bid the API refuses shows its reason on the form.
	b.do(t, 2, "bid too little",
		chromedp.SetValue(chromedp.CSS(`#bid input[name="asset"]`), bought.Asset),
		chromedp.SetValue(chromedp.CSS(`#bid input[name="amount"]`), "abc"),
		chromedp.Click(chromedp.CSS(`#bid button`)))
	b.waitJS(t, 2, "the refused bid's error", `(() => { const e = document.querySelector('#bid .error'); return !e.hidden && e.textContent.includes('amount') })()`)

	b.do(t, 2, "place a bid",
		chromedp.SetValue(chromedp.CSS(`#bid input[name="asset"]`), bought.Asset),
		chromedp.SetValue(chromedp.CSS(`#bid input[name="amount"]`), "2.5"),
		chromedp.Click(chromedp.CSS(`#bid button`)))
	b.waitJS(t, 0, "the bid on the watcher's page", row+` && `+row+`.querySelector('.leading').textContent.startsWith('2.5 TON')`)
	b.waitJS(t, 2, "the bid on the bidder's page", row+`.querySelector('.leading').textContent.startsWith('2.5 TON')`)
	b.noReload(t, 0)
	b.noReload(t, 2)

	// Buying a number from the page lists it under my items.
	b.open(t, 1, "/ui/market")
	before := run(t, b, 1, "count my items", chromedp.Evaluate[int](`document.querySelectorAll('#mine .item').length`))
	b.do(t, 1, "buy a number", chromedp.Click(chromedp.CSS(`#buy-number button`)))
	b.waitJS(t, 1, "the new number under my items", fmt.Sprintf(`document.querySelectorAll('#mine .item').length === %d`, before+1))
	number := run(t, b, 1, "read the new number", chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll('#mine .item')).map(e => e.dataset.asset).find(a => a !== `+jsString(bought.Asset)+`)`))

	// Node 3, as a service, sends a login code to the number's owner;
	// the code appears on the owner's page; node 3 checks it.
	b.do(t, 2, "request a login code",
		chromedp.SetValue(chromedp.CSS(`#code-request input[name="asset"]`), number),
		chromedp.Click(chromedp.CSS(`#code-request button`)))
	b.waitJS(t, 2, "the code request's answer", `!document.querySelector('#code-request .result').hidden`)
	reqID := run(t, b, 2, "read the request id", chromedp.Evaluate[string](`JSON.parse(document.querySelector('#code-request .result').textContent).id`))
	b.waitJS(t, 1, "the login code on the owner's page", `document.querySelector('.code[data-id=`+jsString(reqID)+`] .code-value') !== null`)
	code := run(t, b, 1, "read the code", chromedp.Text(chromedp.CSS(`.code[data-id=`+jsString(reqID)+`] .code-value`)))
	b.do(t, 2, "check the code",
		chromedp.SetValue(chromedp.CSS(`#code-verify input[name="id"]`), reqID),
		chromedp.SetValue(chromedp.CSS(`#code-verify input[name="code"]`), code),
		chromedp.Click(chromedp.CSS(`#code-verify button`)))
	b.waitJS(t, 2, "the code accepted", `(() => { const r = document.querySelector('#code-verify .result'); return !r.hidden && JSON.parse(r.textContent).valid === true })()`)
	b.noReload(t, 1)
	b.screenshots(t, "market")
}
