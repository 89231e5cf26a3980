package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestReadAllKinds(t *testing.T) {
	var in []byte
	in = append(in, 7)
	in = binary.BigEndian.AppendUint32(in, 0xdeadbeef)
	in = binary.BigEndian.AppendUint64(in, 1<<40+3)
	in = binary.AppendUvarint(in, 300)
	in = append(in, "abc"...)
	in = AppendLenPrefixed(in, []byte("hello"))
	in = AppendLenPrefixed(in, nil)

	r := NewReader(in)
	if got := r.Byte("b"); got != 7 {
		t.Fatalf("Byte = %d, want 7", got)
	}
	if got := r.Uint32("u32"); got != 0xdeadbeef {
		t.Fatalf("Uint32 = %#x", got)
	}
	if got := r.Uint64("u64"); got != 1<<40+3 {
		t.Fatalf("Uint64 = %d", got)
	}
	if got := r.Uvarint("v"); got != 300 {
		t.Fatalf("Uvarint = %d, want 300", got)
	}
	if got := r.Fixed("f", 3); string(got) != "abc" || cap(got) != 3 {
		t.Fatalf("Fixed = %q (cap %d), want \"abc\" with cap 3", got, cap(got))
	}
	if got := r.LenPrefixed("lp", 5); string(got) != "hello" {
		t.Fatalf("LenPrefixed = %q", got)
	}
	if got := r.LenPrefixed("empty", 0); got == nil || len(got) != 0 {
		t.Fatalf("empty LenPrefixed = %#v, want a non-nil empty slice", got)
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestReadErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		read   func(r *Reader)
		want   string
		isTrun bool
	}{
		{"byte truncated", nil, func(r *Reader) { r.Byte("version") }, "version: input is truncated", true},
		{"uint32 truncated", []byte{1, 2, 3}, func(r *Reader) { r.Uint32("ttl") }, "ttl: input is truncated", true},
		{"uint64 truncated", make([]byte, 7), func(r *Reader) { r.Uint64("seq") }, "seq: input is truncated", true},
		{"varint truncated", []byte{0x80}, func(r *Reader) { r.Uvarint("count") }, "count: input is truncated", true},
		{"varint non-minimal", []byte{0x81, 0x00}, func(r *Reader) { r.Uvarint("count") }, "count: varint is not minimally encoded", false},
		{"varint zero non-minimal", []byte{0x80, 0x00}, func(r *Reader) { r.Uvarint("count") }, "count: varint is not minimally encoded", false},
		{"varint overflow", append(bytes.Repeat([]byte{0xff}, 9), 0x02), func(r *Reader) { r.Uvarint("count") }, "count: varint overflows 64 bits", false},
		{"fixed truncated", []byte{1}, func(r *Reader) { r.Fixed("sig", 2) }, "sig: input is truncated", true},
		{"fixed negative", []byte{1}, func(r *Reader) { r.Fixed("sig", -1) }, "sig: input is truncated", true},
		{"prefix over max", []byte{6, 'a', 'b', 'c', 'd', 'e', 'f'}, func(r *Reader) { r.LenPrefixed("key", 5) }, "key: length 6 exceeds the limit of 5 bytes", false},
		{"prefix data truncated", []byte{3, 'a'}, func(r *Reader) { r.LenPrefixed("key", 5) }, "key: input is truncated", true},
		{"prefix length bad", []byte{0x83, 0x00}, func(r *Reader) { r.LenPrefixed("key", 5) }, "key length: varint is not minimally encoded", false},
		{"trailing", []byte{1, 2, 3}, func(r *Reader) { r.Byte("b") }, "2 trailing bytes after the last field", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(c.in)
			c.read(r)
			err := r.Finish()
			if err == nil || err.Error() != c.want {
				t.Fatalf("Finish() = %v, want %q", err, c.want)
			}
			if got := errors.Is(err, ErrTruncated); got != c.isTrun {
				t.Fatalf("errors.Is(err, ErrTruncated) = %v, want %v", got, c.isTrun)
			}
		})
	}
}

func TestFirstErrorSticks(t *testing.T) {
	r := NewReader([]byte{0x80, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	r.Uvarint("first")
	first := r.Err()
	if first == nil || !strings.HasPrefix(first.Error(), "first: ") {
		t.Fatalf("Err() = %v, want an error naming \"first\"", first)
	}
	if r.Byte("b") != 0 || r.Uint32("u") != 0 || r.Uint64("q") != 0 || r.Uvarint("v") != 0 ||
		r.Fixed("f", 1) != nil || r.LenPrefixed("l", 10) != nil {
		t.Fatal("a read after an error returned a non-zero value")
	}
	r.Fail(errors.New("second"))
	if r.Err() != first || r.Finish() != first {
		t.Fatalf("error after more reads = %v, want the first %v", r.Err(), first)
	}
	if len(r.Rest()) != 11 {
		t.Fatalf("failed reads consumed input: %d bytes left, want 11", len(r.Rest()))
	}
}

func TestFailAndRest(t *testing.T) {
	r := NewReader([]byte{1, 2, 3})
	r.Byte("b")
	if !bytes.Equal(r.Rest(), []byte{2, 3}) {
		t.Fatalf("Rest() = %v, want [2 3]", r.Rest())
	}
	mine := errors.New("field b: not allowed")
	r.Fail(mine)
	if r.Byte("c") != 0 || r.Finish() != mine {
		t.Fatalf("Fail did not stop reading: Finish() = %v", r.Finish())
	}
	var zero Reader
	if err := zero.Finish(); err != nil {
		t.Fatalf("zero Reader Finish() = %v, want nil", err)
	}
}

func TestLenPrefixedMaxIsCheckedBeforeData(t *testing.T) {
	// A huge declared length with no data behind it must fail on the limit,
	// not on truncation, and must not need the data to exist.
	in := binary.AppendUvarint(nil, 1<<62)
	r := NewReader(in)
	if r.LenPrefixed("value", 1024) != nil {
		t.Fatal("oversized field returned data")
	}
	if err := r.Err(); err == nil || errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "exceeds the limit of 1024") {
		t.Fatalf("Err() = %v, want the limit error", err)
	}
}

func TestParseUvarintCanonical(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<32 - 1, 1<<63 + 5, ^uint64(0)} {
		enc := binary.AppendUvarint(nil, v)
		got, n, err := ParseUvarint(append(enc, 0xaa))
		if err != nil || got != v || n != len(enc) {
			t.Fatalf("ParseUvarint(%x) = %d, %d, %v; want %d, %d, nil", enc, got, n, err, v, len(enc))
		}
		// Every longer spelling of the same value must be refused.
		long := append(bytes.Clone(enc), 0)
		long[len(enc)-1] |= 0x80
		if len(long) <= binary.MaxVarintLen64 {
			if _, _, err := ParseUvarint(long); err == nil {
				t.Fatalf("non-minimal %x of %d accepted", long, v)
			}
		}
	}
	if _, _, err := ParseUvarint(nil); !errors.Is(err, ErrTruncated) {
		t.Fatalf("ParseUvarint(nil) error = %v, want ErrTruncated", err)
	}
}

func TestAppendLenPrefixed(t *testing.T) {
	field := bytes.Repeat([]byte{'x'}, 200)
	got := AppendLenPrefixed([]byte{9}, field)
	want := append([]byte{9, 0xc8, 0x01}, field...)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendLenPrefixed = %x, want %x", got[:4], want[:4])
	}
	if got := AppendLenPrefixed(nil, nil); !bytes.Equal(got, []byte{0}) {
		t.Fatalf("AppendLenPrefixed(nil, nil) = %x, want 00", got)
	}
}
