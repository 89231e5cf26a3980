package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrTruncated is wrapped by every error caused by input ending inside a field.
var ErrTruncated = errors.New("input is truncated")

// Reader decodes fields from a byte slice in order. The zero Reader reads
// from empty input. A Reader is not safe for concurrent use.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader over b. It does not copy b: the slices it
// returns alias b.
func NewReader(b []byte) *Reader {
	return &Reader{b: b}
}

// Err returns the first error met so far, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err as the Reader's error unless one is already recorded.
// Callers use it for checks of their own (a field that decoded but is not
// valid), so that the first failure still wins.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Rest returns the input not yet consumed, without copying.
func (r *Reader) Rest() []byte { return r.b }

// Byte reads one byte.
func (r *Reader) Byte(what string) byte {
	v := r.Fixed(what, 1)
	if v == nil {
		return 0
	}
	return v[0]
}

// Uint32 reads a big-endian uint32.
func (r *Reader) Uint32(what string) uint32 {
	v := r.Fixed(what, 4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// Uint64 reads a big-endian uint64.
func (r *Reader) Uint64(what string) uint64 {
	v := r.Fixed(what, 8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// Uvarint reads a minimally encoded unsigned varint.
func (r *Reader) Uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := ParseUvarint(r.b)
	if err != nil {
		r.Fail(fmt.Errorf("%s: %w", what, err))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Fixed returns the next n bytes without copying. The result's capacity is
// capped at n, so appending to it never overwrites the rest of the input.
func (r *Reader) Fixed(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.Fail(fmt.Errorf("%s: %w", what, ErrTruncated))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// LenPrefixed reads a varint length followed by that many bytes, refusing a
// length above max before looking at the data. The result aliases the input.
func (r *Reader) LenPrefixed(what string, max int) []byte {
	n := r.Uvarint(what + " length")
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.Fail(fmt.Errorf("%s: length %d exceeds the limit of %d bytes", what, n, max))
		return nil
	}
	return r.Fixed(what, int(n))
}

// Finish returns the first error, or an error if input is left over after
// the last field.
func (r *Reader) Finish() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes after the last field", len(r.b))
	}
	return nil
}

// ParseUvarint decodes a minimally encoded unsigned varint from the start of
// b and returns it with the number of bytes it took. Input ending inside the
// varint yields ErrTruncated.
func ParseUvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, 0, ErrTruncated
	case n < 0:
		return 0, 0, errors.New("varint overflows 64 bits")
	case n > 1 && b[n-1] == 0:
		return 0, 0, errors.New("varint is not minimally encoded")
	}
	return v, n, nil
}

// AppendLenPrefixed appends field preceded by its length as a varint: the
// encoding LenPrefixed reads. binary.AppendUvarint and
// binary.BigEndian.AppendUint32/AppendUint64 are the writers for the other
// field kinds; they too produce the one canonical encoding.
func AppendLenPrefixed(dst, field []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(field)))
	return append(dst, field...)
}
