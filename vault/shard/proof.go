package shard

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"lukechampine.com/blake3/bao"
	"lukechampine.com/blake3/guts"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Proofs of storage. A BLAKE3 CID is the root of a Merkle tree over the
// shard's 1 KiB chunks, so a holder can prove that it has a shard by
// sending, for chunks chosen by a fresh nonce, their bytes and their paths
// up the tree (Bao slices), which the owner checks against the CID alone:
// the owner keeps nothing per shard but its CID and hashes nothing when it
// places the shard. A holder that lost a fraction f of a shard passes one
// proof with probability (1-f)^proofSamples: 0.1 % for f = 10 %, 53 % for
// f = 1 %, and the owner audits again and again. Unlike the precomputed
// answers of sha2-256 shards, one proof does not cover every byte; every
// read still does (holders re-hash a whole shard before they serve it).
//
// Sha2-256 shards keep the challenge with precomputed answers
// (ChallengeAnswer).
const (
	// proofSamples is the number of chunks one proof shows.
	proofSamples = 64
	proofTag     = "tonmesh/vault/shard/proof/v1"
	// maxSlice bounds one Bao slice of a chunk of a shard of at most
	// MaxShardSize bytes: its length, a parent per tree level, the chunk.
	maxSlice = 8 + 64*16 + guts.ChunkSize
	// maxProof bounds an encoded proof.
	maxProof = proofSamples * (2 + maxSlice)
)

// ErrBadProof: a holder's proof of storage does not verify against the
// shard's CID (its copy is corrupt or partly gone).
var ErrBadProof = errors.New("proof of storage does not match the shard")

// Provable reports whether shard c is audited by proofs (Prove; BLAKE3
// shards) rather than by precomputed challenge answers (Challenge;
// sha2-256 shards).
func Provable(c cid.Cid) bool { return c.Prefix().MhType == multihash.BLAKE3 }

// proofChunks returns the start of each chunk a proof for nonce shows, for
// a shard of size bytes.
func proofChunks(nonce [32]byte, size int) []uint64 {
	chunks := uint64((size + guts.ChunkSize - 1) / guts.ChunkSize)
	out := make([]uint64, proofSamples)
	for i := range out {
		h := sha256.Sum256(binary.BigEndian.AppendUint32(append([]byte(proofTag), nonce[:]...), uint32(i)))
		out[i] = binary.BigEndian.Uint64(h[:8]) % chunks * guts.ChunkSize
	}
	return out
}

// chunkLen is the length of the chunk at off of a shard of size bytes.
func chunkLen(off uint64, size int) uint64 { return min(guts.ChunkSize, uint64(size)-off) }

// makeProof builds the proof for nonce from the shard's bytes: the Bao
// slice of every chosen chunk, each length-prefixed.
func makeProof(data []byte, nonce [32]byte) ([]byte, error) {
	outboard, _ := bao.EncodeBuf(data, 0, true)
	var out []byte
	for _, off := range proofChunks(nonce, len(data)) {
		var slice bytes.Buffer
		n := chunkLen(off, len(data))
		if err := bao.ExtractSlice(&slice, bytes.NewReader(data[off:off+n]), bytes.NewReader(outboard), 0, off, n); err != nil {
			return nil, fmt.Errorf("shard: proof: %w", err)
		}
		out = wire.AppendLenPrefixed(out, slice.Bytes())
	}
	return out, nil
}

// decodeProof strictly splits a proof into its slices; it checks sizes,
// not content.
func decodeProof(b []byte) ([][]byte, error) {
	if len(b) > maxProof {
		return nil, fmt.Errorf("decode proof: %d bytes exceeds %d", len(b), maxProof)
	}
	rd := wire.NewReader(b)
	out := make([][]byte, proofSamples)
	for i := range out {
		out[i] = rd.LenPrefixed("slice", maxSlice)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode proof: %w", err)
	}
	return out, nil
}

// verifyProof checks a proof for nonce of shard c of size bytes: every
// slice shows the chosen chunk of a shard of exactly that size, and its
// path leads to c.
func verifyProof(c cid.Cid, size int, nonce [32]byte, proof []byte) error {
	if !Provable(c) || size <= 0 || size > MaxShardSize {
		return fmt.Errorf("shard: proof of %s (%d bytes): not a provable shard", c, size)
	}
	slices, err := decodeProof(proof)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadProof, err)
	}
	var root [32]byte
	copy(root[:], digestOf(c))
	for i, off := range proofChunks(nonce, size) {
		s := slices[i]
		if len(s) < 8 || binary.LittleEndian.Uint64(s[:8]) != uint64(size) {
			return fmt.Errorf("%w: slice %d is not of a %d-byte shard", ErrBadProof, i, size)
		}
		n := chunkLen(off, size)
		got, ok := bao.VerifySlice(s, 0, off, n, root)
		if !ok || uint64(len(got)) != n {
			return fmt.Errorf("%w: chunk at %d does not lead to %s", ErrBadProof, off, c)
		}
	}
	return nil
}
