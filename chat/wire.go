package chat

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// maxPeerIDLen bounds an encoded peer ID (an Ed25519 identity multihash is
// 38 bytes; a sha256 multihash 34).
const maxPeerIDLen = 64

var errTruncated = errors.New("input is truncated")

// reader strictly decodes chat's binary layouts: minimal varints, every
// length checked against the remaining input before anything is allocated,
// the first error sticks and later calls return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) byte(what string) byte {
	v := r.fixed(what, 1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) uint32(what string) uint32 {
	v := r.fixed(what, 4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (r *reader) uint64(what string) uint64 {
	v := r.fixed(what, 8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return 0
	case n < 0:
		r.fail(fmt.Errorf("%s: varint overflows 64 bits", what))
		return 0
	case n > 1 && r.b[n-1] == 0:
		r.fail(fmt.Errorf("%s: varint is not minimally encoded", what))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// fixed returns the next n bytes without copying.
func (r *reader) fixed(what string, n int) []byte {
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
// lengths over max before looking at the data.
func (r *reader) lenPrefixed(what string, max int) []byte {
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

// peerID reads a length-prefixed peer ID and checks that it parses.
func (r *reader) peerID(what string) peer.ID {
	raw := r.lenPrefixed(what, maxPeerIDLen)
	if r.err != nil {
		return ""
	}
	id, err := peer.IDFromBytes(raw)
	if err != nil {
		r.fail(fmt.Errorf("%s: not a peer ID: %w", what, err))
		return ""
	}
	return id
}

// finish reports the first error, or an error if input is left over.
func (r *reader) finish() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes after the last field", len(r.b))
	}
	return nil
}

func appendLenPrefixed(dst, field []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(field)))
	return append(dst, field...)
}
