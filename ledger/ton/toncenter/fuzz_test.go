package toncenter

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// FuzzDecodeStack: any request stack decodes or is refused with a 422,
// never a panic, and what decodes is a valid get-method argument list.
func FuzzDecodeStack(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString(cell.BeginCell().MustStoreUInt(5, 8).EndCell().ToBOC())
	for _, s := range []string{`[]`, `[["num","42"]]`, `[["num","-0x2a"],["num",7]]`, `[["tvm.Cell","` + b64 + `"]]`,
		`[["tvm.Slice","` + b64 + `"]]`, `[["cell",{"bytes":"` + b64 + `"}]]`, `[["slice",{"data":{"b64":"BQ==","len":8},"refs":[]}]]`,
		`[["tuple",[]]]`, `"x"`, `[["num"]]`, `[["cell",{"data":{"b64":"","len":0},"refs":[{"data":{"b64":"","len":0},"refs":[]}]}]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		vals, err := DecodeStack(json.RawMessage(raw))
		if err != nil {
			if ae, ok := err.(*apiError); !ok || ae.code != 422 {
				t.Fatalf("error %v is not a 422", err)
			}
			return
		}
		if _, err := ton.StackArgs(vals); err != nil {
			t.Fatalf("decoded stack is not valid arguments: %v", err)
		}
		_ = EncodeStack(vals)
	})
}

// FuzzExternalBOC: any "boc" parameter is decoded or refused with a 4xx,
// never a panic; what is accepted is an external-in message.
func FuzzExternalBOC(f *testing.F) {
	u := cell.BeginCell().MustStoreUInt(0b10, 2).MustStoreUInt(0, 2).MustStoreUInt(0b100, 3).MustStoreUInt(0, 8).
		MustStoreSlice(make([]byte, 32), 256).MustStoreCoins(0).MustStoreUInt(0, 2).EndCell()
	f.Add(base64.StdEncoding.EncodeToString(u.ToBOC()))
	f.Add("")
	f.Add("te6cckEBAQEAAgAAAEysuc0=")
	f.Add(base64.StdEncoding.EncodeToString([]byte{0xb5, 0xee, 0x9c, 0x72, 1, 1, 1, 1, 0}))
	f.Fuzz(func(t *testing.T, s string) {
		raw, ext, err := externalBOC(params{"boc": s})
		if err != nil {
			if ae, ok := err.(*apiError); !ok || ae.code < 400 || ae.code > 499 {
				t.Fatalf("error %v is not a 4xx", err)
			}
			return
		}
		if len(raw) == 0 || ext == nil || ext.Msg == nil || len(ext.Hash) != 32 {
			t.Fatal("accepted a BOC without an external message")
		}
		if _, err := decodeBOC(s); err != nil {
			t.Fatalf("externalBOC accepted what decodeBOC refuses: %v", err)
		}
	})
}
