package journal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Merkle tree over record hashes (or any byte strings), SHA-256 with
// domain separation so a leaf can never be passed off as an inner node:
//
//	leaf(x)    = SHA-256(0x00 || x)
//	node(l, r) = SHA-256(0x01 || l || r)
//
// Levels are built left to right, pairing neighbours. Odd-node rule: when a
// level has an odd number of nodes, the last one is promoted to the next
// level unchanged (it is NOT paired with a copy of itself, which would let
// two different lists share a root). The root of an empty list is
// SHA-256 of nothing. A proof is the list of siblings from the leaf up,
// skipping levels where the node was promoted; verifying it needs the leaf
// count as well as the index, to know at which levels that happened.

const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// MaxProofLen bounds a proof path: 64 levels cover 2^64 leaves.
const MaxProofLen = 64

func leafHash(x []byte) []byte {
	h := sha256.New()
	h.Write([]byte{leafPrefix})
	h.Write(x)
	return h.Sum(nil)
}

func nodeHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{nodePrefix})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// MerkleRoot is the root of the tree whose leaves are hashes, in order.
func MerkleRoot(hashes [][]byte) []byte {
	if len(hashes) == 0 {
		h := sha256.Sum256(nil)
		return h[:]
	}
	level := make([][]byte, len(hashes))
	for i, x := range hashes {
		level[i] = leafHash(x)
	}
	for len(level) > 1 {
		level = nextLevel(level)
	}
	return level[0]
}

func nextLevel(level [][]byte) [][]byte {
	next := make([][]byte, 0, (len(level)+1)/2)
	for i := 0; i+1 < len(level); i += 2 {
		next = append(next, nodeHash(level[i], level[i+1]))
	}
	if len(level)%2 == 1 {
		next = append(next, level[len(level)-1])
	}
	return next
}

// Proof returns the sibling path of leaf index in the tree of hashes, from
// the bottom up. It returns an error for an index out of range.
func Proof(hashes [][]byte, index int) ([][]byte, error) {
	if index < 0 || index >= len(hashes) {
		return nil, fmt.Errorf("journal: merkle proof: index %d out of range [0, %d)", index, len(hashes))
	}
	level := make([][]byte, len(hashes))
	for i, x := range hashes {
		level[i] = leafHash(x)
	}
	var path [][]byte
	for len(level) > 1 {
		sib := index ^ 1
		if sib < len(level) {
			path = append(path, level[sib])
		}
		level = nextLevel(level)
		index /= 2
	}
	return path, nil
}

// VerifyProof reports whether proof shows that leaf is at index in a tree
// of count leaves whose root is root.
func VerifyProof(leaf []byte, index, count int, proof [][]byte, root []byte) bool {
	if index < 0 || count <= 0 || index >= count || len(proof) > MaxProofLen {
		return false
	}
	h := leafHash(leaf)
	used := 0
	for n := count; n > 1; n = (n + 1) / 2 {
		sib := index ^ 1
		if sib < n {
			if used == len(proof) || len(proof[used]) != HashSize {
				return false
			}
			if index%2 == 0 {
				h = nodeHash(h, proof[used])
			} else {
				h = nodeHash(proof[used], h)
			}
			used++
		}
		index /= 2
	}
	return used == len(proof) && bytes.Equal(h, root)
}

// MarshalProof encodes a proof path: one byte with the number of hashes,
// then the 32-byte hashes.
func MarshalProof(proof [][]byte) []byte {
	out := make([]byte, 0, 1+len(proof)*HashSize)
	out = append(out, byte(len(proof)))
	for _, p := range proof {
		out = append(out, p...)
	}
	return out
}

// UnmarshalProof decodes MarshalProof's output, refusing paths longer than
// MaxProofLen, hashes of the wrong size and trailing bytes.
func UnmarshalProof(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("journal: decode proof: empty")
	}
	n := int(b[0])
	if n > MaxProofLen {
		return nil, fmt.Errorf("journal: decode proof: %d hashes, at most %d", n, MaxProofLen)
	}
	if len(b) != 1+n*HashSize {
		return nil, fmt.Errorf("journal: decode proof: %d bytes for %d hashes, want %d", len(b), n, 1+n*HashSize)
	}
	proof := make([][]byte, n)
	for i := range proof {
		proof[i] = bytes.Clone(b[1+i*HashSize : 1+(i+1)*HashSize])
	}
	return proof, nil
}
