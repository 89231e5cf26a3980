package shard

import (
	"fmt"
)

// Buffer is room for the n shards of one element side by side, so that a
// reader fetches each shard straight into its slot (Slot, with GetInto)
// and Decode rebuilds missing data shards and opens the ciphertext in
// place: no shard is copied once it has arrived. A Buffer is used by one
// element read; Slot and Mark may be called from several goroutines for
// distinct slots, Decode only once all of them are done.
type Buffer struct {
	size, k, n, per int
	buf             []byte
	have            []bool
}

// NewBuffer makes room for the shards of a ciphertext of size bytes split
// k of n.
func NewBuffer(size, k, n int) (*Buffer, error) {
	if err := checkKN(k, n); err != nil {
		return nil, err
	}
	if size < tagSize || ShardLen(size, k) > MaxShardSize {
		return nil, fmt.Errorf("shard: ciphertext size %d is out of range (%d..%d)", size, tagSize, MaxShardSize*k)
	}
	per := ShardLen(size, k)
	return &Buffer{size: size, k: k, n: n, per: per, buf: make([]byte, per*n), have: make([]bool, n)}, nil
}

// Slot is where shard i goes: ShardLen(size, k) bytes.
func (b *Buffer) Slot(i int) []byte { return b.buf[i*b.per : (i+1)*b.per : (i+1)*b.per] }

// Mark records that shard i is in its slot and intact.
func (b *Buffer) Mark(i int) { b.have[i] = true }

// Shards returns the marked shards, nil for the others, as Decode and
// Rebuild take them.
func (b *Buffer) Shards() [][]byte {
	out := make([][]byte, b.n)
	for i, ok := range b.have {
		if ok {
			out[i] = b.Slot(i)
		}
	}
	return out
}

// Decode restores the plaintext from at least k marked shards and opens it
// with key, as Decode does, working in the buffer: the plaintext it returns
// aliases it, and the Buffer must not be used again.
func (b *Buffer) Decode(key [32]byte) ([]byte, error) {
	present := 0
	work := make([][]byte, b.n)
	for i, ok := range b.have {
		if ok {
			work[i] = b.Slot(i)
			present++
		} else if i < b.k {
			work[i] = b.Slot(i)[:0] // rebuilt in its slot
		}
	}
	if present < b.k {
		return nil, fmt.Errorf("shard: decode: only %d of %d shards present, need at least %d", present, b.n, b.k)
	}
	if present < b.n || !b.allData() {
		enc, err := newRS(b.k, b.n)
		if err != nil {
			return nil, err
		}
		if err := enc.ReconstructData(work); err != nil {
			return nil, fmt.Errorf("shard: decode: reed-solomon: %w", err)
		}
		for i := range b.k {
			if len(work[i]) != b.per || &work[i][0] != &b.Slot(i)[0] {
				return nil, fmt.Errorf("shard: decode: reed-solomon did not rebuild shard %d in place", i)
			}
		}
	}
	ct := b.buf[:b.size]
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(ct[nonceSize:nonceSize], ct[:nonceSize], ct[nonceSize:], nil)
	if err != nil {
		return nil, fmt.Errorf("shard: decode: authentication failed (wrong key, or a shard was altered; check shards against their CIDs): %w", err)
	}
	return pt, nil
}

func (b *Buffer) allData() bool {
	for _, ok := range b.have[:b.k] {
		if !ok {
			return false
		}
	}
	return true
}
