package p2p

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// wireReader decodes the fixed binary layouts used by records and gossip
// envelopes. It is strict: varints must be minimal, every length is checked
// against the remaining input before anything is allocated, and the first
// error sticks (later calls return zero values).
type wireReader struct {
	b   []byte
	err error
}

var errTruncated = errors.New("input is truncated")

func (r *wireReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *wireReader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *wireReader) uint64(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *wireReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := parseUvarint(r.b)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// fixed returns the next n bytes without copying.
func (r *wireReader) fixed(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// lenPrefixed returns the next uvarint-length-prefixed field, refusing
// lengths above max before looking at the data.
func (r *wireReader) lenPrefixed(what string, max int) []byte {
	n := r.uvarint(what + " length")
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.fail(fmt.Errorf("%s: length %d exceeds the limit of %d bytes", what, n, max))
		return nil
	}
	return r.fixed(what, int(n))
}

// finish reports the first error, or an error if input is left over.
func (r *wireReader) finish() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes after the last field", len(r.b))
	}
	return nil
}

// parseUvarint decodes a minimal (canonical) unsigned varint.
func parseUvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, 0, errTruncated
	case n < 0:
		return 0, 0, errors.New("varint overflows 64 bits")
	case n > 1 && b[n-1] == 0:
		return 0, 0, errors.New("varint is not minimally encoded")
	}
	return v, n, nil
}

func appendLenPrefixed(dst, field []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(field)))
	return append(dst, field...)
}
