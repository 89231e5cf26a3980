package shard

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"github.com/klauspost/reedsolomon"
)

// benchSizes are the element sizes the vault bench reports.
var benchSizes = []int{1 << 20, 10 << 20}

func sizeName(n int) string { return fmt.Sprintf("%dMiB", n>>20) }

// BenchmarkEncode measures Encode (AES-256-GCM seal, Reed-Solomon 4+2,
// six CIDs) per plaintext byte.
func BenchmarkEncode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			plain := randomBytes(b, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := Encode(plain, 4, 6); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode measures Decode with two of six shards missing (the
// most that 4-of-6 tolerates) per plaintext byte.
func BenchmarkDecode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			e, err := Encode(randomBytes(b, size), 4, 6)
			if err != nil {
				b.Fatal(err)
			}
			shards := without(e.Shards, 0, 2)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := Decode(e.Key, e.Size, 4, 6, shards); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawAESGCM is the AES-256-GCM seal that Encode does, alone.
func BenchmarkRawAESGCM(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			block, err := aes.NewCipher(make([]byte, 32))
			if err != nil {
				b.Fatal(err)
			}
			aead, err := cipher.NewGCM(block)
			if err != nil {
				b.Fatal(err)
			}
			plain, nonce := randomBytes(b, size), make([]byte, nonceSize)
			out := make([]byte, 0, size+aead.Overhead())
			b.SetBytes(int64(size))
			for b.Loop() {
				out = aead.Seal(out[:0], nonce, plain, nil)
			}
		})
	}
}

// BenchmarkRawReedSolomon is the 4+2 parity computation that Encode does,
// alone.
func BenchmarkRawReedSolomon(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			enc, err := reedsolomon.New(4, 2)
			if err != nil {
				b.Fatal(err)
			}
			shards, err := enc.Split(randomBytes(b, size))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := enc.Encode(shards); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
