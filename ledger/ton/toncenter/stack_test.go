package toncenter

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// TestEncodeStackShapes: the result forms TonClient's parseStack reads.
func TestEncodeStackShapes(t *testing.T) {
	ref := cell.BeginCell().MustStoreUInt(1, 1).EndCell()
	c := cell.BeginCell().MustStoreUInt(0xabc, 12).MustStoreRef(ref).EndCell()
	got := EncodeStack([]any{big.NewInt(42), big.NewInt(-42), big.NewInt(0), c, c.MustBeginParse(), nil, []any{big.NewInt(7), c, nil, []any{}}})
	raw, _ := json.Marshal(got)
	b64 := base64.StdEncoding.EncodeToString(c.ToBOC())
	obj := `{"data":{"b64":"q8A=","len":12},"refs":[{"data":{"b64":"gA==","len":1},"refs":[]}]}`
	want := `[["num","0x2a"],["num","-0x2a"],["num","0x0"],` +
		`["cell",{"bytes":"` + b64 + `","object":` + obj + `}],` +
		`["cell",{"bytes":"` + b64 + `","object":` + obj + `}],` +
		`["list",{"@type":"tvm.list","elements":[]}],` +
		`["tuple",{"@type":"tvm.tuple","elements":[` +
		`{"@type":"tvm.stackEntryNumber","number":{"@type":"tvm.numberDecimal","number":"7"}},` +
		`{"@type":"tvm.stackEntryCell","cell":{"@type":"tvm.cell","bytes":"` + b64 + `"}},` +
		`{"@type":"tvm.stackEntryList","list":{"@type":"tvm.list","elements":[]}},` +
		`{"@type":"tvm.stackEntryTuple","tuple":{"@type":"tvm.tuple","elements":[]}}]}]]`
	if string(raw) != want {
		t.Fatalf("stack\n got %s\nwant %s", raw, want)
	}
}

func TestDecodeStackRoundTrip(t *testing.T) {
	c := cell.BeginCell().MustStoreUInt(0xabc, 12).MustStoreRef(cell.BeginCell().EndCell()).EndCell()
	b64 := base64.StdEncoding.EncodeToString(c.ToBOC())
	in := `[["num","-0x10"],["int",255],["number","0b101"],["tvm.Cell","` + b64 + `"],["tvm.Slice","` + b64 + `"],["tvm.Builder","` + b64 + `"],` +
		`["cell",{"data":{"b64":"q8A=","len":12},"refs":[{"data":{"b64":"","len":0},"refs":[]}]}]]`
	vals, err := DecodeStack(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 7 || vals[0].(*big.Int).Int64() != -16 || vals[1].(*big.Int).Int64() != 255 || vals[2].(*big.Int).Int64() != 5 {
		t.Fatalf("numbers: %v", vals)
	}
	if vals[3].(*cell.Cell).HashKey() != c.HashKey() || vals[6].(*cell.Cell).HashKey() != c.HashKey() {
		t.Fatal("cells do not round-trip (BOC and object forms)")
	}
	if _, ok := vals[4].(*cell.Slice); !ok {
		t.Fatalf("slice: %T", vals[4])
	}
	if _, ok := vals[5].(*cell.Builder); !ok {
		t.Fatalf("builder: %T", vals[5])
	}
}
