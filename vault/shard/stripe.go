package shard

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// Striped elements. Encode seals an element in one piece, so that nothing
// can be sent before all of it is sealed and nothing read back can be
// released before all of it has arrived. A striped element is sealed in
// segments instead, each a stripe of its own:
//
//   - segment j is the plaintext bytes [j·Segment, (j+1)·Segment) (the last
//     one shorter, possibly empty for an empty element), sealed with
//     AES-256-GCM under the element's key with the nonce
//     big-endian j (8 bytes) ‖ 0 0 0 ‖ last (1 when j is the last segment,
//     else 0). The key is fresh for every element, so nonces never repeat
//     under one key; the counter stops reordering, the last flag
//     truncation.
//   - the sealed segment (plus zero padding) is split into K data chunks
//     of ChunkLen(j) bytes and Reed-Solomon adds N-K parity chunks.
//   - shard i is chunk i of every stripe, one after another.
//
// Reed-Solomon works byte position by byte position, so whole striped
// shards rebuild with Rebuild like any others (repair needs no layout),
// and a Buffer of EncSize bytes holds them. A reader opens segment after
// segment as K chunks of it arrive: each segment is authenticated on its
// own, so plaintext is released only once it is proven the owner's.
const (
	// DefaultSegment is the plaintext bytes of one stripe.
	DefaultSegment = 1 << 20
	// MaxSegment bounds Segment (a stripe is held in memory whole).
	MaxSegment = 16 << 20
	tagSize    = 16
)

// Layout is the geometry of a striped element.
type Layout struct {
	Size    int // plaintext bytes
	K, N    int
	Segment int // plaintext bytes per stripe
}

// NewLayout checks and returns the layout of a plaintext of size bytes.
func NewLayout(size, k, n, segment int) (Layout, error) {
	l := Layout{Size: size, K: k, N: n, Segment: segment}
	if err := checkKN(k, n); err != nil {
		return l, err
	}
	if segment < 1 || segment > MaxSegment {
		return l, fmt.Errorf("shard: segment of %d bytes: need 1..%d", segment, MaxSegment)
	}
	if size < 0 {
		return l, fmt.Errorf("shard: plaintext size %d is negative", size)
	}
	if l.ShardLen() > MaxShardSize {
		return l, fmt.Errorf("shard: %d bytes make shards of %d bytes, over the %d-byte limit: use more data shards (k) or a smaller element",
			size, l.ShardLen(), MaxShardSize)
	}
	return l, nil
}

// Stripes is the number of stripes (at least one).
func (l Layout) Stripes() int {
	if l.Size == 0 {
		return 1
	}
	return (l.Size + l.Segment - 1) / l.Segment
}

// SegmentLen is the plaintext bytes of stripe j.
func (l Layout) SegmentLen(j int) int {
	if j < l.Stripes()-1 {
		return l.Segment
	}
	return l.Size - j*l.Segment
}

// ChunkLen is the bytes of every chunk of stripe j.
func (l Layout) ChunkLen(j int) int { return ShardLen(l.SegmentLen(j)+tagSize, l.K) }

// Offset is where stripe j's chunk starts in every shard.
func (l Layout) Offset(j int) int { return j * l.ChunkLen(0) }

// ShardLen is the bytes of every shard.
func (l Layout) ShardLen() int {
	s := l.Stripes()
	return l.Offset(s-1) + l.ChunkLen(s-1)
}

// EncSize is K·ShardLen, the padded ciphertext: ShardLen(EncSize, K) is
// the shard length, so NewBuffer and Rebuild take it as a size.
func (l Layout) EncSize() int { return l.K * l.ShardLen() }

// StripeLen is the room one stripe's N chunks take (the first stripe is
// the largest).
func (l Layout) StripeLen() int { return l.N * l.ChunkLen(0) }

// Striper seals and opens the stripes of one element.
type Striper struct {
	l    Layout
	aead cipher.AEAD
	rs   reedsolomon.Encoder
}

// NewStriper returns the striper of an element sealed under key.
func NewStriper(key [32]byte, l Layout) (*Striper, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	rs, err := newRS(l.K, l.N)
	if err != nil {
		return nil, err
	}
	return &Striper{l: l, aead: aead, rs: rs}, nil
}

// Layout is the striper's layout.
func (s *Striper) Layout() Layout { return s.l }

func stripeNonce(j int, last bool) []byte {
	var n [nonceSize]byte
	binary.BigEndian.PutUint64(n[:8], uint64(j))
	if last {
		n[nonceSize-1] = 1
	}
	return n[:]
}

// Striped puts seal in place, stripe by stripe, in a stripe's own memory
// (StripeLen bytes): its chunk i at i·ChunkLen(j), so that AES-GCM seals the
// segment where it lies and Reed-Solomon writes the parity beside it, and
// nothing is copied. A SegmentWriter writes the plaintext into the memory
// of each stripe in turn, reporting each segment once it is whole;
// SealStripe then seals that stripe, so that sealing follows the plaintext
// as it is written and no plaintext is left once all are sealed;
// StripeChunk finds a chunk to send.

// StripeChunk is chunk i of stripe j in the stripe's memory.
func (l Layout) StripeChunk(stripe []byte, j, i int) []byte {
	c := l.ChunkLen(j)
	return stripe[i*c : (i+1)*c : (i+1)*c]
}

// SegmentWriter writes a plaintext of Size bytes segment by segment: into
// the memory place gives for segment j (at least SegmentLen(j) bytes, asked
// for when its first byte is written), calling whole(j) as soon as segment
// j has all its bytes. An error of place or whole stops the writer and is
// returned. It is used by one goroutine.
type SegmentWriter struct {
	l       Layout
	place   func(j int) ([]byte, error)
	whole   func(j int) error
	seg     []byte // the memory of the segment being written
	written int
}

// SegmentWriter returns a writer of the plaintext of layout l.
func (l Layout) SegmentWriter(place func(j int) ([]byte, error), whole func(j int) error) *SegmentWriter {
	return &SegmentWriter{l: l, place: place, whole: whole}
}

// Write writes the next bytes of the plaintext; it refuses bytes past
// Size.
func (w *SegmentWriter) Write(p []byte) (int, error) {
	l := w.l
	if len(p) > l.Size-w.written {
		return 0, fmt.Errorf("shard: %d plaintext bytes written, the layout has %d", w.written+len(p), l.Size)
	}
	n := len(p)
	for len(p) > 0 {
		j, off := w.written/l.Segment, w.written%l.Segment
		if off == 0 {
			seg, err := w.place(j)
			if err != nil {
				return n - len(p), err
			}
			if len(seg) < l.SegmentLen(j) {
				return n - len(p), fmt.Errorf("shard: %d bytes of memory for segment %d of %d", len(seg), j, l.SegmentLen(j))
			}
			w.seg = seg
		}
		k := copy(w.seg[off:l.SegmentLen(j)], p)
		p, w.written = p[k:], w.written+k
		if off+k == l.SegmentLen(j) {
			if err := w.whole(j); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Close checks that the whole plaintext was written; an empty one's only
// segment is placed and reported whole here.
func (w *SegmentWriter) Close() error {
	if w.written != w.l.Size {
		return fmt.Errorf("shard: %d of %d plaintext bytes written", w.written, w.l.Size)
	}
	if w.l.Size == 0 {
		if _, err := w.place(0); err != nil {
			return err
		}
		return w.whole(0)
	}
	return nil
}

// SealStripe seals stripe j in place in its memory (StripeLen bytes, its
// segment written at the start): the segment is sealed where it lies,
// padded, and the parity chunks are made beside it.
func (s *Striper) SealStripe(j int, stripe []byte) error {
	l := s.l
	if j < 0 || j >= l.Stripes() || len(stripe) < l.N*l.ChunkLen(j) {
		return fmt.Errorf("shard: seal stripe %d: %d bytes of memory, for layout %+v", j, len(stripe), l)
	}
	c := l.ChunkLen(j)
	seg := stripe[:l.SegmentLen(j)]
	sealed := s.aead.Seal(seg[:0], stripeNonce(j, j == l.Stripes()-1), seg, nil)
	clear(stripe[len(sealed) : l.K*c])
	chunks := make([][]byte, l.N)
	for i := range chunks {
		chunks[i] = l.StripeChunk(stripe, j, i)
	}
	if err := s.rs.Encode(chunks); err != nil {
		return fmt.Errorf("shard: seal stripe %d: reed-solomon: %w", j, err)
	}
	return nil
}

// Open restores segment j from at least K of its chunks (nil for a
// missing one; each ChunkLen(j) bytes) and authenticates it. scratch, of
// at least K·ChunkLen(j) bytes, receives rebuilt chunks and the ciphertext;
// the plaintext returned aliases it. chunks' slice is not changed, nor
// the bytes of the chunks given.
func (s *Striper) Open(j int, chunks [][]byte, scratch []byte) ([]byte, error) {
	l := s.l
	if j < 0 || j >= l.Stripes() || len(chunks) != l.N || len(scratch) < l.K*l.ChunkLen(j) {
		return nil, fmt.Errorf("shard: open stripe %d: %d chunks, scratch of %d bytes, for layout %+v", j, len(chunks), len(scratch), l)
	}
	c := l.ChunkLen(j)
	work := make([][]byte, l.N)
	present, allData := 0, true
	for i, ch := range chunks {
		switch {
		case ch != nil && len(ch) != c:
			return nil, fmt.Errorf("shard: open stripe %d: chunk %d is %d bytes, want %d", j, i, len(ch), c)
		case ch != nil:
			work[i] = ch
			present++
		case i < l.K:
			allData = false
			// Rebuilt where the ciphertext goes, so that it needs no copy.
			work[i] = scratch[i*c : i*c : (i+1)*c]
		}
	}
	if present < l.K {
		return nil, fmt.Errorf("shard: open stripe %d: only %d of %d chunks present, need at least %d", j, present, l.N, l.K)
	}
	if !allData {
		if err := s.rs.ReconstructData(work); err != nil {
			return nil, fmt.Errorf("shard: open stripe %d: reed-solomon: %w", j, err)
		}
	}
	ct := scratch[:l.K*c]
	for i := range l.K {
		if len(work[i]) != c {
			return nil, fmt.Errorf("shard: open stripe %d: reed-solomon did not rebuild chunk %d", j, i)
		}
		if &work[i][0] != &ct[i*c] {
			copy(ct[i*c:(i+1)*c], work[i])
		}
	}
	ct = ct[:l.SegmentLen(j)+tagSize]
	pt, err := s.aead.Open(ct[:0], stripeNonce(j, j == l.Stripes()-1), ct, nil)
	if err != nil {
		return nil, fmt.Errorf("shard: open stripe %d: authentication failed (a chunk was altered or the key is wrong): %w", j, ErrCorrupt)
	}
	return pt, nil
}
