package chat

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// expandedVerify verifies through keys, as an envelope's sender is.
func expandedVerify(t testing.TB, keys *peerKeyCache, pub, msg, sig []byte) bool {
	t.Helper()
	lk, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(lk)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.key(id)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := k.verify(msg, sig)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// keyVariants are pub, msg, sig and altered or malformed versions of them:
// flipped bits, s + L, small-order and non-canonical keys and R, a key
// that is no point, a short signature.
func keyVariants(t testing.TB, pub, msg, sig []byte) [][3][]byte {
	flip := func(b []byte, i int) []byte {
		c := append([]byte{}, b...)
		c[i%len(c)] ^= 1 << (i % 8)
		return c
	}
	out := [][3][]byte{{pub, msg, sig}, {pub, flip(msg, 3), sig}}
	for i := 0; i < 64; i += 5 {
		out = append(out, [3][]byte{pub, msg, flip(sig, i)}, [3][]byte{flip(pub, i), msg, sig})
	}
	order, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	le := func(b []byte) []byte {
		r := make([]byte, len(b))
		for i := range b {
			r[len(b)-1-i] = b[i]
		}
		return r
	}
	if s := new(big.Int).Add(new(big.Int).SetBytes(le(sig[32:])), order).Bytes(); len(s) <= 32 {
		wide := make([]byte, 32)
		copy(wide[32-len(s):], s)
		out = append(out, [3][]byte{pub, msg, append(append([]byte{}, sig[:32]...), le(wide)...)})
	}
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
		"0000000000000000000000000000000000000000000000000000000000000080", // order 4, sign bit
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1
		"0200000000000000000000000000000000000000000000000000000000000000", // no point
	} {
		e, _ := hex.DecodeString(h)
		out = append(out,
			[3][]byte{e, msg, sig},
			[3][]byte{pub, msg, append(append([]byte{}, e...), sig[32:]...)},
			[3][]byte{e, msg, append(append([]byte{}, e...), make([]byte, 32)...)})
	}
	return append(out, [3][]byte{pub, msg, sig[:63]}, [3][]byte{pub, msg, nil})
}

// TestPeerKeysMatchStdlib: an envelope's signature checked with the
// sender's expanded key is accepted exactly when crypto/ed25519 accepts
// it, for valid, altered and malformed keys and signatures, and again from
// the cache.
func TestPeerKeysMatchStdlib(t *testing.T) {
	var keys peerKeyCache
	valid := 0
	for range 20 {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, 300)
		_, _ = rand.Read(msg)
		for _, v := range keyVariants(t, pub, msg, ed25519.Sign(priv, msg)) {
			want := ed25519.Verify(v[0], v[1], v[2])
			for range 2 { // expanded now, then cached
				if got := expandedVerify(t, &keys, v[0], v[1], v[2]); got != want {
					t.Fatalf("pub %x sig %x: verify = %v, crypto/ed25519 says %v", v[0], v[2], got, want)
				}
			}
			if want {
				valid++
			}
		}
	}
	if valid < 20 {
		t.Fatalf("only %d valid variants: the test checks little", valid)
	}
}

// TestPeerKeysBounded: the cache keeps at most maxPeerKeys senders.
func TestPeerKeysBounded(t *testing.T) {
	var keys peerKeyCache
	for range maxPeerKeys + 10 {
		_, id := testKey(t)
		if _, err := keys.key(id); err != nil {
			t.Fatal(err)
		}
	}
	n := len(keys.m)
	if n > maxPeerKeys {
		t.Fatalf("%d keys cached, want at most %d", n, maxPeerKeys)
	}
}

func FuzzPeerKeyVerify(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("envelope")
	for _, v := range keyVariants(f, pub, msg, ed25519.Sign(priv, msg)) {
		f.Add(v[0], v[1], v[2])
	}
	var keys peerKeyCache
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize {
			return
		}
		if got, want := expandedVerify(t, &keys, pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("pub %x msg %x sig %x: verify = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
		}
	})
}
