package journal

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

func leaves(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		h := sha256.Sum256([]byte(fmt.Sprint(i)))
		out[i] = h[:]
	}
	return out
}

func TestMerkleRootSmallTrees(t *testing.T) {
	l := leaves(3)
	a, b, c := leafHash(l[0]), leafHash(l[1]), leafHash(l[2])
	if got := MerkleRoot(l[:1]); !bytes.Equal(got, a) {
		t.Errorf("root of one leaf = %x, want leaf hash %x", got, a)
	}
	if got, want := MerkleRoot(l[:2]), nodeHash(a, b); !bytes.Equal(got, want) {
		t.Errorf("root of two = %x, want %x", got, want)
	}
	// Odd rule: c is promoted, not paired with itself.
	if got, want := MerkleRoot(l), nodeHash(nodeHash(a, b), c); !bytes.Equal(got, want) {
		t.Errorf("root of three = %x, want %x", got, want)
	}
	empty := sha256.Sum256(nil)
	if !bytes.Equal(MerkleRoot(nil), empty[:]) {
		t.Error("root of nothing is not SHA-256 of nothing")
	}
	// Duplicating the last leaf must change the root (CVE-2012-2459).
	if bytes.Equal(MerkleRoot(l), MerkleRoot(append(l, l[2]))) {
		t.Error("[a b c] and [a b c c] share a root")
	}
	// A leaf cannot pose as an inner node.
	if bytes.Equal(MerkleRoot([][]byte{append(a, b...)}), MerkleRoot(l[:2])) {
		t.Error("a leaf equal to two concatenated children gives the parent's root")
	}
}

func TestProofsForEveryLeaf(t *testing.T) {
	for n := 1; n <= 37; n++ {
		l := leaves(n)
		root := MerkleRoot(l)
		for i := range n {
			p, err := Proof(l, i)
			if err != nil {
				t.Fatal(err)
			}
			if !VerifyProof(l[i], i, n, p, root) {
				t.Fatalf("n=%d i=%d: valid proof refused", n, i)
			}
			if VerifyProof(l[(i+1)%n], i, n, p, root) && n > 1 {
				t.Fatalf("n=%d i=%d: proof accepted for another leaf", n, i)
			}
			if n > 1 && VerifyProof(l[i], (i+1)%n, n, p, root) {
				t.Fatalf("n=%d i=%d: proof accepted at another index", n, i)
			}
			if VerifyProof(l[i], i, n+1, p, root) && VerifyProof(l[i], i, n, p, MerkleRoot(l[:n-1])) {
				t.Fatalf("n=%d i=%d: proof accepted for another tree", n, i)
			}
			if len(p) > 0 {
				bad := bytes.Clone(p[0])
				bad[0] ^= 1
				q := append([][]byte{bad}, p[1:]...)
				if VerifyProof(l[i], i, n, q, root) {
					t.Fatalf("n=%d i=%d: tampered proof accepted", n, i)
				}
				if VerifyProof(l[i], i, n, p[:len(p)-1], root) {
					t.Fatalf("n=%d i=%d: truncated proof accepted", n, i)
				}
			}
			if VerifyProof(l[i], i, n, append(p, root), root) {
				t.Fatalf("n=%d i=%d: proof with an extra hash accepted", n, i)
			}
			dec, err := UnmarshalProof(MarshalProof(p))
			if err != nil || len(dec) != len(p) || !VerifyProof(l[i], i, n, dec, root) {
				t.Fatalf("n=%d i=%d: proof does not survive marshalling: %v", n, i, err)
			}
		}
	}
	if _, err := Proof(leaves(3), 3); err == nil {
		t.Error("proof for an index out of range")
	}
}

func TestUnmarshalProofRefuses(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":    nil,
		"short":    append([]byte{2}, make([]byte, 63)...),
		"trailing": append([]byte{1}, make([]byte, 33)...),
		"too many": append([]byte{65}, make([]byte, 65*32)...),
	} {
		if _, err := UnmarshalProof(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
