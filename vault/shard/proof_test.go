package shard

import (
	"bytes"
	"errors"
	"testing"
)

// TestProof: a proof made from a shard's bytes verifies against its CID
// for every size (one partial chunk up to many chunks), and fails for
// another nonce (over many chunks), another size, another shard, or a
// chosen chunk altered.
func TestProof(t *testing.T) {
	for _, size := range []int{1, 100, 1024, 1025, 5000, 300_000} {
		data := randomBytes(t, size)
		c := CIDOf(data)
		nonce, other := [32]byte{1}, [32]byte{2}
		proof, err := makeProof(data, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyProof(c, size, nonce, proof); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		cases := map[string]error{
			"another size":  verifyProof(c, size+1, nonce, proof),
			"another shard": verifyProof(CIDOf(append(bytes.Clone(data), 0)), size, nonce, proof),
		}
		if size > 16<<10 {
			// With a few chunks every nonce may choose the same ones (the
			// proof then is the shard itself, which only its holder has).
			cases["another nonce"] = verifyProof(c, size, other, proof)
		}
		for name, err := range cases {
			if !errors.Is(err, ErrBadProof) {
				t.Errorf("%d bytes, %s: %v, want ErrBadProof", size, name, err)
			}
		}
		bad := bytes.Clone(data)
		bad[proofChunks(nonce, size)[3]] ^= 1
		badProof, err := makeProof(bad, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyProof(c, size, nonce, badProof); !errors.Is(err, ErrBadProof) {
			t.Errorf("%d bytes, a chosen chunk altered: %v, want ErrBadProof", size, err)
		}
		if err := verifyProof(cidSHA256(data), size, nonce, proof); err == nil {
			t.Errorf("%d bytes: a sha2-256 shard was proved", size)
		}
	}
}

// FuzzVerifyProof: whatever a holder sends as a proof never crashes the
// owner, and a proof is accepted only for the right shard.
func FuzzVerifyProof(f *testing.F) {
	data := bytes.Repeat([]byte("proof fuzz shard "), 300)
	c, nonce := CIDOf(data), [32]byte{5}
	good, err := makeProof(data, nonce)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if verifyProof(c, len(data), nonce, b) == nil && !bytes.Equal(b, good) {
			// Bao slices are canonical: only the true one verifies.
			t.Fatalf("a proof other than the holder's verified: %x", b)
		}
		_, _ = decodeProof(b)
	})
}
