package shard

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"lukechampine.com/blake3"
)

// writeInPieces hashes data with h, written in the pieces that cut gives.
func writeInPieces(h *streamHasher, data []byte, cut func() int) {
	for len(data) > 0 {
		k := min(max(cut(), 1), len(data))
		h.Write(data[:k])
		data = data[k:]
	}
}

func TestStreamHasherMatchesSum256(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3*streamTree*5+7777)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sizes := []int{0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 16 << 10, 16<<10 + 1, streamTree - 1, streamTree, streamTree + 1,
		streamTree + 1024, 2*streamTree - 1, 3*streamTree + 5, 10*streamTree + 1023, len(data)}
	cuts := map[string]func() int{
		"whole":    func() int { return len(data) },
		"1":        func() int { return 1 },
		"1000":     func() int { return 1000 },
		"1024":     func() int { return 1024 },
		"256KiB":   func() int { return copyBuf },
		"streamTr": func() int { return streamTree },
		"random":   func() int { return rng.IntN(3 * streamTree) },
	}
	for _, n := range sizes {
		want := blake3.Sum256(data[:n])
		for name, cut := range cuts {
			if name == "1" && n > 3*streamTree {
				continue
			}
			h := newStreamHasher()
			writeInPieces(h, data[:n], cut)
			if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("%d bytes in %s pieces: digest %x, want %x", n, name, got, want)
			}
			if again := h.Sum([]byte{9}); !bytes.Equal(again[1:], want[:]) || again[0] != 9 {
				t.Fatalf("%d bytes in %s pieces: a second Sum gives %x", n, name, again)
			}
			h.Reset()
			h.Write(data[:n])
			if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("%d bytes after Reset: digest %x, want %x", n, got, want)
			}
		}
	}
}

func FuzzStreamHasher(f *testing.F) {
	f.Add([]byte("shard"), uint16(3), uint32(streamTree+5))
	f.Add([]byte{}, uint16(1024), uint32(0))
	f.Fuzz(func(t *testing.T, seed []byte, piece uint16, size uint32) {
		size %= 4 * streamTree
		data := make([]byte, size)
		for i := range data {
			if len(seed) > 0 {
				data[i] = seed[i%len(seed)] + byte(i/len(seed))
			}
		}
		want := blake3.Sum256(data)
		h := newStreamHasher()
		writeInPieces(h, data, func() int { return int(piece) })
		if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("%d bytes in pieces of %d: digest %x, want %x", size, piece, got, want)
		}
	})
}
