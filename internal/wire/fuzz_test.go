package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReader drives a Reader over data with a sequence of reads chosen by
// ops. It must never panic, and whatever it accepts must re-encode, field by
// field with the canonical writers, to exactly the bytes it consumed.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0xac, 0x02})
	f.Add([]byte{4, 3, 5, 9}, append([]byte("abc"), 3, 'x', 'y', 'z'))
	f.Add([]byte{3}, []byte{0x81, 0x00})                    // non-minimal varint
	f.Add([]byte{3}, bytes.Repeat([]byte{0xff}, 11))        // overflowing varint
	f.Add([]byte{5, 2}, []byte{5, 'a', 'b', 'c', 'd', 'e'}) // over the limit
	f.Add([]byte{0, 0}, []byte{1, 2, 3})                    // trailing bytes
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		r := NewReader(data)
		var out []byte
		for i := 0; i < len(ops); i++ {
			switch ops[i] % 6 {
			case 0:
				v := r.Byte("byte")
				if r.Err() == nil {
					out = append(out, v)
				}
			case 1:
				v := r.Uint32("uint32")
				if r.Err() == nil {
					out = binary.BigEndian.AppendUint32(out, v)
				}
			case 2:
				v := r.Uint64("uint64")
				if r.Err() == nil {
					out = binary.BigEndian.AppendUint64(out, v)
				}
			case 3:
				v := r.Uvarint("uvarint")
				if r.Err() == nil {
					out = binary.AppendUvarint(out, v)
				}
			case 4:
				n := 0
				if i+1 < len(ops) {
					i++
					n = int(ops[i]) - 8 // negative sizes too
				}
				v := r.Fixed("fixed", n)
				if r.Err() == nil {
					if len(v) != n || cap(v) != n {
						t.Fatalf("Fixed(%d) returned len %d cap %d", n, len(v), cap(v))
					}
					out = append(out, v...)
				}
			case 5:
				max := 0
				if i+1 < len(ops) {
					i++
					max = int(ops[i])
				}
				v := r.LenPrefixed("lenPrefixed", max)
				if r.Err() == nil {
					if len(v) > max {
						t.Fatalf("LenPrefixed returned %d bytes over the limit of %d", len(v), max)
					}
					out = AppendLenPrefixed(out, v)
				}
			}
		}
		consumed := len(data) - len(r.Rest())
		if r.Err() != nil {
			if r.Finish() != r.Err() {
				t.Fatal("Finish did not return the sticky error")
			}
			return
		}
		if !bytes.Equal(out, data[:consumed]) {
			t.Fatalf("accepted prefix %x re-encodes to %x", data[:consumed], out)
		}
		if err := r.Finish(); (err == nil) != (consumed == len(data)) {
			t.Fatalf("Finish() = %v with %d of %d bytes consumed", err, consumed, len(data))
		}
	})
}
