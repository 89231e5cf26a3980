package shard

import (
	"crypto/rand"
	"fmt"
	"io"
)

// Whole-memory striping, the reference the streamed code is tested
// against: a plaintext sealed stripe by stripe into whole shards, and
// whole shards opened back. The vault streams both ways and uses none of
// it.

// Seal seals segment j of plain (the whole plaintext) into buf, which has
// at least StripeLen bytes, and returns the stripe's N chunks, aliasing
// buf.
func (s *Striper) Seal(j int, plain, buf []byte) ([][]byte, error) {
	l := s.l
	if len(plain) != l.Size || j < 0 || j >= l.Stripes() || len(buf) < l.StripeLen() {
		return nil, fmt.Errorf("shard: seal stripe %d: plaintext of %d bytes, buffer of %d, for layout %+v", j, len(plain), len(buf), l)
	}
	c := l.ChunkLen(j)
	seg := plain[j*l.Segment : j*l.Segment+l.SegmentLen(j)]
	sealed := s.aead.Seal(buf[:0], stripeNonce(j, j == l.Stripes()-1), seg, nil)
	clear(buf[len(sealed) : l.K*c])
	chunks := make([][]byte, l.N)
	for i := range chunks {
		chunks[i] = buf[i*c : (i+1)*c : (i+1)*c]
	}
	if err := s.rs.Encode(chunks); err != nil {
		return nil, fmt.Errorf("shard: seal stripe %d: reed-solomon: %w", j, err)
	}
	return chunks, nil
}

// EncodeStriped seals plaintext striped (under a fresh random key) into N
// whole shards in memory, as Encode does in one piece. Encoded.Size is
// the layout's EncSize.
func EncodeStriped(plaintext []byte, k, n, segment int) (*Encoded, error) {
	l, err := NewLayout(len(plaintext), k, n, segment)
	if err != nil {
		return nil, err
	}
	e := &Encoded{Size: l.EncSize(), K: k, N: n}
	if _, err := rand.Read(e.Key[:]); err != nil {
		return nil, fmt.Errorf("shard: encode: draw key: %w", err)
	}
	st, err := NewStriper(e.Key, l)
	if err != nil {
		return nil, err
	}
	per := l.ShardLen()
	buf := make([]byte, per*n)
	e.Shards = make([][]byte, n)
	for i := range e.Shards {
		e.Shards[i] = buf[i*per : (i+1)*per : (i+1)*per]
	}
	if l.Stripes() == 1 {
		// The stripe is the shards: seal in place.
		if _, err := st.Seal(0, plaintext, buf); err != nil {
			return nil, err
		}
	} else {
		stripe := make([]byte, l.StripeLen())
		for j := range l.Stripes() {
			chunks, err := st.Seal(j, plaintext, stripe)
			if err != nil {
				return nil, err
			}
			for i, ch := range chunks {
				copy(e.Shards[i][l.Offset(j):], ch)
			}
		}
	}
	e.CIDs = cidsOf(e.Shards)
	return e, nil
}

// DecodeStripedTo writes the plaintext of a striped element to w from at
// least K of its whole shards (nil for a missing one), stripe by stripe,
// skipping the first skip plaintext bytes (written before, by a read that
// failed midway). Shards must be checked against their CIDs first.
func DecodeStripedTo(w io.Writer, key [32]byte, l Layout, shards [][]byte, skip int) error {
	st, err := NewStriper(key, l)
	if err != nil {
		return err
	}
	if len(shards) != l.N {
		return fmt.Errorf("shard: decode: %d shard slots, want n = %d", len(shards), l.N)
	}
	for i, s := range shards {
		if s != nil && len(s) != l.ShardLen() {
			return fmt.Errorf("shard: decode: shard %d is %d bytes, want %d", i, len(s), l.ShardLen())
		}
	}
	scratch := make([]byte, l.StripeLen())
	chunks := make([][]byte, l.N)
	for j := range l.Stripes() {
		end := j*l.Segment + l.SegmentLen(j)
		if end <= skip && l.Size > 0 {
			continue
		}
		off, c := l.Offset(j), l.ChunkLen(j)
		for i, s := range shards {
			chunks[i] = nil
			if s != nil {
				chunks[i] = s[off : off+c : off+c]
			}
		}
		pt, err := st.Open(j, chunks, scratch)
		if err != nil {
			return fmt.Errorf("shard: decode: %w", err)
		}
		if from := skip - j*l.Segment; from > 0 {
			pt = pt[from:]
		}
		if _, err := w.Write(pt); err != nil {
			return fmt.Errorf("shard: decode: write plaintext: %w", err)
		}
	}
	return nil
}
