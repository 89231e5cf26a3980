package edverify

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// stdVerify is crypto/ed25519.Verify, which panics on a key of the wrong
// length where Verify answers false.
func stdVerify(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, msg, sig)
}

// order is the prime order L of the Ed25519 base point.
var order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edgeKeys are public keys crypto/ed25519 treats specially: the identity
// and other small-order points, a non-canonical encoding of a y ≥ p, and a
// y with no point.
func edgeKeys(t testing.TB) [][]byte {
	return [][]byte{
		mustHex(t, "0100000000000000000000000000000000000000000000000000000000000000"), // identity
		mustHex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // order 2
		mustHex(t, "0000000000000000000000000000000000000000000000000000000000000080"), // order 4, sign bit
		mustHex(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), // order 8
		mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p
		mustHex(t, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = p+1
		mustHex(t, "0200000000000000000000000000000000000000000000000000000000000000"), // no point
	}
}

// variants are the inputs a good signature turns into: itself, with a bit
// of message, R, s or key flipped, with s + L (non-canonical), with R or the
// key replaced by edge points, and truncated.
func variants(t testing.TB, pub, msg, sig []byte) [][3][]byte {
	flip := func(b []byte, i int) []byte {
		c := append([]byte{}, b...)
		c[i%len(c)] ^= 1 << (i % 8)
		return c
	}
	out := [][3][]byte{{pub, msg, sig}}
	for i := 0; i < 64; i += 7 {
		out = append(out, [3][]byte{pub, msg, flip(sig, i)}, [3][]byte{flip(pub, i), msg, sig})
	}
	if len(msg) > 0 {
		out = append(out, [3][]byte{pub, flip(msg, 3), sig})
	}
	// s + L: the same scalar, not reduced.
	s := new(big.Int).SetBytes(reverse(sig[32:]))
	s.Add(s, order)
	if sb := s.Bytes(); len(sb) <= 32 {
		wide := make([]byte, 32)
		copy(wide[32-len(sb):], sb)
		out = append(out, [3][]byte{pub, msg, append(append([]byte{}, sig[:32]...), reverse(wide)...)})
	}
	for _, e := range edgeKeys(t) {
		out = append(out,
			[3][]byte{e, msg, sig},
			[3][]byte{pub, msg, append(append([]byte{}, e...), sig[32:]...)},
			[3][]byte{e, msg, append(append([]byte{}, e...), make([]byte, 32)...)})
	}
	out = append(out, [3][]byte{pub, msg, sig[:63]}, [3][]byte{pub[:31], msg, sig}, [3][]byte{nil, msg, sig})
	return out
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

func TestMatchesStdlib(t *testing.T) {
	valid := 0
	for range 50 {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, 1+len(pub)%40)
		rand.Read(msg)
		sig := ed25519.Sign(priv, msg)
		for i, v := range variants(t, pub, msg, sig) {
			want := stdVerify(v[0], v[1], v[2])
			if got := Verify(v[0], v[1], v[2]); got != want {
				t.Fatalf("variant %d (pub %x sig %x): Verify = %v, crypto/ed25519 says %v", i, v[0], v[2], got, want)
			}
			if want {
				valid++
			}
		}
	}
	// Each key's own signature must pass; altered ones must not all pass.
	if valid < 50 {
		t.Fatalf("only %d variants verified; the 50 genuine signatures should", valid)
	}
}

// TestSmallOrderKeyAccepted pins the rule most implementations differ on:
// crypto/ed25519 accepts the identity key with R = identity and s = 0 for
// any message (cofactorless, small-order A allowed). So must Verify.
func TestSmallOrderKeyAccepted(t *testing.T) {
	id := mustHex(t, "0100000000000000000000000000000000000000000000000000000000000000")
	sig := append(append([]byte{}, id...), make([]byte, 32)...)
	if !stdVerify(id, []byte("any"), sig) {
		t.Skip("this Go's crypto/ed25519 refuses the identity key; the match is checked by TestMatchesStdlib")
	}
	if !Verify(id, []byte("any"), sig) {
		t.Fatal("Verify refuses what crypto/ed25519 accepts")
	}
}

func TestPeerKey(t *testing.T) {
	priv, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("tonmesh")
	sig, err := priv.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := PeerKey(pub, msg, sig); !ok || err != nil {
		t.Fatalf("genuine signature: %v %v", ok, err)
	}
	sig[5] ^= 1
	if ok, _ := PeerKey(pub, msg, sig); ok {
		t.Fatal("altered signature verified")
	}
	if _, err := PeerKey(nil, msg, sig); err == nil {
		t.Fatal("nil key: no error")
	}
	// Another key type goes through the key's own Verify.
	spriv, spub, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ssig, _ := spriv.Sign(msg)
	if ok, err := PeerKey(spub, msg, ssig); !ok || err != nil {
		t.Fatalf("secp256k1 signature: %v %v", ok, err)
	}
}

func FuzzMatchesStdlib(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("bid")
	sig := ed25519.Sign(priv, msg)
	for _, v := range variants(f, pub, msg, sig) {
		f.Add(v[0], v[1], v[2])
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if got, want := Verify(pub, msg, sig), stdVerify(pub, msg, sig); got != want {
			t.Fatalf("pub %x msg %x sig %x: Verify = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 32)
	sig := ed25519.Sign(priv, msg)
	b.Run("edverify", func(b *testing.B) {
		for b.Loop() {
			if !Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
}
