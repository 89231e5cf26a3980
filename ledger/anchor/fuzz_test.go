package anchor

import (
	"bytes"
	"testing"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// FuzzParseBody feeds BOCs to ParseBody: anchor bodies are read back from
// the chain, where anyone may send the wallet anything.
func FuzzParseBody(f *testing.F) {
	b := &Body{FromSeq: 1, ToSeq: 2, Root: bytes.Repeat([]byte{7}, 32), Head: bytes.Repeat([]byte{8}, 32)}
	c, err := b.Cell()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.ToBOC())
	f.Add(cell.BeginCell().MustStoreUInt(uint64(Op), 32).EndCell().ToBOC())
	f.Add([]byte{0xb5, 0xee, 0x9c, 0x72})
	f.Fuzz(func(t *testing.T, boc []byte) {
		c, err := cell.FromBOC(boc)
		if err != nil {
			return
		}
		b, err := ParseBody(c)
		if err != nil {
			return
		}
		again, err := b.Cell()
		if err != nil {
			t.Fatalf("parsed body does not rebuild: %v", err)
		}
		if !bytes.Equal(again.Hash(), c.Hash()) {
			t.Fatal("parsed body rebuilds to another cell")
		}
	})
}
