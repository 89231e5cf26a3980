package ratchet

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
)

func TestBundleRoundTripAndVerify(t *testing.T) {
	u := newUser(t)
	if err := u.bundle.Verify(); err != nil {
		t.Fatalf("fresh bundle: %v", err)
	}
	if !bytes.Equal(u.bundle.IdentityKey, u.ik.PublicKey().Bytes()) ||
		!bytes.Equal(u.bundle.SigningKey, u.sign.Public().(ed25519.PublicKey)) ||
		!bytes.Equal(u.bundle.SignedPrekey, u.prekeys[7].PublicKey().Bytes()) || u.bundle.PrekeyID != 7 {
		t.Fatal("bundle fields do not match the keys it was made from")
	}
	enc, err := u.bundle.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != BundleSize {
		t.Fatalf("encoded bundle has %d bytes, want %d", len(enc), BundleSize)
	}
	dec, err := UnmarshalBundle(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Verify(); err != nil {
		t.Fatalf("decoded bundle: %v", err)
	}
	again, _ := dec.MarshalBinary()
	if !bytes.Equal(again, enc) {
		t.Fatal("bundle does not re-encode to the same bytes")
	}
	for _, bad := range [][]byte{nil, enc[:BundleSize-1], append(bytes.Clone(enc), 0), append([]byte{2}, enc[1:]...)} {
		if _, err := UnmarshalBundle(bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("UnmarshalBundle(%d bytes, version %v): %v, want ErrMalformed", len(bad), bad[:min(1, len(bad))], err)
		}
	}
}

func TestBundleWrongSignatureRefused(t *testing.T) {
	u, a := newUser(t), newUser(t)
	other := newUser(t)
	tamper := map[string]func(b *Bundle){
		"identity key":  func(b *Bundle) { b.IdentityKey[0] ^= 1 },
		"signing key":   func(b *Bundle) { b.SigningKey = other.bundle.SigningKey },
		"signed prekey": func(b *Bundle) { b.SignedPrekey[31] ^= 0x40 },
		"prekey id":     func(b *Bundle) { b.PrekeyID++ },
		"signature":     func(b *Bundle) { b.Signature[5] ^= 1 },
		"foreign prekey": func(b *Bundle) {
			b.SignedPrekey = other.bundle.SignedPrekey
			b.Signature = other.bundle.Signature
		},
	}
	for name, f := range tamper {
		enc, _ := u.bundle.MarshalBinary()
		b, err := UnmarshalBundle(enc)
		if err != nil {
			t.Fatal(err)
		}
		f(b)
		if err := b.Verify(); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: Verify = %v, want ErrBadSignature", name, err)
		}
		if s, err := Initiate(a.ik, b); !errors.Is(err, ErrBadSignature) || s != nil {
			t.Errorf("%s changed: Initiate = %v, want ErrBadSignature", name, err)
		}
	}
	short := *u.bundle
	short.Signature = short.Signature[:10]
	if err := short.Verify(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short signature: %v, want ErrMalformed", err)
	}
	if _, err := short.MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("MarshalBinary of a short signature: %v, want ErrMalformed", err)
	}
}

func TestNewSignedPrekeyArguments(t *testing.T) {
	u := newUser(t)
	if _, _, err := NewSignedPrekey(u.sign[:10], u.ik, 1); err == nil {
		t.Fatal("accepted a short signing key")
	}
	if _, _, err := NewSignedPrekey(u.sign, nil, 1); err == nil {
		t.Fatal("accepted a nil identity")
	}
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewSignedPrekey(u.sign, p256, 1); err == nil {
		t.Fatal("accepted a P-256 identity")
	}
	// Two prekeys are distinct keys.
	b1, k1, err := NewSignedPrekey(u.sign, u.ik, 1)
	if err != nil {
		t.Fatal(err)
	}
	b2, k2, err := NewSignedPrekey(u.sign, u.ik, 2)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Equal(k2) || bytes.Equal(b1.SignedPrekey, b2.SignedPrekey) {
		t.Fatal("two prekeys are equal")
	}
}
