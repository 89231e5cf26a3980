package toncenter

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
)

const nano = 1_000_000_000

func tons(n int64) *big.Int { return big.NewInt(n * nano) }

// bed is an emulated chain served by a Handler on a test HTTP server.
type bed struct {
	chain *emu.Chain
	srv   *httptest.Server
}

func newBed(t *testing.T) *bed {
	t.Helper()
	store, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c, err := emu.New(store)
	if err != nil {
		t.Fatal(err)
	}
	h := New(func() (ton.Chain, error) { return c, nil })
	mux := http.NewServeMux()
	mux.Handle("/ton/api/v2/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &bed{chain: c, srv: srv}
}

// answer is a decoded response with its HTTP status.
type answer struct {
	status int
	body   map[string]any
	raw    []byte
}

func (a answer) result() any { return a.body["result"] }

func (a answer) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := a.body["result"].(map[string]any)
	if !ok || a.body["ok"] != true {
		t.Fatalf("want an ok object result, got %d %s", a.status, a.raw)
	}
	return m
}

func (b *bed) do(t *testing.T, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch v := body.(type) {
		case string:
			rd = strings.NewReader(v)
		default:
			raw, _ := json.Marshal(v)
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, b.srv.URL+"/ton/api/v2/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&a.body); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %d %q", method, path, resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: content type %q", method, path, ct)
	}
	return a
}

func (b *bed) get(t *testing.T, path string) answer { return b.do(t, http.MethodGet, path, nil) }

func (b *bed) rpc(t *testing.T, method string, params any) answer {
	t.Helper()
	return b.do(t, http.MethodPost, "jsonRPC", map[string]any{"id": "1", "jsonrpc": "2.0", "method": method, "params": params})
}

// wantError checks toncenter's error shape: {"ok":false,"error","code"}
// with code the HTTP status, a 4xx.
func wantError(t *testing.T, a answer, code int, contains string) {
	t.Helper()
	if a.status != code || a.body["ok"] != false || a.body["code"] != json.Number(itoa(code)) {
		t.Fatalf("want error %d, got %d %s", code, a.status, a.raw)
	}
	if msg, _ := a.body["error"].(string); !strings.Contains(msg, contains) {
		t.Fatalf("error %q does not say %q", msg, contains)
	}
	if _, has := a.body["result"]; has {
		t.Fatalf("error answer carries a result: %s", a.raw)
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// keys checks m has exactly the keys want.
func keys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	if len(m) != len(want) {
		t.Errorf("%s: keys %v, want %v", what, mapKeys(m), want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no key %q (has %v)", what, k, mapKeys(m))
		}
	}
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// userWallet is a v5r1 wallet signed by tonutils-go's own wallet package.
type userWallet struct {
	w    *wallet.Wallet
	addr *address.Address
}

func newUserWallet(t *testing.T) *userWallet {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.FromPrivateKeyWithOptions(key, wallet.ConfigV5R1Final{NetworkGlobalID: emu.DefaultGlobalID, Workchain: 0})
	if err != nil {
		t.Fatal(err)
	}
	return &userWallet{w: w, addr: w.WalletAddress()}
}

// transfer signs an order sending amount to dst with a comment at seqno,
// carrying the state init when withInit.
func (u *userWallet) transfer(t *testing.T, dst *address.Address, amount *big.Int, comment string, seqno uint32, withInit bool) []byte {
	t.Helper()
	u.w.GetSpec().(*wallet.SpecV5R1Final).SetSeqnoFetcher(func(context.Context, uint32) (uint32, error) { return seqno, nil })
	body, err := wallet.CreateCommentCell(comment)
	if err != nil {
		t.Fatal(err)
	}
	msg := &wallet.Message{Mode: 3, InternalMessage: &tlb.InternalMessage{IHRDisabled: true, Bounce: false, DstAddr: dst, Amount: tlb.FromNanoTON(amount), Body: body}}
	ext, err := u.w.PrepareExternalMessageForMany(context.Background(), withInit, []*wallet.Message{msg})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tlb.ToCell(ext)
	if err != nil {
		t.Fatal(err)
	}
	return c.ToBOC()
}
