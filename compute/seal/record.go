package seal

import (
	"fmt"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// RecordKind says what a response record carries.
type RecordKind byte

// The record kinds.
const (
	// RecordData carries one chunk of the answer (an SSE event's data).
	RecordData RecordKind = 1
	// RecordFinal ends a complete answer; its payload is a small trailer
	// (for example the worker's usage receipt) or empty.
	RecordFinal RecordKind = 2
	// RecordError ends an answer that failed; its payload is the message.
	RecordError RecordKind = 3
)

func (k RecordKind) String() string {
	switch k {
	case RecordData:
		return "data"
	case RecordFinal:
		return "final"
	case RecordError:
		return "error"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Record limits.
const (
	// MaxRecordSize bounds an encoded record.
	MaxRecordSize = 1 << 20
	// MaxChunkSize bounds a data record's payload.
	MaxChunkSize = MaxRecordSize - recordOverhead
	// MaxTrailerSize bounds a final record's payload.
	MaxTrailerSize = 64 << 10
	// MaxErrorSize bounds an error record's message; longer ones are cut.
	MaxErrorSize = 4 << 10

	// NonceSize is the size of the worker's response nonce.
	NonceSize = 32

	flagFirst = 0x01
	// recordOverhead is the largest header plus the tag.
	recordOverhead = 2 + NonceSize + tagSize
)

// Record is one response record as it travels: a header in clear (kind,
// and in the first record the worker's nonce) and the sealed payload.
type Record struct {
	Kind RecordKind
	// Nonce is the worker's response nonce, present in the first record
	// only (NonceSize bytes), nil in the others.
	Nonce      []byte
	Ciphertext []byte
}

// header returns the record's encoded header: kind, flags, nonce.
func (r *Record) header() []byte {
	h := make([]byte, 2, 2+len(r.Nonce))
	h[0] = byte(r.Kind)
	if r.Nonce != nil {
		h[1] = flagFirst
		h = append(h, r.Nonce...)
	}
	return h
}

// Marshal encodes r: kind byte, flags byte (bit 0: the nonce follows), the
// nonce when flagged, then the ciphertext to the end.
func (r *Record) Marshal() []byte {
	return append(r.header(), r.Ciphertext...)
}

// UnmarshalRecord decodes a record written by Marshal. It refuses input
// over MaxRecordSize, unknown kinds and flags, and a ciphertext shorter
// than the tag. The result does not alias b.
func UnmarshalRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("seal: response record is %d bytes, over the limit of %d", len(b), MaxRecordSize)
	}
	rd := wire.NewReader(b)
	var r Record
	r.Kind = RecordKind(rd.Byte("record kind"))
	flags := rd.Byte("record flags")
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("seal: response record does not decode: %w", err)
	}
	switch r.Kind {
	case RecordData, RecordFinal, RecordError:
	default:
		return nil, fmt.Errorf("seal: response record has unknown kind %d", byte(r.Kind))
	}
	if flags&^flagFirst != 0 {
		return nil, fmt.Errorf("seal: response record has unknown flags %#x", flags)
	}
	if flags&flagFirst != 0 {
		r.Nonce = clone(rd.Fixed("record nonce", NonceSize))
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("seal: response record does not decode: %w", err)
	}
	rest := rd.Rest()
	if len(rest) < tagSize {
		return nil, fmt.Errorf("seal: response record ciphertext is %d bytes, shorter than the %d-byte tag", len(rest), tagSize)
	}
	r.Ciphertext = clone(rest)
	return &r, nil
}
