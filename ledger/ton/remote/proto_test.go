package remote

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

const testAddr = "0:0707070707070707070707070707070707070707070707070707070707070707"

func TestStackValuesRoundTrip(t *testing.T) {
	c := cell.BeginCell().MustStoreUInt(0xabcdef, 24).MustStoreRef(cell.BeginCell().MustStoreUInt(1, 1).EndCell()).EndCell()
	s, _ := c.BeginParse()
	_, _ = s.LoadUInt(8) // a partly read slice travels as what is left
	addr := address.MustParseRawAddr(testAddr)
	in := []any{big.NewInt(-42), 7, c, s, cell.BeginCell().MustStoreUInt(5, 3), addr, []any{nil, big.NewInt(1), []any{}}, nil}
	vals, err := toValues(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	var back []value
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	out, err := fromValues(back)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d values back, want %d", len(out), len(in))
	}
	if out[0].(*big.Int).Int64() != -42 || out[1].(*big.Int).Int64() != 7 {
		t.Errorf("ints: %v %v", out[0], out[1])
	}
	if string(out[2].(*cell.Cell).Hash()) != string(c.Hash()) {
		t.Errorf("cell changed")
	}
	if got := out[3].(*cell.Slice); got.BitsLeft() != 16 || got.MustLoadUInt(16) != 0xcdef || got.RefsNum() != 1 {
		t.Errorf("slice changed")
	}
	if b := out[4].(*cell.Builder); b.BitsUsed() != 3 {
		t.Errorf("builder has %d bits, want 3", b.BitsUsed())
	}
	if a := out[5].(*cell.Slice).MustLoadAddr(); !a.Equals(addr) {
		t.Errorf("address came back as %s", a)
	}
	tup := out[6].([]any)
	if len(tup) != 3 || tup[0] != nil || tup[1].(*big.Int).Int64() != 1 || len(tup[2].([]any)) != 0 {
		t.Errorf("tuple came back as %v", tup)
	}
	if out[7] != nil {
		t.Errorf("null came back as %v", out[7])
	}
	if _, err := toValues([]any{"text"}); err == nil {
		t.Errorf("a string argument was accepted")
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 256)
	if _, err := fromValues([]value{{T: "int", N: huge.String()}}); err == nil {
		t.Errorf("an int over 257 bits was accepted")
	}
}

func TestDecodeRequestChecks(t *testing.T) {
	ok := []string{
		`{"v":1,"method":"info"}`,
		`{"v":1,"method":"account","addr":"` + testAddr + `"}`,
		`{"v":1,"method":"transactions","addr":"` + testAddr + `","after_lt":5,"limit":10}`,
		`{"v":1,"method":"run_get_method","addr":"` + testAddr + `","get":"seqno"}`,
		`{"v":1,"method":"faucet","addr":"` + testAddr + `","amount":"1000"}`,
	}
	for _, s := range ok {
		if _, err := decodeRequest([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for s, want := range map[string]string{
		`{"v":1,"method":"account","addr":"` + testAddr + `","get":"x"}`:       "not taken",
		`{"v":1,"method":"faucet","addr":"` + testAddr + `","amount":"0"}`:     "positive",
		`{"v":1,"method":"transactions","addr":"` + testAddr + `","limit":-1}`: "limit",
		`{"v":1,"method":"info"} x`:                                            "trailing",
		`[]`:                                                                   "not a valid",
		strings.Repeat(" ", MaxRequestSize+1):                                  "limit",
	} {
		if _, err := decodeRequest([]byte(s)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60q: err = %v, want it to mention %q", s, err, want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"v":1,"method":"info"}`))
	f.Add([]byte(`{"v":1,"method":"account","addr":"` + testAddr + `"}`))
	f.Add([]byte(`{"v":1,"method":"run_get_method","addr":"` + testAddr + `","get":"seqno","args":[{"t":"tuple","items":[{"t":"int","n":"5"},{"t":"cell","boc":"te6cckEBAQEAAgAAAEysuc0="}]}]}`))
	f.Add([]byte(`{"v":1,"method":"send_external","boc":"te6cckEBAQEAAgAAAEysuc0="}`))
	f.Add([]byte(`{"v":1,"method":"faucet","addr":"` + testAddr + `","amount":"1"}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRequest(b)
		if err != nil {
			return
		}
		if r.V != Version {
			t.Fatalf("accepted version %d", r.V)
		}
		// An accepted request's fields are usable as the server uses them.
		if r.Addr != "" {
			if _, err := parseAddr(r.Addr); err != nil {
				t.Fatalf("accepted a bad address: %v", err)
			}
		}
		if _, err := fromValues(r.Args); err != nil {
			t.Fatalf("accepted bad args: %v", err)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"v":1,"global_id":-3,"faucet":true}`))
	f.Add([]byte(`{"v":1,"err":{"code":"get_method","msg":"x","exit_code":11}}`))
	f.Add([]byte(`{"v":1,"account":{"status":"active","balance":"5","code":"te6cckEBAQEAAgAAAEysuc0="}}`))
	f.Add([]byte(`{"v":1,"txs":["te6cckEBAQEAAgAAAEysuc0="],"more":true}`))
	f.Add([]byte(`{"v":1,"stack":[{"t":"slice","boc":"te6cckEBAQEAAgAAAEysuc0="},{"t":"null"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResponse(b)
		if err != nil {
			return
		}
		// The client's further decoding of what it accepted must not
		// panic either.
		if r.Account != nil {
			_, _ = fromWireAccount(address.MustParseRawAddr(testAddr), r.Account)
		}
		for _, tx := range r.Txs {
			_, _ = parseTx(0, tx)
		}
	})
}
