package channel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/xssnick/tonutils-go/address"
)

func testChannelAddr() *address.Address {
	h := make([]byte, 32)
	for i := range h {
		h[i] = byte(i + 1)
	}
	return address.NewAddress(0, 0, h)
}

// The signed bytes are exactly the documented layout.
func TestSigningBytesLayout(t *testing.T) {
	v := Voucher{GlobalID: -3, Channel: testChannelAddr(), Cumulative: big.NewInt(0x0102030405)}
	got, err := v.SigningBytes()
	if err != nil {
		t.Fatal(err)
	}
	want := "74766368" + "fffffffd" + "00" +
		"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" +
		"00000000000000000000000102030405"
	if hex.EncodeToString(got) != want {
		t.Fatalf("signing bytes\n got %x\nwant %s", got, want)
	}
	if len(got) != SigningSize {
		t.Fatalf("len %d, want %d", len(got), SigningSize)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	v := Voucher{GlobalID: -3, Channel: testChannelAddr(), Cumulative: big.NewInt(123456789)}
	sv, err := v.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := sv.Verify(pub); err != nil {
		t.Fatalf("verify own voucher: %v", err)
	}
	wire, err := sv.MarshalBinary()
	if err != nil || len(wire) != WireSize {
		t.Fatalf("marshal: %d bytes, %v", len(wire), err)
	}
	back, err := ParseSignedVoucher(wire)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(pub); err != nil || back.Cumulative.Cmp(v.Cumulative) != 0 || back.GlobalID != -3 ||
		back.Channel.StringRaw() != v.Channel.StringRaw() {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	// Any change to what was signed breaks the signature.
	for name, mutate := range map[string]func(*SignedVoucher){
		"amount":  func(s *SignedVoucher) { s.Cumulative = big.NewInt(123456790) },
		"network": func(s *SignedVoucher) { s.GlobalID = -239 },
		"channel": func(s *SignedVoucher) { s.Channel = address.NewAddress(0, 0, make([]byte, 32)) },
	} {
		c, _ := ParseSignedVoucher(wire)
		mutate(c)
		if err := c.Verify(pub); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("%s changed: verify = %v, want ErrBadSignature", name, err)
		}
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if err := sv.Verify(other); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verify with another key: %v", err)
	}
}

func TestParseSignedVoucherStrict(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	sv, _ := Voucher{GlobalID: -3, Channel: testChannelAddr(), Cumulative: big.NewInt(1)}.Sign(key)
	good, _ := sv.MarshalBinary()
	cases := map[string][]byte{
		"empty":     nil,
		"short":     good[:WireSize-1],
		"long":      append(bytes.Clone(good), 0),
		"tag":       func() []byte { b := bytes.Clone(good); b[64] ^= 1; return b }(),
		"workchain": func() []byte { b := bytes.Clone(good); b[72] = 5; return b }(),
		"amount":    func() []byte { b := bytes.Clone(good); b[105] = 0x01; return b }(), // 2^120
	}
	for name, b := range cases {
		if _, err := ParseSignedVoucher(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := (Voucher{GlobalID: -3, Channel: testChannelAddr(), Cumulative: big.NewInt(-1)}).Sign(key); !errors.Is(err, ErrMalformed) {
		t.Fatalf("negative amount signed: %v", err)
	}
	if _, err := (Voucher{GlobalID: -3, Cumulative: big.NewInt(1)}).Sign(key); !errors.Is(err, ErrMalformed) {
		t.Fatalf("voucher without channel signed: %v", err)
	}
}
