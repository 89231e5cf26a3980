package shard

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"runtime"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"golang.org/x/crypto/blake2b"
	"lukechampine.com/blake3"
)

// Shard IDs. A shard is named by a CIDv1 with the raw codec and a 32-byte
// multihash of its bytes. New shards use BLAKE3 (multihash 0x1e), which is
// several times faster than SHA-256 and lets the owner, the holder and a
// reader each hash a shard once; shards named by sha2-256 (0x12), as tonmesh
// made them before, stay valid everywhere: holders keep serving them,
// manifests and receipts naming them decode, and reads check them.
//
// The CID's hash also selects how a shard is audited: sha2-256 shards by
// the challenge answers their owners precomputed (ChallengeAnswer), BLAKE3
// shards by proofs of storage checked against the CID (Prove, proof.go).

// CIDOf is a new shard's content ID: CIDv1, raw codec, BLAKE3-256.
func CIDOf(shard []byte) cid.Cid {
	sum := blake3.Sum256(shard)
	return cidOfDigest(multihash.BLAKE3, sum[:])
}

// cidSHA256 is a shard's content ID as tonmesh made it before BLAKE3:
// CIDv1, raw codec, sha2-256. Kept for tests of old data.
func cidSHA256(shard []byte) cid.Cid {
	sum := sha256.Sum256(shard)
	return cidOfDigest(multihash.SHA2_256, sum[:])
}

func cidOfDigest(code uint64, digest []byte) cid.Cid {
	mh, err := multihash.Encode(digest, code)
	if err != nil {
		// Encode fails only for an unknown code or a digest of the wrong
		// length; neither can happen here.
		panic("shard: multihash of a 32-byte digest: " + err.Error())
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// newCIDHash returns a hash that computes c's digest, or nil when c is not
// a shard ID.
func newCIDHash(c cid.Cid) hash.Hash {
	if checkCIDFormat(c) != nil {
		return nil
	}
	if c.Prefix().MhType == multihash.BLAKE3 {
		return newStreamHasher()
	}
	return sha256.New()
}

// digestOf returns c's digest (the multihash without its prefix).
func digestOf(c cid.Cid) []byte {
	d, err := multihash.Decode(c.Hash())
	if err != nil {
		return nil
	}
	return d.Digest
}

// parallelHashMin is the shard size from which cidsOf hashes shards
// concurrently.
const parallelHashMin = 128 << 10

// cidsOf returns the CIDs of shards.
func cidsOf(shards [][]byte) []cid.Cid {
	out := make([]cid.Cid, len(shards))
	if len(shards) == 0 || len(shards[0]) < parallelHashMin || runtime.GOMAXPROCS(0) == 1 {
		for i, s := range shards {
			out[i] = CIDOf(s)
		}
		return out
	}
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Go(func() { out[i] = CIDOf(s) })
	}
	wg.Wait()
	return out
}

// CheckCID reports whether shard's content matches c, a BLAKE3 or
// sha2-256 shard ID.
func CheckCID(c cid.Cid, shard []byte) bool {
	h := newCIDHash(c)
	if h == nil {
		return false
	}
	h.Write(shard)
	return bytes.Equal(h.Sum(nil), digestOf(c))
}

// checkCIDFormat accepts only the CIDs this package makes or made.
func checkCIDFormat(c cid.Cid) error {
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.Raw || p.MhLength != 32 || (p.MhType != multihash.BLAKE3 && p.MhType != multihash.SHA2_256) {
		return errors.New("CID is not a CIDv1 raw BLAKE3 or sha2-256 shard ID")
	}
	return nil
}

// challengeTag separates challenge answers from every other use of
// BLAKE2b.
const challengeTag = "tonmesh/vault/shard/challenge/v1"

// ChallengeAnswer is the answer to a storage challenge: BLAKE2b-256 keyed
// with nonce over (tag ‖ shard). Only a peer holding the shard can compute
// it for a fresh nonce; its owner precomputes several answers when it
// places a sha2-256 shard. BLAKE3 shards are proved instead (Prove), with
// nothing precomputed.
func ChallengeAnswer(nonce [32]byte, shard []byte) [32]byte {
	h, _ := blake2b.New256(nonce[:]) // a 32-byte key is always valid
	h.Write([]byte(challengeTag))
	h.Write(shard)
	var out [32]byte
	h.Sum(out[:0])
	return out
}
