package channel

import (
	"bytes"
	"crypto/ed25519"
	"math/big"
	"testing"
)

// FuzzParseSignedVoucher: bytes from the network never panic the decoder,
// and whatever it accepts encodes back to exactly the same bytes (one
// encoding per voucher).
func FuzzParseSignedVoucher(f *testing.F) {
	seed := ed25519.NewKeyFromSeed(make([]byte, 32))
	for _, amt := range []int64{0, 1, 1 << 40} {
		sv, err := Voucher{GlobalID: -3, Channel: testChannelAddr(), Cumulative: big.NewInt(amt)}.Sign(seed)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := sv.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(make([]byte, WireSize))
	f.Add(bytes.Repeat([]byte{0xff}, WireSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		sv, err := ParseSignedVoucher(b)
		if err != nil {
			return
		}
		again, err := sv.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted voucher does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip changed the bytes:\n in %x\nout %x", b, again)
		}
		_ = sv.Verify(seed.Public().(ed25519.PublicKey))
		if _, err := sv.Cell(); err != nil {
			t.Fatalf("accepted voucher has no cell: %v", err)
		}
	})
}
