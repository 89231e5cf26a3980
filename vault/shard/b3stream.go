package shard

import (
	"hash"
	"math/bits"

	"lukechampine.com/blake3/guts"
)

// streamHasher is BLAKE3-256 for bytes that come in pieces (a shard read
// off a stream or a file in copy buffers), giving the same digest as
// blake3.Sum256 of their concatenation. blake3.Hasher holds back the last
// whole chunk of every Write, so each Write after the first begins with
// one chunk compressed alone and leaves the rest misaligned: its trees
// shrink to 1, 2, 4, ... chunks, mostly too small for the SIMD
// compressor, and a shard hashed in 256 KiB writes goes at about 60% of
// the speed of a single Sum256. streamHasher compresses only aligned trees
// of streamTree bytes and keeps the last one as a node, not yet finished
// (the root flag goes on it, or on the parents above it, at Sum), so no
// chunk is held back and every tree is full width.
type streamHasher struct {
	stack   [64][8]uint32 // chaining values of finished subtrees
	counter uint64        // chunks in stack, one bit per occupied height

	last       guts.Node // the newest tree, not yet pushed
	lastHeight int
	hasLast    bool

	buf []byte // a piece of less than streamTree bytes, not yet compressed
}

// streamTree is the size of the trees a streamHasher compresses: 64
// chunks, a multiple of the 16 that guts compresses at once.
const streamTree = 64 * guts.ChunkSize

var _ hash.Hash = (*streamHasher)(nil)

func newStreamHasher() *streamHasher { return &streamHasher{} }

// Write implements hash.Hash; it never fails.
func (h *streamHasher) Write(p []byte) (int, error) {
	n := len(p)
	if len(h.buf) > 0 {
		k := min(streamTree-len(h.buf), len(p))
		h.buf = append(h.buf, p[:k]...)
		p = p[k:]
		if len(h.buf) < streamTree {
			return n, nil
		}
		h.tree(h.buf)
		h.buf = h.buf[:0]
	}
	for len(p) >= streamTree {
		h.tree(p[:streamTree])
		p = p[streamTree:]
	}
	h.buf = append(h.buf, p...)
	return n, nil
}

// tree compresses b, a power of two of whole chunks at a position that is
// a multiple of its size, as the newest tree.
func (h *streamHasher) tree(b []byte) {
	height := bits.TrailingZeros(uint(len(b) / guts.ChunkSize))
	h.push(guts.CompressEigentree(b, &guts.IV, h.chunks(), 0), height)
}

// chunk compresses the final chunk b (1 to ChunkSize bytes, or none for an
// empty input) as the newest tree.
func (h *streamHasher) chunk(b []byte) {
	h.push(guts.CompressChunk(b, &guts.IV, h.chunks(), 0), 0)
}

// chunks is the number of chunks compressed so far.
func (h *streamHasher) chunks() uint64 {
	if h.hasLast {
		return h.counter + 1<<h.lastHeight
	}
	return h.counter
}

// push makes n the newest tree and finishes the one before it, merging it
// into the stack as blake3.Hasher does.
func (h *streamHasher) push(n guts.Node, height int) {
	if h.hasLast {
		cv, i := guts.ChainingValue(h.last), h.lastHeight
		for h.counter&(1<<i) != 0 {
			cv = guts.ChainingValue(guts.ParentNode(h.stack[i], cv, &guts.IV, 0))
			i++
		}
		h.stack[i] = cv
		h.counter += 1 << h.lastHeight
	}
	h.last, h.lastHeight, h.hasLast = n, height, true
}

// Sum implements hash.Hash: it appends the digest of what was written to
// b, without changing the state.
func (h *streamHasher) Sum(b []byte) []byte {
	s := *h // the stack is copied; buf is only read
	tail := s.buf
	if len(tail) > 0 {
		whole := (len(tail) - 1) / guts.ChunkSize // every chunk but the last
		off := 0
		for _, height := range guts.Eigentrees(s.chunks(), uint64(whole)) {
			size := guts.ChunkSize << height
			s.tree(tail[off : off+size : off+size])
			off += size
		}
		s.chunk(tail[off:])
	} else if !s.hasLast {
		s.chunk(nil)
	}
	n := s.last
	for i := bits.TrailingZeros64(s.counter); i < bits.Len64(s.counter); i++ {
		if s.counter&(1<<i) != 0 {
			n = guts.ParentNode(s.stack[i], guts.ChainingValue(n), &guts.IV, 0)
		}
	}
	n.Flags |= guts.FlagRoot
	out := guts.WordsToBytes(guts.CompressNode(n))
	return append(b, out[:32]...)
}

// Reset implements hash.Hash.
func (h *streamHasher) Reset() { *h = streamHasher{buf: h.buf[:0]} }

// Size implements hash.Hash.
func (h *streamHasher) Size() int { return 32 }

// BlockSize implements hash.Hash.
func (h *streamHasher) BlockSize() int { return guts.BlockSize }
