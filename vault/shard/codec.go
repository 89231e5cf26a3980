package shard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/klauspost/reedsolomon"
)

// MaxShardSize is the largest shard the protocol carries and a holder
// keeps: a quarter of the largest passport element (passport.MaxElementSize,
// 430 MiB) and its padding, so that the default k = 4 stores any element.
const MaxShardSize = 128 << 20

// MaxShards bounds n, the number of shards of one element (Reed-Solomon over
// GF(2^8)).
const MaxShards = 256

// nonceSize is the AES-GCM nonce stored in front of the sealed bytes.
const nonceSize = 12

// Encoded is one element sealed and split into shards, as the owner keeps
// it: Key and Size (and K, N) go to the owner's manifest, Shards to the
// holders, CIDs to both.
type Encoded struct {
	Key    [32]byte  // AES-256-GCM key, fresh for this element
	Size   int       // ciphertext length: nonce ‖ sealed plaintext ‖ tag
	K, N   int       // any K of the N shards restore the ciphertext
	Shards [][]byte  // N shards of ShardLen(Size, K) bytes: K data, then N-K parity
	CIDs   []cid.Cid // CIDs[i] = CIDOf(Shards[i])
}

// ShardLen is the length of every shard of a ciphertext of size bytes split
// into k data shards.
func ShardLen(size, k int) int {
	if k <= 0 {
		return 0
	}
	return (size + k - 1) / k
}

// Encode seals plaintext with AES-256-GCM under a fresh random key (and a
// random nonce, kept in front of the ciphertext), then splits the ciphertext
// with Reed-Solomon into n shards of which any k restore it.
func Encode(plaintext []byte, k, n int) (*Encoded, error) {
	e, _, err := encode(nil, len(plaintext), k, n, func(dst []byte) error {
		copy(dst, plaintext)
		return nil
	})
	return e, err
}

// EncodeInto is Encode of a plaintext of size bytes that fill writes into
// the room it is given (exactly size bytes), where it is then sealed in
// place: the plaintext is never copied, and no plaintext is left in the
// buffer once EncodeInto returns. The shards are made in buf when its
// capacity is enough (ShardLen(size+28, k)·n bytes), else in a new buffer;
// the buffer used is returned, for a caller that reuses it for the next
// element once it is done with these shards.
func EncodeInto(buf []byte, size, k, n int, fill func(dst []byte) error) (*Encoded, []byte, error) {
	return encode(buf, size, k, n, fill)
}

func encode(buf []byte, plainLen, k, n int, fill func(dst []byte) error) (*Encoded, []byte, error) {
	if err := checkKN(k, n); err != nil {
		return nil, buf, err
	}
	size := nonceSize + plainLen + tagSize
	if plainLen < 0 || ShardLen(size, k) > MaxShardSize {
		return nil, buf, fmt.Errorf("shard: encode: %d bytes make shards of %d bytes, over the %d-byte limit: use more data shards (k) or a smaller element",
			plainLen, ShardLen(size, k), MaxShardSize)
	}
	e := &Encoded{Size: size, K: k, N: n}
	if _, err := rand.Read(e.Key[:]); err != nil {
		return nil, buf, fmt.Errorf("shard: encode: draw key: %w", err)
	}
	aead, err := newAEAD(e.Key)
	if err != nil {
		return nil, buf, err
	}
	// One buffer holds the ciphertext padded to k whole shards, followed by
	// room for the parity shards, so splitting needs no further copy.
	per := ShardLen(size, k)
	if cap(buf) < per*n {
		buf = make([]byte, per*n)
	}
	buf = buf[:per*n]
	if _, err := rand.Read(buf[:nonceSize]); err != nil {
		return nil, buf, fmt.Errorf("shard: encode: draw nonce: %w", err)
	}
	plain := buf[nonceSize : nonceSize+plainLen]
	if err := fill(plain); err != nil {
		clear(plain)
		return nil, buf, fmt.Errorf("shard: encode: %w", err)
	}
	aead.Seal(plain[:0], buf[:nonceSize], plain, nil)
	clear(buf[size : per*k]) // padding: a reused buffer holds old bytes there
	e.Shards = make([][]byte, n)
	for i := range e.Shards {
		e.Shards[i] = buf[i*per : (i+1)*per : (i+1)*per]
	}
	enc, err := newRS(k, n)
	if err != nil {
		return nil, buf, err
	}
	if err := enc.Encode(e.Shards); err != nil {
		return nil, buf, fmt.Errorf("shard: encode: reed-solomon: %w", err)
	}
	e.CIDs = cidsOf(e.Shards)
	return e, buf, nil
}

// Decode restores the plaintext from at least k of the n shards (nil for a
// missing one) and opens it with key. Shards must be intact: check each
// against its CID first (Get does); a corrupted shard makes the
// authentication fail.
func Decode(key [32]byte, size, k, n int, shards [][]byte) ([]byte, error) {
	if err := checkShards(size, k, n, shards); err != nil {
		return nil, fmt.Errorf("shard: decode: %w", err)
	}
	work := make([][]byte, n)
	copy(work, shards)
	enc, err := newRS(k, n)
	if err != nil {
		return nil, err
	}
	if err := enc.ReconstructData(work); err != nil {
		return nil, fmt.Errorf("shard: decode: reed-solomon: %w", err)
	}
	ct := make([]byte, 0, ShardLen(size, k)*k)
	for _, s := range work[:k] {
		ct = append(ct, s...)
	}
	ct = ct[:size]
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, ct[:nonceSize], ct[nonceSize:], nil)
	if err != nil {
		return nil, fmt.Errorf("shard: decode: authentication failed (wrong key, or a shard was altered; check shards against their CIDs): %w", err)
	}
	return pt, nil
}

// Rebuild returns all n shards, recomputing the missing (nil) ones from at
// least k present ones, for repair. It needs no key. Present shards are
// returned as given, missing ones newly allocated.
func Rebuild(size, k, n int, shards [][]byte) ([][]byte, error) {
	if err := checkShards(size, k, n, shards); err != nil {
		return nil, fmt.Errorf("shard: rebuild: %w", err)
	}
	out := make([][]byte, n)
	copy(out, shards)
	enc, err := newRS(k, n)
	if err != nil {
		return nil, err
	}
	if err := enc.Reconstruct(out); err != nil {
		return nil, fmt.Errorf("shard: rebuild: reed-solomon: %w", err)
	}
	return out, nil
}

func checkKN(k, n int) error {
	if k < 1 || n < k || n > MaxShards {
		return fmt.Errorf("shard: %d of %d shards: need 1 <= k <= n <= %d", k, n, MaxShards)
	}
	return nil
}

func checkShards(size, k, n int, shards [][]byte) error {
	if err := checkKN(k, n); err != nil {
		return err
	}
	if size < tagSize || ShardLen(size, k) > MaxShardSize {
		return fmt.Errorf("ciphertext size %d is out of range (%d..%d)", size, tagSize, MaxShardSize*k)
	}
	if len(shards) != n {
		return fmt.Errorf("got %d shard slots, want n = %d (nil for a missing shard)", len(shards), n)
	}
	per, present := ShardLen(size, k), 0
	for i, s := range shards {
		if s == nil {
			continue
		}
		if len(s) != per {
			return fmt.Errorf("shard %d is %d bytes, want %d", i, len(s), per)
		}
		present++
	}
	if present < k {
		return fmt.Errorf("only %d of %d shards present, need at least %d", present, n, k)
	}
	return nil
}

func newAEAD(key [32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("shard: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("shard: gcm: %w", err)
	}
	return aead, nil
}

func newRS(k, n int) (reedsolomon.Encoder, error) {
	enc, err := reedsolomon.New(k, n-k)
	if err != nil {
		return nil, fmt.Errorf("shard: reed-solomon %d+%d: %w", k, n-k, err)
	}
	return enc, nil
}
