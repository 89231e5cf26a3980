package emu

import (
	"context"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// flipLastSignatureBit re-serialises ext with the last bit of its body's
// data (inside the Ed25519 signature) flipped.
func flipLastSignatureBit(t testing.TB, ext *ton.External, body *cell.Cell) []byte {
	t.Helper()
	data := body.MustBeginParse()
	n := data.BitsLeft()
	bits, err := data.LoadSlice(n)
	if err != nil {
		t.Fatal(err)
	}
	last := (n - 1)
	bits[last/8] ^= 0x80 >> (last % 8)
	b := cell.BeginCell().MustStoreSlice(bits, n)
	for i := 0; i < int(body.RefsNum()); i++ {
		r, err := body.PeekRef(i)
		if err != nil {
			t.Fatal(err)
		}
		b.MustStoreRef(r)
	}
	in := ext.Msg.AsExternalIn()
	forged := *in
	forged.Body = b.EndCell()
	c, err := tlbToCell(&forged)
	if err != nil {
		t.Fatal(err)
	}
	return c.ToBOC()
}

// FuzzSendExternal feeds arbitrary bytes to SendExternal: it must never
// panic, and garbage must never change the chain.
func FuzzSendExternal(f *testing.F) {
	c, store := openChain(f, f.TempDir())
	defer store.Close()
	w := newTestWallet(f)
	if err := c.Faucet(context.Background(), w.addr, tons(1)); err != nil {
		f.Fatal(err)
	}
	valid := w.order(f, c, w.addr, tons(0), false, "fuzz")
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{0xb5, 0xee, 0x9c, 0x72})
	f.Add(valid[:len(valid)/2])
	before := c.meta.steps
	f.Fuzz(func(t *testing.T, boc []byte) {
		_, err := c.SendExternal(context.Background(), boc)
		if err == nil && string(boc) != string(valid) {
			// Only a correctly signed order can be accepted; a fuzzer will
			// not forge Ed25519.
			c.mu.Lock()
			steps := c.meta.steps
			c.mu.Unlock()
			if steps > before+1 {
				t.Fatalf("garbage was accepted: %x", boc)
			}
		}
	})
}

func tlbToCell(v any) (*cell.Cell, error) { return tlb.ToCell(v) }
