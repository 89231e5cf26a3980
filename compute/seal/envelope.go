package seal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Wire limits.
const (
	// MaxEnvelopeSize bounds an encoded envelope (and so a request body).
	MaxEnvelopeSize = 4 << 20
	// MaxMetaField bounds each string field of Meta.
	MaxMetaField = 256

	envelopeVersion = 1
	metaVersion     = 1
	// encSize is the size of the HPKE encapsulated key (X25519).
	encSize = 32
	// tagSize is the AEAD tag size (ChaCha20-Poly1305).
	tagSize = 16
)

// Meta is what a proxy sees of a request: enough to route it, nothing of
// its content. It is bound to the ciphertext (HPKE info and associated
// data), so changing it makes the envelope fail to open.
type Meta struct {
	Model     string // model the client asked for
	Worker    string // peer ID of the worker the request is sealed to
	RequestID string // unique per request, chosen by the client
	KeyExpiry int64  // unix seconds after which the worker's key is not used
	Stream    bool   // the client wants a streamed answer
}

// Marshal returns the canonical encoding of m: a version byte, Model,
// Worker and RequestID each as a uvarint length and bytes, KeyExpiry as a
// big-endian 64-bit two's complement integer, and Stream as one byte (0 or
// 1). Equal Metas encode to equal bytes and different ones to different
// bytes.
func (m Meta) Marshal() []byte {
	b := make([]byte, 0, 1+3*2+len(m.Model)+len(m.Worker)+len(m.RequestID)+8+1)
	b = append(b, metaVersion)
	b = wire.AppendLenPrefixed(b, []byte(m.Model))
	b = wire.AppendLenPrefixed(b, []byte(m.Worker))
	b = wire.AppendLenPrefixed(b, []byte(m.RequestID))
	b = binary.BigEndian.AppendUint64(b, uint64(m.KeyExpiry))
	if m.Stream {
		return append(b, 1)
	}
	return append(b, 0)
}

// Validate checks that m can be sealed: the routing fields are present and
// within MaxMetaField bytes, and KeyExpiry is set.
func (m Meta) Validate() error {
	for _, f := range []struct{ name, v string }{{"model", m.Model}, {"worker", m.Worker}, {"request ID", m.RequestID}} {
		if f.v == "" {
			return fmt.Errorf("seal: meta: %s is empty: every request names its model, worker and request ID", f.name)
		}
		if len(f.v) > MaxMetaField {
			return fmt.Errorf("seal: meta: %s is %d bytes, over the limit of %d", f.name, len(f.v), MaxMetaField)
		}
	}
	if m.KeyExpiry <= 0 {
		return errors.New("seal: meta: key expiry is not set: copy it from the worker's offer")
	}
	return nil
}

// readMeta decodes a Meta written by Marshal from rd.
func readMeta(rd *wire.Reader) Meta {
	var m Meta
	if v := rd.Byte("meta version"); rd.Err() == nil && v != metaVersion {
		rd.Fail(fmt.Errorf("meta version %d is not supported (want %d)", v, metaVersion))
	}
	m.Model = string(rd.LenPrefixed("meta model", MaxMetaField))
	m.Worker = string(rd.LenPrefixed("meta worker", MaxMetaField))
	m.RequestID = string(rd.LenPrefixed("meta request ID", MaxMetaField))
	m.KeyExpiry = int64(rd.Uint64("meta key expiry"))
	switch s := rd.Byte("meta stream flag"); {
	case rd.Err() != nil:
	case s > 1:
		rd.Fail(fmt.Errorf("meta stream flag is %d, want 0 or 1", s))
	default:
		m.Stream = s == 1
	}
	if rd.Err() == nil {
		if err := m.Validate(); err != nil {
			rd.Fail(err)
		}
	}
	return m
}

// Envelope is a sealed request: metadata in clear, body encrypted to the
// worker.
type Envelope struct {
	Meta       Meta
	Enc        []byte // HPKE encapsulated key
	Ciphertext []byte // the sealed OpenAI JSON body
}

// Marshal encodes e: a version byte, the encoded Meta (length-prefixed),
// Enc and Ciphertext (each length-prefixed).
func (e *Envelope) Marshal() []byte {
	meta := e.Meta.Marshal()
	b := make([]byte, 0, 1+len(meta)+len(e.Enc)+len(e.Ciphertext)+3*binary.MaxVarintLen64)
	b = append(b, envelopeVersion)
	b = wire.AppendLenPrefixed(b, meta)
	b = wire.AppendLenPrefixed(b, e.Enc)
	return wire.AppendLenPrefixed(b, e.Ciphertext)
}

// UnmarshalEnvelope decodes an envelope written by Marshal. It refuses
// input over MaxEnvelopeSize, an unknown version, invalid metadata, an
// encapsulated key of the wrong size, a ciphertext too short to hold a tag,
// non-canonical lengths and trailing bytes. The result does not alias b.
func UnmarshalEnvelope(b []byte) (*Envelope, error) {
	if len(b) > MaxEnvelopeSize {
		return nil, fmt.Errorf("seal: envelope is %d bytes, over the limit of %d", len(b), MaxEnvelopeSize)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("envelope version"); rd.Err() == nil && v != envelopeVersion {
		return nil, fmt.Errorf("seal: envelope version %d is not supported (want %d): update tonmesh", v, envelopeVersion)
	}
	metaRaw := rd.LenPrefixed("envelope meta", 8*MaxMetaField)
	var e Envelope
	if rd.Err() == nil {
		mr := wire.NewReader(metaRaw)
		e.Meta = readMeta(mr)
		if err := mr.Finish(); err != nil {
			rd.Fail(err)
		}
	}
	e.Enc = clone(rd.LenPrefixed("envelope enc", encSize))
	e.Ciphertext = clone(rd.LenPrefixed("envelope ciphertext", MaxEnvelopeSize))
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("seal: envelope does not decode: %w", err)
	}
	if len(e.Enc) != encSize {
		return nil, fmt.Errorf("seal: envelope enc is %d bytes, want %d", len(e.Enc), encSize)
	}
	if len(e.Ciphertext) < tagSize {
		return nil, fmt.Errorf("seal: envelope ciphertext is %d bytes, shorter than the %d-byte tag", len(e.Ciphertext), tagSize)
	}
	return &e, nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
