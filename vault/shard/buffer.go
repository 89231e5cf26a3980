package shard

import (
	"fmt"
	"slices"
	"sync"
)

// Buffer is room for the n shards of one element side by side, so that a
// reader fetches each shard straight into its slot (Slot, with GetInto)
// and Decode rebuilds missing data shards and opens the ciphertext in
// place: no shard is copied once it has arrived. The k data slots are one
// block, made with the Buffer; a parity slot is made only when it is
// first asked for (most reads never fetch parity). A Buffer is used by one
// element read; Slot and Mark may be called from several goroutines for
// distinct slots, Decode only once all of them are done.
type Buffer struct {
	size, k, n, per int
	buf             []byte // the k data slots

	mu     sync.Mutex
	parity [][]byte // parity slots, nil until asked for
	have   []bool
}

// NewBuffer makes room for the shards of a ciphertext of size bytes split
// k of n.
func NewBuffer(size, k, n int) (*Buffer, error) { return NewBufferIn(nil, size, k, n) }

// NewBufferIn is NewBuffer that puts the data slots in mem when its
// capacity is enough (ShardLen(size, k)·k bytes; its content does not
// matter), else in new memory: the memory of a Buffer released before
// (Release), or of an EncodeInto done with.
func NewBufferIn(mem []byte, size, k, n int) (*Buffer, error) {
	if err := checkKN(k, n); err != nil {
		return nil, err
	}
	if size < tagSize || ShardLen(size, k) > MaxShardSize {
		return nil, fmt.Errorf("shard: ciphertext size %d is out of range (%d..%d)", size, tagSize, MaxShardSize*k)
	}
	per := ShardLen(size, k)
	if cap(mem) < per*k {
		mem = make([]byte, per*k)
	}
	return &Buffer{size: size, k: k, n: n, per: per, buf: mem[:per*k], parity: make([][]byte, n-k), have: make([]bool, n)}, nil
}

// Slot is where shard i goes: ShardLen(size, k) bytes.
func (b *Buffer) Slot(i int) []byte {
	if i < b.k {
		return b.buf[i*b.per : (i+1)*b.per : (i+1)*b.per]
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.parity[i-b.k] == nil {
		b.parity[i-b.k] = make([]byte, b.per)
	}
	return b.parity[i-b.k]
}

// Mark records that shard i is in its slot and intact.
func (b *Buffer) Mark(i int) {
	b.mu.Lock()
	b.have[i] = true
	b.mu.Unlock()
}

// Shards returns the marked shards, nil for the others, as Decode and
// Rebuild take them.
func (b *Buffer) Shards() [][]byte {
	out := make([][]byte, b.n)
	for i, ok := range b.marked() {
		if ok {
			out[i] = b.Slot(i)
		}
	}
	return out
}

func (b *Buffer) marked() []bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.have)
}

// Release clears the data slots (after Decode they hold the plaintext)
// and returns their memory, for a NewBufferIn or an EncodeInto of another
// element. The Buffer, and what Decode returned, must not be used again.
func (b *Buffer) Release() []byte {
	mem := b.buf
	clear(mem)
	b.buf = nil
	return mem
}

// Decode restores the plaintext from at least k marked shards and opens it
// with key, as Decode does, working in the buffer: the plaintext it returns
// aliases it, and the Buffer must not be used again.
func (b *Buffer) Decode(key [32]byte) ([]byte, error) {
	present := 0
	work := make([][]byte, b.n)
	have := b.marked()
	for i, ok := range have {
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
	if present < b.n || slices.Contains(have[:b.k], false) {
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
