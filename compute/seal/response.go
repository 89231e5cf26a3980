package seal

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Response errors.
var (
	// ErrTruncated: the response ended before its final or error record.
	ErrTruncated = errors.New("seal: response ended before the worker's final record: the answer is incomplete")
	// ErrClosed: a record came, or was to be sealed, after the final or error record.
	ErrClosed = errors.New("seal: response already ended with a final or error record")
)

const responseInfo = infoPrefix + " response"

// responseAEAD derives the response key and base nonce from the exported
// secret and the worker's nonce.
func responseAEAD(secret, nonce []byte) (cipher.AEAD, []byte, error) {
	km, err := hkdf.Key(sha256.New, secret, nonce, responseInfo, chacha20poly1305.KeySize+chacha20poly1305.NonceSize)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: derive the response key: %w", err)
	}
	a, err := chacha20poly1305.New(km[:chacha20poly1305.KeySize])
	if err != nil {
		return nil, nil, fmt.Errorf("seal: response cipher: %w", err)
	}
	return a, km[chacha20poly1305.KeySize:], nil
}

// recordNonce is base XOR the big-endian sequence number (RFC 9180 style).
func recordNonce(base []byte, seq uint64) []byte {
	n := append([]byte(nil), base...)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	for i := range s {
		n[len(n)-8+i] ^= s[i]
	}
	return n
}

// recordAAD is the record header followed by the sequence number.
func recordAAD(r *Record, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(r.header(), seq)
}

// ResponseSealer seals a worker's response records. It is not safe for
// concurrent use.
type ResponseSealer struct {
	aead  cipher.AEAD
	base  []byte
	nonce []byte // sent in the first record
	seq   uint64
	done  bool
}

func newResponseSealer(secret []byte) (*ResponseSealer, error) {
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: response nonce: %w", err)
	}
	a, base, err := responseAEAD(secret, nonce)
	if err != nil {
		return nil, err
	}
	return &ResponseSealer{aead: a, base: base, nonce: nonce}, nil
}

func (rs *ResponseSealer) seal(kind RecordKind, payload []byte) ([]byte, error) {
	if rs.done {
		return nil, ErrClosed
	}
	r := &Record{Kind: kind}
	if rs.seq == 0 {
		r.Nonce = rs.nonce
	}
	r.Ciphertext = rs.aead.Seal(nil, recordNonce(rs.base, rs.seq), payload, recordAAD(r, rs.seq))
	rs.seq++
	if kind != RecordData {
		rs.done = true
	}
	return r.Marshal(), nil
}

// Seal returns the record for one chunk of the answer (at most
// MaxChunkSize bytes).
func (rs *ResponseSealer) Seal(chunk []byte) ([]byte, error) {
	if len(chunk) > MaxChunkSize {
		return nil, fmt.Errorf("seal: response chunk is %d bytes, over the limit of %d", len(chunk), MaxChunkSize)
	}
	return rs.seal(RecordData, chunk)
}

// Final returns the record that ends a complete answer, carrying trailer
// (at most MaxTrailerSize bytes; may be empty). Nothing can be sealed after it.
func (rs *ResponseSealer) Final(trailer []byte) ([]byte, error) {
	if len(trailer) > MaxTrailerSize {
		return nil, fmt.Errorf("seal: response trailer is %d bytes, over the limit of %d", len(trailer), MaxTrailerSize)
	}
	return rs.seal(RecordFinal, trailer)
}

// Error returns the record that ends a failed answer with msg (cut to
// MaxErrorSize bytes). Nothing can be sealed after it.
func (rs *ResponseSealer) Error(msg string) ([]byte, error) {
	if len(msg) > MaxErrorSize {
		msg = strings.ToValidUTF8(msg[:MaxErrorSize], "")
	}
	return rs.seal(RecordError, []byte(msg))
}

// ResponseOpener opens the worker's response records on the client. It is
// not safe for concurrent use.
type ResponseOpener struct {
	secret []byte
	aead   cipher.AEAD
	base   []byte
	seq    uint64
	done   bool
	err    error // sticky: set when a record failed to open
}

// Open decodes and decrypts the next record. It returns the record's kind
// and payload: a chunk (RecordData), the trailer (RecordFinal) or the
// worker's error message (RecordError). It fails on a record out of order,
// changed, from another response, or after the end (ErrClosed); after a
// failure every later call fails too.
func (ro *ResponseOpener) Open(record []byte) (kind RecordKind, payload []byte, err error) {
	if ro.err != nil {
		return 0, nil, ro.err
	}
	if ro.done {
		return 0, nil, ErrClosed
	}
	kind, payload, err = ro.open(record)
	if err != nil {
		ro.err = err
		return 0, nil, err
	}
	return kind, payload, nil
}

func (ro *ResponseOpener) open(record []byte) (RecordKind, []byte, error) {
	r, err := UnmarshalRecord(record)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case ro.seq == 0 && r.Nonce == nil:
		return 0, nil, errors.New("seal: first response record carries no worker nonce")
	case ro.seq > 0 && r.Nonce != nil:
		return 0, nil, fmt.Errorf("seal: response record %d carries a worker nonce; only the first may", ro.seq)
	}
	if ro.seq == 0 {
		a, base, err := responseAEAD(ro.secret, r.Nonce)
		if err != nil {
			return 0, nil, err
		}
		ro.aead, ro.base = a, base
	}
	payload, err := ro.aead.Open(nil, recordNonce(ro.base, ro.seq), r.Ciphertext, recordAAD(r, ro.seq))
	if err != nil {
		return 0, nil, fmt.Errorf("seal: response record %d does not open: it is out of order, changed, or from another response", ro.seq)
	}
	if err := checkPayloadSize(r.Kind, len(payload)); err != nil {
		return 0, nil, err
	}
	ro.seq++
	if r.Kind != RecordData {
		ro.done = true
	}
	return r.Kind, payload, nil
}

func checkPayloadSize(kind RecordKind, n int) error {
	switch {
	case kind == RecordFinal && n > MaxTrailerSize:
		return fmt.Errorf("seal: response trailer is %d bytes, over the limit of %d", n, MaxTrailerSize)
	case kind == RecordError && n > MaxErrorSize:
		return fmt.Errorf("seal: response error message is %d bytes, over the limit of %d", n, MaxErrorSize)
	}
	return nil
}

// Done reports whether the final or error record has been opened.
func (ro *ResponseOpener) Done() bool { return ro.done }

// Finish is called when the response stream ends. It returns ErrTruncated
// if the final or error record never came, the earlier failure if a record
// failed to open, and nil otherwise.
func (ro *ResponseOpener) Finish() error {
	if ro.err != nil {
		return ro.err
	}
	if !ro.done {
		return ErrTruncated
	}
	return nil
}
