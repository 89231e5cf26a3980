package toncenter

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

func q(addr string) string { return "address=" + url.QueryEscape(addr) }

func TestAddressInformation(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	faucet := b.chain.FaucetAddress()
	st, _ := b.chain.Account(ctx, faucet)

	for _, form := range []string{faucet.String(), faucet.StringRaw(), strings.NewReplacer("-", "+", "_", "/").Replace(faucet.String())} {
		r := b.get(t, "getAddressInformation?"+q(form)).obj(t)
		keys(t, "getAddressInformation", r, "@type", "balance", "extra_currencies", "code", "data", "last_transaction_id", "block_id", "frozen_hash", "sync_utime", "@extra", "state")
		if r["balance"] != st.Balance.String() || r["state"] != "active" || r["@type"] != "raw.fullAccountState" || r["frozen_hash"] != "" {
			t.Fatalf("faucet (%s): %v", form, r)
		}
		code, _ := base64.StdEncoding.DecodeString(r["code"].(string))
		if c, err := cell.FromBOC(code); err != nil || !bytes.Equal(c.Hash(), st.Code.Hash()) {
			t.Fatalf("code is not the account's: %v", err)
		}
		last := r["last_transaction_id"].(map[string]any)
		keys(t, "last_transaction_id", last, "@type", "lt", "hash")
		if last["@type"] != "internal.transactionId" || last["lt"] != fmt.Sprint(st.LastTxLT) || last["hash"] != base64.StdEncoding.EncodeToString(st.LastTxHash) {
			t.Fatalf("last_transaction_id %v", last)
		}
		blk := r["block_id"].(map[string]any)
		keys(t, "block_id", blk, "@type", "workchain", "shard", "seqno", "root_hash", "file_hash")
		if blk["@type"] != "ton.blockIdExt" || blk["workchain"] != json.Number("-1") || blk["shard"] != "-9223372036854775808" {
			t.Fatalf("block_id %v", blk)
		}
		if _, err := r["sync_utime"].(json.Number).Int64(); err != nil {
			t.Fatalf("sync_utime %v is not a number", r["sync_utime"])
		}
	}

	// A never-used address: uninitialized, zero balance, empty code, a zero
	// transaction id.
	fresh := newUserWallet(t).addr
	r := b.rpc(t, "getAddressInformation", map[string]any{"address": fresh.String()})
	if r.body["id"] != "1" || r.body["jsonrpc"] != "2.0" {
		t.Fatalf("jsonRPC envelope: %s", r.raw)
	}
	o := r.obj(t)
	last := o["last_transaction_id"].(map[string]any)
	if o["state"] != "uninitialized" || o["balance"] != "0" || o["code"] != "" || o["data"] != "" || last["lt"] != "0" || last["hash"] != zeroHash {
		t.Fatalf("fresh address: %s", r.raw)
	}

	if got := b.get(t, "getAddressBalance?"+q(faucet.String())); got.result() != st.Balance.String() {
		t.Fatalf("getAddressBalance %s", got.raw)
	}
	if got := b.get(t, "getAddressState?"+q(faucet.String())); got.result() != "active" {
		t.Fatalf("getAddressState %s", got.raw)
	}
	if got := b.get(t, "getAddressState?"+q(fresh.StringRaw())); got.result() != "uninitialized" {
		t.Fatalf("getAddressState of a fresh address %s", got.raw)
	}

	// Bad addresses: toncenter's 416 on every route that takes one.
	bad := []string{"", "nonsense", "0:1234", "EQ" + strings.Repeat("A", 46), faucet.String()[:47] + "x", "99999:" + strings.Repeat("0", 64)}
	for _, m := range []string{"getAddressInformation", "getAddressBalance", "getAddressState", "getWalletInformation", "getTransactions"} {
		for _, a := range bad[1:] {
			wantError(t, b.get(t, m+"?"+q(a)), 416, "Incorrect address")
		}
		wantError(t, b.get(t, m), 422, "address")
		wantError(t, b.rpc(t, m, map[string]any{"address": "nonsense"}), 416, "Incorrect address")
	}
}

func TestWalletInformation(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	faucet := b.chain.FaucetAddress()
	seq, _ := b.chain.RunGetMethod(ctx, faucet, "seqno")
	r := b.get(t, "getWalletInformation?"+q(faucet.String())).obj(t)
	keys(t, "getWalletInformation", r, "wallet", "balance", "account_state", "wallet_type", "seqno", "wallet_id", "last_transaction_id")
	if r["wallet"] != true || r["wallet_type"] != "wallet v5 r1" || r["account_state"] != "active" || r["seqno"] != json.Number(seq[0].(*big.Int).String()) {
		t.Fatalf("faucet wallet: %v", r)
	}
	if _, ok := r["balance"].(string); !ok {
		t.Fatalf("balance %v is not a string", r["balance"])
	}
	// An empty account: balance is the number 0, as toncenter answers.
	r = b.get(t, "getWalletInformation?"+q(newUserWallet(t).addr.String())).obj(t)
	keys(t, "empty wallet", r, "wallet", "balance", "account_state", "last_transaction_id")
	if r["wallet"] != false || r["balance"] != json.Number("0") || r["account_state"] != "uninitialized" {
		t.Fatalf("empty account: %v", r)
	}
}

// fund pays n transfers of one TON from the faucet to addr.
func fund(t *testing.T, b *bed, addr *address.Address, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := b.chain.Faucet(context.Background(), addr, tons(1)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTransactions(t *testing.T) {
	b := newBed(t)
	u := newUserWallet(t)
	fund(t, b, u.addr, 12)
	all, _ := b.chain.Transactions(context.Background(), u.addr, 0, 0) // oldest first
	newest := func(i int) *ton.Transaction { return all[len(all)-1-i] }

	list := func(a answer) []any {
		t.Helper()
		l, ok := a.result().([]any)
		if !ok || a.body["ok"] != true {
			t.Fatalf("want a list: %d %s", a.status, a.raw)
		}
		return l
	}
	lt := func(v any) string { return v.(map[string]any)["transaction_id"].(map[string]any)["lt"].(string) }

	got := list(b.get(t, "getTransactions?"+q(u.addr.String())))
	if len(got) != 10 {
		t.Fatalf("default limit: %d transactions, want 10", len(got))
	}
	for i, tx := range got {
		if lt(tx) != fmt.Sprint(newest(i).LT) {
			t.Fatalf("transaction %d: lt %s, want %d (newest first)", i, lt(tx), newest(i).LT)
		}
	}
	tx := got[0].(map[string]any)
	keys(t, "transaction", tx, "@type", "address", "utime", "data", "transaction_id", "fee", "storage_fee", "other_fee", "in_msg", "out_msgs")
	if tx["fee"] != newest(0).TotalFees.String() || tx["@type"] != "raw.transaction" {
		t.Fatalf("transaction: %v", tx)
	}
	data, _ := base64.StdEncoding.DecodeString(tx["data"].(string))
	if c, err := cell.FromBOC(data); err != nil || base64.StdEncoding.EncodeToString(c.Hash()) != tx["transaction_id"].(map[string]any)["hash"] {
		t.Fatalf("data is not the transaction whose hash is given: %v", err)
	}
	in := tx["in_msg"].(map[string]any)
	keys(t, "in_msg", in, "@type", "hash", "source", "destination", "value", "extra_currencies", "fwd_fee", "ihr_fee", "created_lt", "body_hash", "msg_data", "message")
	wantSrc := b.chain.FaucetAddress().Copy()
	wantSrc.SetBounce(true)
	wantSrc.SetTestnetOnly(true)
	if in["source"] != wantSrc.String() || in["value"] != tons(1).String() || in["message"] != "tonmesh testnet faucet" ||
		in["hash"] != base64.StdEncoding.EncodeToString(newest(0).In.Hash) {
		t.Fatalf("in_msg: %v", in)
	}
	md := in["msg_data"].(map[string]any)
	if md["@type"] != "msg.dataText" || md["text"] != base64.StdEncoding.EncodeToString([]byte("tonmesh testnet faucet")) {
		t.Fatalf("msg_data: %v", md)
	}
	if out, ok := tx["out_msgs"].([]any); !ok || len(out) != 0 {
		t.Fatalf("out_msgs %v", tx["out_msgs"])
	}

	// Paging from (lt, hash) inclusive, hash in base64 or hex (TonClient
	// sends hex), and to_lt exclusive.
	from := newest(3)
	for _, h := range []string{base64.StdEncoding.EncodeToString(from.Hash), hex.EncodeToString(from.Hash), base64.URLEncoding.EncodeToString(from.Hash)} {
		page := list(b.get(t, fmt.Sprintf("getTransactions?%s&limit=3&lt=%d&hash=%s", q(u.addr.String()), from.LT, url.QueryEscape(h))))
		if len(page) != 3 || lt(page[0]) != fmt.Sprint(from.LT) || lt(page[2]) != fmt.Sprint(newest(5).LT) {
			t.Fatalf("page from lt %d: %d", from.LT, len(page))
		}
	}
	page := list(b.rpc(t, "getTransactions", map[string]any{"address": u.addr.String(), "limit": 100, "to_lt": fmt.Sprint(newest(2).LT)}))
	if len(page) != 2 {
		t.Fatalf("to_lt: %d transactions, want 2", len(page))
	}
	page = list(b.get(t, "getTransactions?"+q(newUserWallet(t).addr.String())))
	if len(page) != 0 {
		t.Fatal("a fresh address has transactions")
	}

	wantError(t, b.get(t, "getTransactions?"+q(u.addr.String())+"&limit=0"), 422, "limit")
	wantError(t, b.get(t, "getTransactions?"+q(u.addr.String())+"&limit=101"), 422, "limit")
	wantError(t, b.get(t, "getTransactions?"+q(u.addr.String())+"&limit=ten"), 422, "limit")
	wantError(t, b.get(t, fmt.Sprintf("getTransactions?%s&lt=%d&hash=%s", q(u.addr.String()), from.LT, "nothex")), 422, "hash")
	wantError(t, b.get(t, fmt.Sprintf("getTransactions?%s&lt=%d&hash=%s", q(u.addr.String()), from.LT, hex.EncodeToString(newest(0).Hash))), 404, "transaction not found")
}

func TestRunGetMethod(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	faucet := b.chain.FaucetAddress().String()
	seq, _ := b.chain.RunGetMethodResult(ctx, b.chain.FaucetAddress(), "seqno")

	r := b.do(t, http.MethodPost, "runGetMethod", map[string]any{"address": faucet, "method": "seqno", "stack": []any{}}).obj(t)
	keys(t, "runGetMethod", r, "@type", "gas_used", "stack", "exit_code", "block_id", "last_transaction_id", "@extra")
	stack := r["stack"].([]any)
	if r["@type"] != "smc.runResult" || r["exit_code"] != json.Number("0") || r["gas_used"] != json.Number(fmt.Sprint(seq.GasUsed)) ||
		len(stack) != 1 || fmt.Sprint(stack[0]) != fmt.Sprintf("[num %s]", pyHex(seq.Stack[0].(*big.Int))) {
		t.Fatalf("seqno: %v", r)
	}
	// jsonRPC, as TonClient calls it; get_extensions returns null.
	r = b.rpc(t, "runGetMethod", map[string]any{"address": faucet, "method": "get_extensions", "stack": []any{}}).obj(t)
	if fmt.Sprint(r["stack"]) != "[[list map[@type:tvm.list elements:[]]]]" {
		t.Fatalf("null result: %v", r["stack"])
	}
	// A method that fails is an ok answer with its exit code, as tonlib
	// gives; so is an account without code (-13).
	r = b.rpc(t, "runGetMethod", map[string]any{"address": faucet, "method": "no_such_method", "stack": []any{}}).obj(t)
	if r["exit_code"] != json.Number("11") || len(r["stack"].([]any)) != 0 {
		t.Fatalf("unknown get-method: %v", r)
	}
	r = b.rpc(t, "runGetMethod", map[string]any{"address": newUserWallet(t).addr.String(), "method": "seqno", "stack": []any{}}).obj(t)
	if r["exit_code"] != json.Number("-13") {
		t.Fatalf("get-method on an empty account: %v", r)
	}
	// Arguments in every form TonClient and toncenter's docs use reach the
	// method (the wallet ignores them, but they must parse).
	cellB64 := base64.StdEncoding.EncodeToString(cell.BeginCell().MustStoreUInt(5, 8).EndCell().ToBOC())
	args := []any{[]any{"num", "42"}, []any{"num", "0x2a"}, []any{"num", -7}, []any{"tvm.Cell", cellB64}, []any{"tvm.Slice", cellB64},
		[]any{"cell", map[string]any{"bytes": cellB64}}, []any{"slice", map[string]any{"data": map[string]any{"b64": "BQ==", "len": 8}, "refs": []any{}}}}
	r = b.rpc(t, "runGetMethod", map[string]any{"address": faucet, "method": "seqno", "stack": args}).obj(t)
	if r["exit_code"] != json.Number("0") {
		t.Fatalf("seqno with arguments: %v", r)
	}

	for _, bad := range []struct {
		params map[string]any
		code   int
		says   string
	}{
		{map[string]any{"address": faucet, "method": "seqno", "stack": []any{[]any{"tuple", []any{}}}}, 422, "Unsupported stack entry type"},
		{map[string]any{"address": faucet, "method": "seqno", "stack": "nope"}, 422, "Stack should be array"},
		{map[string]any{"address": faucet, "method": "seqno", "stack": []any{[]any{"num"}}}, 422, "[type, value]"},
		{map[string]any{"address": faucet, "method": "seqno", "stack": []any{[]any{"num", "12abc"}}}, 422, "not an integer"},
		{map[string]any{"address": faucet, "method": "seqno", "stack": []any{[]any{"num", "0x1" + strings.Repeat("0", 70)}}}, 422, "257-bit"},
		{map[string]any{"address": faucet, "method": "seqno", "stack": []any{[]any{"tvm.Cell", "AAAA"}}}, 422, "stack entry 0"},
		{map[string]any{"address": faucet, "method": "seqno", "stack": []any{[]any{"tvm.Cell", "%%%"}}}, 422, "stack entry 0"},
		{map[string]any{"address": faucet, "method": 85143, "stack": []any{}}, 422, "method"},
		{map[string]any{"address": faucet, "stack": []any{}}, 422, "method"},
		{map[string]any{"address": faucet, "method": "seqno"}, 422, "stack"},
		{map[string]any{"address": "bad", "method": "seqno", "stack": []any{}}, 416, "Incorrect address"},
	} {
		wantError(t, b.rpc(t, "runGetMethod", bad.params), bad.code, bad.says)
		wantError(t, b.do(t, http.MethodPost, "runGetMethod", bad.params), bad.code, bad.says)
	}
	wantError(t, b.get(t, "runGetMethod?"+q(faucet)), http.StatusMethodNotAllowed, "Method Not Allowed")
}

func TestSendBoc(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	u, to := newUserWallet(t), newUserWallet(t)
	fund(t, b, u.addr, 5)

	boc := u.transfer(t, to.addr, tons(2), "via toncenter", 0, true)
	r := b.do(t, http.MethodPost, "sendBoc", map[string]any{"boc": base64.StdEncoding.EncodeToString(boc)}).obj(t)
	keys(t, "sendBoc", r, "@type", "@extra")
	if r["@type"] != "ok" {
		t.Fatalf("sendBoc: %v", r)
	}
	if bal, _ := b.chain.Account(ctx, to.addr); bal.Balance.Cmp(tons(2)) != 0 {
		t.Fatalf("recipient has %s after sendBoc", bal.Balance)
	}
	// The same order again: the wallet refuses a used seqno; a 4xx, and
	// nothing changes.
	before, _ := b.chain.Account(ctx, u.addr)
	wantError(t, b.do(t, http.MethodPost, "sendBoc", map[string]any{"boc": base64.StdEncoding.EncodeToString(boc)}), 422, "External message was not accepted")
	if after, _ := b.chain.Account(ctx, u.addr); after.Balance.Cmp(before.Balance) != 0 {
		t.Fatal("a refused message changed the balance")
	}

	boc = u.transfer(t, to.addr, tons(1), "", 1, false)
	ext, _ := ton.ParseExternal(boc)
	r = b.rpc(t, "sendBocReturnHash", map[string]any{"boc": base64.StdEncoding.EncodeToString(boc)}).obj(t)
	keys(t, "sendBocReturnHash", r, "@type", "hash", "hash_norm", "@extra")
	if r["@type"] != "raw.extMessageInfo" || r["hash"] != base64.StdEncoding.EncodeToString(ext.Cell.Hash()) || r["hash_norm"] != base64.StdEncoding.EncodeToString(ext.Hash) {
		t.Fatalf("sendBocReturnHash: %v", r)
	}
	// The normalised hash finds the transaction, as explorers do.
	txs, _ := b.chain.Transactions(ctx, u.addr, 0, 0)
	if last := txs[len(txs)-1]; !bytes.Equal(last.In.Hash, ext.Hash) {
		t.Fatal("hash_norm does not name the wallet's transaction")
	}

	internal := cell.BeginCell().MustStoreUInt(0, 1).EndCell() // an internal message's tag, nothing more
	for _, bad := range []struct {
		boc  any
		says string
	}{
		{"", "empty boc"},
		{"%%%not-base64", "not base64"},
		{base64.StdEncoding.EncodeToString([]byte("garbage bytes")), "boc"},
		{base64.StdEncoding.EncodeToString(internal.ToBOC()), "boc"},
		{42, "boc"},
	} {
		for _, m := range []string{"sendBoc", "sendBocReturnHash"} {
			wantError(t, b.do(t, http.MethodPost, m, map[string]any{"boc": bad.boc}), 422, bad.says)
			wantError(t, b.rpc(t, m, map[string]any{"boc": bad.boc}), 422, bad.says)
		}
	}
	wantError(t, b.do(t, http.MethodPost, "sendBoc", map[string]any{}), 422, "boc")
	wantError(t, b.do(t, http.MethodPost, "sendBoc", "{not json"), 422, "Validation error")
	wantError(t, b.do(t, http.MethodPost, "sendBoc", strings.Repeat("x", MaxBody+1)), http.StatusRequestEntityTooLarge, "body")
}

func TestEstimateFee(t *testing.T) {
	b := newBed(t)
	u, to := newUserWallet(t), newUserWallet(t)
	fund(t, b, u.addr, 3)
	boc := u.transfer(t, to.addr, tons(1), "", 0, true)
	ext, _ := ton.ParseExternal(boc)
	in := ext.Msg.AsExternalIn()
	params := map[string]any{
		"address":   u.addr.String(),
		"body":      base64.StdEncoding.EncodeToString(in.Body.ToBOC()),
		"init_code": base64.StdEncoding.EncodeToString(in.StateInit.Code.ToBOC()),
		"init_data": base64.StdEncoding.EncodeToString(in.StateInit.Data.ToBOC()),
	}
	want, err := b.chain.EstimateExternal(context.Background(), boc, true)
	if err != nil {
		t.Fatal(err)
	}
	r := b.rpc(t, "estimateFee", params).obj(t)
	keys(t, "estimateFee", r, "@type", "source_fees", "destination_fees", "@extra")
	sf := r["source_fees"].(map[string]any)
	keys(t, "source_fees", sf, "@type", "in_fwd_fee", "storage_fee", "gas_fee", "fwd_fee")
	if r["@type"] != "query.fees" || sf["@type"] != "fees" || sf["gas_fee"] != json.Number(want.GasFee.String()) || sf["in_fwd_fee"] != json.Number(want.InFwdFee.String()) || sf["fwd_fee"] != json.Number(want.FwdFee.String()) {
		t.Fatalf("estimateFee %v, chain %+v", r, want)
	}
	wantError(t, b.rpc(t, "estimateFee", map[string]any{"address": "x", "body": params["body"]}), 416, "Incorrect address")
	wantError(t, b.rpc(t, "estimateFee", map[string]any{"address": u.addr.String(), "body": "AAAA"}), 422, "body")
	wantError(t, b.rpc(t, "estimateFee", map[string]any{"address": u.addr.String()}), 422, "body")
	wantError(t, b.rpc(t, "estimateFee", map[string]any{"address": u.addr.String(), "body": params["body"], "init_code": "@@"}), 422, "init_code")
}

func TestMasterchainInfoAndRouting(t *testing.T) {
	b := newBed(t)
	hd, _ := b.chain.Head(context.Background())
	r := b.get(t, "getMasterchainInfo").obj(t)
	keys(t, "getMasterchainInfo", r, "@type", "last", "state_root_hash", "init", "@extra")
	last := r["last"].(map[string]any)
	if r["@type"] != "blocks.masterchainInfo" || last["seqno"] != json.Number(fmt.Sprint(hd.Seqno)) || r["init"].(map[string]any)["seqno"] != json.Number("0") {
		t.Fatalf("getMasterchainInfo %v", r)
	}

	wantError(t, b.get(t, "noSuchMethod"), http.StatusNotFound, "Not Found")
	wantError(t, b.get(t, "getAddressState/extra"), http.StatusNotFound, "Not Found")
	wantError(t, b.do(t, http.MethodPost, "getAddressState", map[string]any{}), http.StatusMethodNotAllowed, "Method Not Allowed")
	wantError(t, b.get(t, "sendBoc"), http.StatusMethodNotAllowed, "Method Not Allowed")
	wantError(t, b.get(t, "jsonRPC"), http.StatusMethodNotAllowed, "Method Not Allowed")

	u := b.rpc(t, "noSuchMethod", map[string]any{})
	wantError(t, u, 422, "Unknown method")
	if u.body["id"] != "1" {
		t.Fatalf("unknown method answer lost the id: %s", u.raw)
	}
	wantError(t, b.do(t, http.MethodPost, "jsonRPC", "[1,2"), 422, "Validation error")
	wantError(t, b.do(t, http.MethodPost, "jsonRPC", map[string]any{"method": "getAddressState", "params": "x"}), 422, "params")
	n := b.do(t, http.MethodPost, "jsonRPC", map[string]any{"id": 7, "method": "getMasterchainInfo"})
	if n.body["ok"] != true || n.body["id"] != "7" {
		t.Fatalf("numeric id, no params: %s", n.raw)
	}
}

func TestChainNotReady(t *testing.T) {
	h := New(func() (ton.Chain, error) { return nil, fmt.Errorf("still dialling the host") })
	srv := http.NewServeMux()
	srv.Handle("/ton/api/v2/", h)
	rec := newRecorder()
	req, _ := http.NewRequest(http.MethodGet, "/ton/api/v2/getMasterchainInfo", nil)
	srv.ServeHTTP(rec, req)
	if rec.code != http.StatusServiceUnavailable || !strings.Contains(rec.body.String(), `"ok":false`) {
		t.Fatalf("not ready: %d %s", rec.code, rec.body.String())
	}
}
