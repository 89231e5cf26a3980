package ton

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

func sampleExternal(t testing.TB) []byte {
	t.Helper()
	dst := address.NewAddress(0, 0, bytes.Repeat([]byte{7}, 32))
	body := cell.BeginCell().MustStoreUInt(0xdeadbeef, 32).EndCell()
	c, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: dst, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return c.ToBOC()
}

func TestParseExternal(t *testing.T) {
	boc := sampleExternal(t)
	ext, err := ParseExternal(boc)
	if err != nil {
		t.Fatalf("valid external: %v", err)
	}
	in := ext.Msg.AsExternalIn()
	if !bytes.Equal(ext.Hash, in.NormalizedHash()) || len(ext.Hash) != 32 {
		t.Fatalf("hash %x is not the normalised hash", ext.Hash)
	}
	if bytes.Equal(ext.Hash, ext.Cell.Hash()) {
		t.Fatalf("normalised hash should differ from the raw cell hash of an inline-body message")
	}

	internal, err := tlb.ToCell(&tlb.InternalMessage{DstAddr: in.DstAddr, Amount: tlb.FromNanoTONU(1), Body: cell.BeginCell().EndCell()})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		boc  []byte
		want string
	}{
		"empty":    {nil, "empty"},
		"garbage":  {[]byte("not a boc"), "not a BOC"},
		"huge":     {make([]byte, MaxExternalSize+1), "limit"},
		"internal": {internal.ToBOC(), "want external-in"},
		"cut":      {boc[:len(boc)-3], "external message"},
	} {
		if _, err := ParseExternal(tc.boc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func FuzzParseExternal(f *testing.F) {
	f.Add(sampleExternal(f))
	f.Add([]byte{0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 0x01, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, boc []byte) {
		ext, err := ParseExternal(boc)
		if err == nil && (ext == nil || len(ext.Hash) != 32 || ext.Msg.AsExternalIn() == nil) {
			t.Fatalf("accepted without a usable message: %+v", ext)
		}
	})
}
