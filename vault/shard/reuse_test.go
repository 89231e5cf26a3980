package shard

import (
	"bytes"
	"errors"
	"testing"
)

// TestEncodeIntoReusedBuffer: shards made in a dirty, reused buffer are
// those Encode would make (they decode, the padding is zero, the CIDs
// match), no plaintext is left in it, and a failing fill leaves none
// either.
func TestEncodeIntoReusedBuffer(t *testing.T) {
	mem := bytes.Repeat([]byte{0xAA}, 1<<20)
	for _, size := range []int{0, 1, 1000, 100_003, 300_000} {
		plain := randomBytes(t, size)
		e, buf, err := EncodeInto(mem, size, 4, 6, func(dst []byte) error {
			if len(dst) != size {
				t.Fatalf("fill got %d bytes of room, want %d", len(dst), size)
			}
			copy(dst, plain)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if size+28 <= 4*(len(mem)/6) && &buf[0] != &mem[0] {
			t.Fatalf("size %d: the buffer given was not used", size)
		}
		if size >= 64 && bytes.Contains(buf, plain[:64]) {
			t.Fatalf("size %d: plaintext left in the buffer", size)
		}
		per := ShardLen(e.Size, 4)
		if pad := buf[e.Size : 4*per]; !bytes.Equal(pad, make([]byte, len(pad))) {
			t.Fatalf("size %d: padding is not zero", size)
		}
		for i, s := range e.Shards {
			if !CheckCID(e.CIDs[i], s) {
				t.Fatalf("size %d: shard %d does not match its CID", size, i)
			}
		}
		other := bytes.Repeat([]byte{0x55}, len(mem)) // dirty, as a released read buffer is not
		b, err := NewBufferIn(other[:0], e.Size, 4, 6)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 2, 4, 5} { // data shards 1 and 3 rebuilt
			copy(b.Slot(i), e.Shards[i])
			b.Mark(i)
		}
		got, err := Decode(e.Key, e.Size, 4, 6, e.Shards)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: Decode: %v", size, err)
		}
		if size+28 <= len(other) && &b.Slot(0)[0] != &other[0] {
			t.Fatalf("size %d: NewBufferIn did not use the memory given", size)
		}
		if got, err = b.Decode(e.Key); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: Buffer.Decode: %v", size, err)
		}
		if r := b.Release(); !bytes.Equal(r, make([]byte, len(r))) {
			t.Fatalf("size %d: Release left bytes in the buffer", size)
		}
		mem = buf[:cap(buf)]
	}
	boom := errors.New("boom")
	_, buf, err := EncodeInto(mem, 5000, 4, 6, func(dst []byte) error {
		copy(dst, bytes.Repeat([]byte("secret"), 800))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failing fill: %v", err)
	}
	if bytes.Contains(buf, []byte("secretsecret")) {
		t.Fatal("a failing fill left plaintext in the buffer")
	}
}
