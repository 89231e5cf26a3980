package shard

import (
	"bytes"
	"errors"
	"testing"
)

// TestStripedRoundTrip seals elements of sizes around the stripe edges and
// opens them from every set of k shards, whole and streamed with a skip.
func TestStripedRoundTrip(t *testing.T) {
	const seg = 1000
	for _, size := range []int{0, 1, seg - 1, seg, seg + 1, 3*seg + 7} {
		plain := randomBytes(t, size)
		e, err := EncodeStriped(plain, 3, 5, seg)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := NewLayout(size, 3, 5, seg)
		if e.Size != l.EncSize() || ShardLen(e.Size, e.K) != l.ShardLen() || len(e.Shards[0]) != l.ShardLen() {
			t.Fatalf("size %d: EncSize %d, shard length %d, layout %+v", size, e.Size, len(e.Shards[0]), l)
		}
		for i, s := range e.Shards {
			if !CheckCID(e.CIDs[i], s) {
				t.Fatalf("size %d: shard %d does not match its CID", size, i)
			}
		}
		for drop1 := range 5 {
			for drop2 := drop1 + 1; drop2 < 5; drop2++ {
				shards := append([][]byte(nil), e.Shards...)
				shards[drop1], shards[drop2] = nil, nil
				var out bytes.Buffer
				if err := DecodeStripedTo(&out, e.Key, l, shards, 0); err != nil || !bytes.Equal(out.Bytes(), plain) {
					t.Fatalf("size %d without shards %d, %d: %v", size, drop1, drop2, err)
				}
			}
		}
		skip := size / 2
		var out bytes.Buffer
		if err := DecodeStripedTo(&out, e.Key, l, e.Shards, skip); err != nil || !bytes.Equal(out.Bytes(), plain[skip:]) {
			t.Fatalf("size %d skipping %d: %v (%d bytes)", size, skip, err, out.Len())
		}
		// Whole shards rebuild like any others (repair knows no layout).
		missing := append([][]byte(nil), e.Shards...)
		missing[0], missing[4] = nil, nil
		all, err := Rebuild(e.Size, e.K, e.N, missing)
		if err != nil {
			t.Fatal(err)
		}
		for i := range all {
			if !bytes.Equal(all[i], e.Shards[i]) {
				t.Fatalf("size %d: rebuilt shard %d differs", size, i)
			}
		}
	}
}

// TestStripedTamper: an altered chunk, stripes swapped or the last stripe
// cut off fail authentication; nothing of the bad stripe is released.
func TestStripedTamper(t *testing.T) {
	const seg = 512
	plain := randomBytes(t, 3*seg)
	e, err := EncodeStriped(plain, 2, 3, seg)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := NewLayout(len(plain), 2, 3, seg)
	bad := append([][]byte(nil), e.Shards...)
	bad[0] = bytes.Clone(bad[0])
	bad[0][l.Offset(1)+3] ^= 1
	bad[2] = nil
	var out bytes.Buffer
	if err := DecodeStripedTo(&out, e.Key, l, bad, 0); !errors.Is(err, ErrCorrupt) || out.Len() != seg {
		t.Fatalf("altered stripe 1: %v after %d bytes, want ErrCorrupt after %d", err, out.Len(), seg)
	}
	// Stripe 1's chunks in stripe 0's place.
	st, _ := NewStriper(e.Key, l)
	c := l.ChunkLen(0)
	swapped := [][]byte{e.Shards[0][c : 2*c], e.Shards[1][c : 2*c], nil}
	if _, err := st.Open(0, swapped, make([]byte, l.StripeLen())); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("stripe 1 opened as stripe 0: %v", err)
	}
	// A shorter element whose last stripe is a full one of this element.
	short, _ := NewLayout(2*seg, 2, 3, seg)
	st2, _ := NewStriper(e.Key, short)
	if _, err := st2.Open(1, [][]byte{e.Shards[0][c : 2*c], e.Shards[1][c : 2*c], nil}, make([]byte, l.StripeLen())); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a middle stripe opened as the last: %v", err)
	}
}

// TestSealInPlace: stripes sealed in place in their own memory (as a
// SegmentWriter wrote their plaintext) are those Seal makes, no
// plaintext is left once all are sealed, and the shards of their chunks
// open from any k of them; a tampered chunk fails its stripe.
func TestSealInPlace(t *testing.T) {
	const seg = 1000
	for _, n := range []int{1, 5} {
		k := min(3, n)
		for _, size := range []int{1, seg, seg + 1, 2*seg + 5, 3*seg + 7} {
			plain := randomBytes(t, size)
			l, err := NewLayout(size, k, n, seg)
			if err != nil {
				t.Fatal(err)
			}
			var key [32]byte
			key[0] = byte(size)
			st, err := NewStriper(key, l)
			if err != nil {
				t.Fatal(err)
			}
			stripes := make([][]byte, l.Stripes()) // reused memory: old bytes
			for j := range stripes {
				stripes[j] = randomBytes(t, l.StripeLen())
			}
			var whole []int
			sw := l.SegmentWriter(func(j int) ([]byte, error) { return stripes[j], nil },
				func(j int) error { whole = append(whole, j); return nil })
			for rest := plain; len(rest) > 0; { // in writes of changing sizes
				n := min(len(rest), 1+len(rest)%(seg+3))
				if _, err := sw.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if _, err := sw.Write([]byte{0}); err == nil {
				t.Fatal("a byte past the plaintext was taken")
			}
			if err := sw.Close(); err != nil {
				t.Fatal(err)
			}
			short := l.SegmentWriter(func(int) ([]byte, error) { return make([]byte, seg), nil }, func(int) error { return nil })
			if _, err := short.Write(plain[:size-1]); err != nil || short.Close() == nil {
				t.Fatalf("size %d: a plaintext one byte short was closed as whole (%v)", size, err)
			}
			if len(whole) != l.Stripes() {
				t.Fatalf("size %d: segments %v reported whole, want all %d in order", size, whole, l.Stripes())
			}
			want := make([]byte, l.StripeLen())
			shards := make([][]byte, n)
			for i := range shards {
				shards[i] = make([]byte, l.ShardLen())
			}
			for j := range l.Stripes() {
				if whole[j] != j {
					t.Fatalf("size %d: segments reported whole in the order %v", size, whole)
				}
				if err := st.SealStripe(j, stripes[j]); err != nil {
					t.Fatal(err)
				}
				chunks, err := st.Seal(j, plain, want)
				if err != nil {
					t.Fatal(err)
				}
				for i := range chunks {
					got := l.StripeChunk(stripes[j], j, i)
					if !bytes.Equal(got, chunks[i]) {
						t.Fatalf("n %d size %d stripe %d: chunk %d sealed in place differs from Seal's", n, size, j, i)
					}
					copy(shards[i][l.Offset(j):], got)
				}
			}
			for off := 0; off+16 <= size; off += 16 {
				for j := range stripes {
					if bytes.Contains(stripes[j], plain[off:off+16]) {
						t.Fatalf("n %d size %d: plaintext bytes %d.. left in the memory of sealed stripe %d", n, size, off, j)
					}
				}
			}
			for drop := range n {
				in := append([][]byte(nil), shards...)
				if n > k {
					in[drop], in[(drop+2)%n] = nil, nil
				}
				var out bytes.Buffer
				if err := DecodeStripedTo(&out, key, l, in, 0); err != nil || !bytes.Equal(out.Bytes(), plain) {
					t.Fatalf("n %d size %d without shards %d, %d: %v", n, size, drop, (drop+2)%n, err)
				}
			}
			bad := append([][]byte(nil), shards...)
			bad[0] = bytes.Clone(bad[0])
			bad[0][len(bad[0])-1] ^= 1
			var out bytes.Buffer
			if err := DecodeStripedTo(&out, key, l, bad, 0); !errors.Is(err, ErrCorrupt) || out.Len() != l.Segment*(l.Stripes()-1) {
				t.Fatalf("n %d size %d with the last stripe altered: %v after %d bytes, want ErrCorrupt after the stripes before it", n, size, err, out.Len())
			}
		}
	}
}
