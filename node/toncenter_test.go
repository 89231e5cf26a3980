package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"

	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/node"
)

// tcCall posts a jsonRPC request to a node's toncenter API with key as
// X-API-Key and returns the status and the decoded answer.
func tcCall(t *testing.T, base, key, method string, params map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"id": "1", "jsonrpc": "2.0", "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, base+node.TONAPIPath+"jsonRPC", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: not JSON: %d %s", method, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func tcBalance(t *testing.T, base, key string, a *address.Address) *big.Int {
	t.Helper()
	code, out := tcCall(t, base, key, "getAddressBalance", map[string]any{"address": a.String()})
	s, _ := out["result"].(string)
	n, ok := new(big.Int).SetString(s, 10)
	if code != 200 || !ok {
		t.Fatalf("getAddressBalance: %d %v", code, out)
	}
	return n
}

// TestToncenterTransferOnEveryNode: a transfer signed by tonutils-go's own
// wallet package (not tonmesh's signer), with its seqno read through the
// API, goes in by sendBoc on one node, and every node's API then shows the
// new balances.
func TestToncenterTransferOnEveryNode(t *testing.T) {
	c := harness.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var bases, keys []string
	for i, n := range c.Nodes {
		if err := n.Ledger().WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		tok, err := c.Homes[i].Token()
		if err != nil {
			t.Fatal(err)
		}
		bases, keys = append(bases, n.APIURL()), append(keys, tok)
	}

	// An outside user's wallet, funded by node 2.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	user, err := wallet.FromPrivateKeyWithOptions(key, wallet.ConfigV5R1Final{NetworkGlobalID: emu.DefaultGlobalID, Workchain: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes[1].Ledger().Faucet(ctx, big.NewInt(20_000_000_000)); err != nil {
		t.Fatal(err)
	}
	w2, _ := c.Nodes[1].Ledger().Wallet()
	if _, err := w2.Send(ctx, user.WalletAddress(), big.NewInt(5_000_000_000), "fund the user"); err != nil {
		t.Fatal(err)
	}
	recipient, _ := c.Nodes[0].Ledger().Wallet()
	before := tcBalance(t, bases[0], keys[0], recipient.Address())

	// Seqno through node 3's API: the wallet is not deployed yet (-13), so
	// the order carries its state init.
	_, out := tcCall(t, bases[2], keys[2], "runGetMethod", map[string]any{"address": user.WalletAddress().String(), "method": "seqno", "stack": []any{}})
	res, _ := out["result"].(map[string]any)
	if res["exit_code"] != float64(-13) {
		t.Fatalf("seqno of an undeployed wallet: %v", out)
	}
	user.GetSpec().(*wallet.SpecV5R1Final).SetSeqnoFetcher(func(context.Context, uint32) (uint32, error) { return 0, nil })
	body, _ := wallet.CreateCommentCell("signed by tonutils-go")
	amount := big.NewInt(1_500_000_000)
	ext, err := user.PrepareExternalMessageForMany(ctx, true, []*wallet.Message{{Mode: 3, InternalMessage: &tlb.InternalMessage{
		IHRDisabled: true, Bounce: false, DstAddr: recipient.Address(), Amount: tlb.FromNanoTON(amount), Body: body}}})
	if err != nil {
		t.Fatal(err)
	}
	extCell, err := tlb.ToCell(ext)
	if err != nil {
		t.Fatal(err)
	}
	code, out := tcCall(t, bases[2], keys[2], "sendBoc", map[string]any{"boc": base64.StdEncoding.EncodeToString(extCell.ToBOC())})
	if code != 200 || out["ok"] != true {
		t.Fatalf("sendBoc on node 3: %d %v", code, out)
	}
	want := new(big.Int).Add(before, amount)
	for i := range c.Nodes {
		if got := tcBalance(t, bases[i], keys[i], recipient.Address()); got.Cmp(want) != 0 {
			t.Fatalf("node %d sees the recipient with %s, want %s", i+1, got, want)
		}
		_, out := tcCall(t, bases[i], keys[i], "runGetMethod", map[string]any{"address": user.WalletAddress().String(), "method": "seqno", "stack": []any{}})
		st, _ := out["result"].(map[string]any)["stack"].([]any)
		if len(st) != 1 || st[0].([]any)[1] != "0x1" {
			t.Fatalf("node %d: seqno after the transfer %v, want 0x1", i+1, out)
		}
		_, out = tcCall(t, bases[i], keys[i], "getTransactions", map[string]any{"address": recipient.Address().String(), "limit": 1})
		txs, _ := out["result"].([]any)
		if len(txs) != 1 || txs[0].(map[string]any)["in_msg"].(map[string]any)["message"] != "signed by tonutils-go" {
			t.Fatalf("node %d: recipient's newest transaction %v", i+1, out)
		}
	}
	// The same order again is refused (seqno used), toncenter-shaped.
	code, out = tcCall(t, bases[1], keys[1], "sendBoc", map[string]any{"boc": base64.StdEncoding.EncodeToString(extCell.ToBOC())})
	if code != 422 || out["ok"] != false || out["code"] != float64(422) {
		t.Fatalf("replayed order: %d %v", code, out)
	}
}

// TestToncenterAPIKey: the API takes the node's token as X-API-Key, as
// ?api_key= or as a bearer token, and answers toncenter's 401 otherwise.
func TestToncenterAPIKey(t *testing.T) {
	c := harness.Start(t, 1)
	base := c.Nodes[0].APIURL() + node.TONAPIPath + "getMasterchainInfo"
	tok, _ := c.Homes[0].Token()
	try := func(u string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, ok := range []struct {
		u   string
		hdr map[string]string
	}{
		{base, map[string]string{"X-API-Key": tok}},
		{base + "?api_key=" + url.QueryEscape(tok), nil},
		{base, map[string]string{"Authorization": "Bearer " + tok}},
	} {
		if code, body := try(ok.u, ok.hdr); code != 200 || !strings.Contains(body, `"ok":true`) {
			t.Fatalf("%s %v: %d %s", ok.u, ok.hdr, code, body)
		}
	}
	for _, bad := range []map[string]string{nil, {"X-API-Key": "wrong"}} {
		code, body := try(base, bad)
		if code != 401 || !strings.Contains(body, `"ok":false`) || !strings.Contains(body, `"code":401`) {
			t.Fatalf("key %v: %d %s", bad, code, body)
		}
	}
	if code, _ := try(c.Nodes[0].APIURL()+"/api/v1/id?api_key="+url.QueryEscape(tok), nil); code != 401 {
		t.Fatalf("api_key opened a non-toncenter route: %d", code)
	}
}
