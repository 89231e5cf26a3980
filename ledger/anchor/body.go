package anchor

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Op is the first 32 bits of an anchor message body: "anch".
const Op uint32 = 0x616e6368

// Body is what an anchor message commits to.
type Body struct {
	FromSeq uint64 // exclusive
	ToSeq   uint64 // inclusive
	Root    []byte // Merkle root of the hashes of records (FromSeq, ToSeq]
	Head    []byte // hash of record ToSeq
}

// Cell builds the message body.
func (b *Body) Cell() (*cell.Cell, error) {
	if len(b.Root) != journal.HashSize || len(b.Head) != journal.HashSize {
		return nil, fmt.Errorf("anchor: body needs a %d-byte root and head hash, got %d and %d", journal.HashSize, len(b.Root), len(b.Head))
	}
	if b.ToSeq <= b.FromSeq {
		return nil, fmt.Errorf("anchor: body covers no records: (%d, %d]", b.FromSeq, b.ToSeq)
	}
	return cell.BeginCell().
		MustStoreUInt(uint64(Op), 32).
		MustStoreUInt(b.FromSeq, 64).
		MustStoreUInt(b.ToSeq, 64).
		MustStoreSlice(b.Root, 256).
		MustStoreSlice(b.Head, 256).
		EndCell(), nil
}

// ErrNotAnchorBody is returned by ParseBody for a cell that does not start
// with Op.
var ErrNotAnchorBody = errors.New("anchor: not an anchor message body")

// ParseBody reads an anchor body from a message body cell. It refuses
// cells with the wrong op (ErrNotAnchorBody), short or over-long cells,
// references, and empty ranges.
func ParseBody(c *cell.Cell) (*Body, error) {
	if c == nil {
		return nil, ErrNotAnchorBody
	}
	s, err := c.BeginParse()
	if err != nil {
		return nil, ErrNotAnchorBody
	}
	op, err := s.LoadUInt(32)
	if err != nil || uint32(op) != Op {
		return nil, ErrNotAnchorBody
	}
	if s.BitsLeft() != 64+64+256+256 || s.RefsNum() != 0 {
		return nil, fmt.Errorf("anchor: body has %d bits and %d refs after the op, want 640 and 0", s.BitsLeft(), s.RefsNum())
	}
	b := &Body{}
	b.FromSeq = s.MustLoadUInt(64)
	b.ToSeq = s.MustLoadUInt(64)
	b.Root = s.MustLoadSlice(256)
	b.Head = s.MustLoadSlice(256)
	if b.ToSeq <= b.FromSeq {
		return nil, fmt.Errorf("anchor: body covers no records: (%d, %d]", b.FromSeq, b.ToSeq)
	}
	return b, nil
}

// Equal reports whether two bodies commit to the same thing.
func (b *Body) Equal(o *Body) bool {
	return b.FromSeq == o.FromSeq && b.ToSeq == o.ToSeq && bytes.Equal(b.Root, o.Root) && bytes.Equal(b.Head, o.Head)
}
