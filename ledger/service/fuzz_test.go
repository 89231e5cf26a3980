package service

import (
	"encoding/json"
	"testing"

	"github.com/xssnick/tonutils-go/address"
)

func FuzzDecodeChanMsg(f *testing.F) {
	f.Add([]byte(`{"op":"info"}`))
	f.Add([]byte(`{"op":"open","params":{"payer":"0:00","payee":"0:11","payer_key":"AAAA","global_id":-3,"id":7,"timeout_s":60}}`))
	f.Add([]byte(`{"op":"voucher","voucher":"AAAA"}`))
	f.Add([]byte(`{"op":"topup","channel":"0:0000000000000000000000000000000000000000000000000000000000000000"}`))
	f.Add([]byte(`{"op":"info","x":1}`))
	f.Add([]byte(`{"op":"info"} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeChanMsg(b)
		if err != nil {
			return
		}
		// What the decoder accepts is well-formed for its op, and the
		// params decoder must refuse or accept without panicking.
		switch m.Op {
		case "open":
			if m.Params == nil {
				t.Fatal("open accepted without params")
			}
			_, _ = m.Params.params()
		case "voucher":
			if len(m.Voucher) == 0 {
				t.Fatal("voucher accepted empty")
			}
		case "topup":
			if _, err := address.ParseRawAddr(m.Channel); err != nil {
				t.Fatalf("topup accepted with channel %q: %v", m.Channel, err)
			}
		case "info":
		default:
			t.Fatalf("unknown op %q accepted", m.Op)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeChanMsgRefuses(t *testing.T) {
	for _, in := range []string{``, `{}`, `{"op":"pay"}`, `{"op":"open"}`, `{"op":"voucher","voucher":"AAAA"}`, `{"op":"info","extra":1}`, `{"op":"info"}{"op":"info"}`, `[1]`, `{"op":"topup"}`, `{"op":"topup","channel":"EQ"}`} {
		if _, err := decodeChanMsg([]byte(in)); err == nil {
			t.Errorf("decodeChanMsg(%q) accepted", in)
		}
	}
}
