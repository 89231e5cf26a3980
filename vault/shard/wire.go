package shard

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/p2p"
)

// Protocol is the shard stream protocol, /tonmesh/vault/shard/1.0.0.
var Protocol = p2p.ProtocolID("vault", "shard", "1.0.0")

// Sentinel errors, conveyed over the wire as status codes so that the
// client gets the same sentinel back (test with errors.Is).
var (
	// ErrNotFound: the holder does not have the shard (never had it, deleted
	// it, or dropped it because it failed its CID check). Rebuild it.
	ErrNotFound = errors.New("shard not found on the holder")
	// ErrCorrupt: shard bytes do not match their CID (the holder's answer
	// to Get, or the data a client sent to Put).
	ErrCorrupt = errors.New("shard bytes do not match the CID")
	// ErrQuota: storing the shard would exceed the holder's quota.
	ErrQuota = errors.New("holder quota exceeded")
	// ErrTooLarge: the shard is over the holder's size limit.
	ErrTooLarge = errors.New("shard exceeds the holder's size limit")
	// ErrRefused: the holder refused the request for good (malformed, or a
	// delete whose signature or time does not check).
	ErrRefused = errors.New("holder refused the request")
)

// Protocol exchange, version 1. Every message is a p2p frame
// (uvarint length ‖ payload).
//
//	put:       client → header; holder → response (statusContinue, or final);
//	           on continue: client → data frame, closes its write side;
//	           holder → final response (OK carries the signed receipt)
//	putstream: as put, but the header names neither CID nor delete key:
//	           on continue the client streams the data frame as it makes
//	           it, then a trailer frame (the CID of what it sent, a BLAKE3
//	           shard ID, length-prefixed ‖ the delete public key, 32
//	           bytes; the owner derives that key from the CID), closes its
//	           write side; holder → final response (OK: the receipt)
//	get:       client → header; holder → response; on OK: holder → data frame
//	challenge: client → header; holder → response (OK carries the answer)
//	prove:     client → header; holder → response (OK carries the proof)
//	delete:    client → header; holder → response
//
// Request header:
//
//	version 1 byte, = 1
//	op      1 byte: opPut, opGet, opChallenge, opDelete
//	cid     uvarint length, CID bytes (not for putstream)
//	put:       size (uvarint) ‖ delete public key (32 bytes, Ed25519)
//	putstream: size (uvarint)
//	challenge: nonce (32 bytes)
//	prove:     nonce (32 bytes)
//	delete:    time (8 bytes big-endian, unix ms) ‖ signature (64 bytes)
//
// The delete signature is Ed25519 by the shard's delete key over
// deleteMessage(cid, holder, time): deleteTag ‖ cid ‖ holder peer ID ‖ time.
//
// Response: status (1 byte) ‖ reason (uvarint length, UTF-8) ‖ body, where
// the body of a put OK is the receipt (uvarint length, bytes), of a
// challenge OK the 32-byte answer, of a prove OK the proof (proof.go: one
// length-prefixed Bao slice per chosen chunk), and otherwise empty. Prove
// is only for BLAKE3 shards.
const (
	wireVersion = 1
	deleteTag   = "tonmesh/vault/shard/delete/v1"

	opPut       = 1
	opGet       = 2
	opChallenge = 3
	opDelete    = 4
	opProve     = 5
	opPutStream = 6

	// maxHeader bounds a request header frame.
	maxHeader = 1 + 1 + 1 + maxCIDLen + 8 + 8 + ed25519.SignatureSize + ed25519.PublicKeySize
	maxReason = 256
	// maxDeclaredSize bounds the size a put may declare.
	maxDeclaredSize = 1 << 40
	// maxResponse bounds a response frame.
	maxResponse = 1 + 2 + maxReason + 2 + maxReceipt + 32 + maxProof
)

// Response statuses.
const (
	statusOK       = 0
	statusContinue = 1 // put: send the data
	statusNotFound = 2
	statusCorrupt  = 3
	statusQuota    = 4
	statusTooLarge = 5
	statusRefused  = 6
	statusError    = 7 // the holder failed: try again later
)

// statusErrors maps failure statuses to their sentinels.
var statusErrors = map[byte]error{
	statusNotFound: ErrNotFound,
	statusCorrupt:  ErrCorrupt,
	statusQuota:    ErrQuota,
	statusTooLarge: ErrTooLarge,
	statusRefused:  ErrRefused,
}

// request is a decoded request header.
type request struct {
	Op        byte
	CID       cid.Cid
	Size      int               // put
	DeleteKey ed25519.PublicKey // put
	Nonce     [32]byte          // challenge, prove
	At        time.Time         // delete
	Sig       []byte            // delete
}

func (q *request) encode() []byte {
	out := []byte{wireVersion, q.Op}
	if q.Op != opPutStream {
		out = wire.AppendLenPrefixed(out, q.CID.Bytes())
	}
	switch q.Op {
	case opPut:
		out = binary.AppendUvarint(out, uint64(q.Size))
		out = append(out, q.DeleteKey...)
	case opPutStream:
		out = binary.AppendUvarint(out, uint64(q.Size))
	case opChallenge, opProve:
		out = append(out, q.Nonce[:]...)
	case opDelete:
		out = binary.BigEndian.AppendUint64(out, uint64(q.At.UnixMilli()))
		out = append(out, q.Sig...)
	}
	return out
}

// decodeRequest strictly decodes a request header. It checks formats
// (sizes, key and signature lengths), not signatures.
func decodeRequest(b []byte) (*request, error) {
	if len(b) > maxHeader {
		return nil, fmt.Errorf("decode shard request: %d bytes exceeds %d", len(b), maxHeader)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != wireVersion {
		return nil, fmt.Errorf("decode shard request: unsupported version %d (want %d)", v, wireVersion)
	}
	q := &request{Op: rd.Byte("op")}
	if q.Op != opPutStream {
		q.CID = readCID(rd, "cid")
	}
	if rd.Err() != nil {
		return nil, fmt.Errorf("decode shard request: %w", rd.Err())
	}
	switch q.Op {
	case opPut, opPutStream:
		size := rd.Uvarint("size")
		if q.Op == opPut {
			q.DeleteKey = ed25519.PublicKey(rd.Fixed("delete key", ed25519.PublicKeySize))
		}
		// A size over MaxShardSize decodes, so that the holder can answer
		// it as too large rather than as malformed.
		if rd.Err() == nil && (size == 0 || size > maxDeclaredSize) {
			return nil, fmt.Errorf("decode shard request: size %d is out of range (1..%d)", size, maxDeclaredSize)
		}
		q.Size = int(size)
	case opGet:
	case opChallenge, opProve:
		copy(q.Nonce[:], rd.Fixed("nonce", 32))
	case opDelete:
		ms := rd.Uint64("time")
		q.Sig = rd.Fixed("signature", ed25519.SignatureSize)
		if rd.Err() == nil && (ms == 0 || ms > math.MaxInt64) {
			return nil, fmt.Errorf("decode shard request: time %d is out of range", ms)
		}
		q.At = time.UnixMilli(int64(ms))
	default:
		return nil, fmt.Errorf("decode shard request: unknown op %d", q.Op)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode shard request: %w", err)
	}
	return q, nil
}

// encodeTrailer is a putstream trailer.
func encodeTrailer(c cid.Cid, deleteKey ed25519.PublicKey) []byte {
	return append(wire.AppendLenPrefixed(nil, c.Bytes()), deleteKey...)
}

// decodeTrailer strictly decodes a putstream trailer: the canonical bytes
// of a BLAKE3 shard ID and an Ed25519 public key.
func decodeTrailer(b []byte) (cid.Cid, ed25519.PublicKey, error) {
	rd := wire.NewReader(b)
	c := readCID(rd, "cid")
	key := ed25519.PublicKey(rd.Fixed("delete key", ed25519.PublicKeySize))
	if err := rd.Finish(); err != nil {
		return cid.Undef, nil, fmt.Errorf("decode put trailer: %w", err)
	}
	if !Provable(c) {
		return cid.Undef, nil, errors.New("decode put trailer: a streamed shard is named by a BLAKE3 CID")
	}
	return c, slices.Clone(key), nil
}

// deleteMessage is what a delete key signs to delete c from holder at t.
func deleteMessage(c cid.Cid, holder peer.ID, at time.Time) []byte {
	out := []byte(deleteTag)
	out = wire.AppendLenPrefixed(out, c.Bytes())
	out = wire.AppendLenPrefixed(out, []byte(holder))
	return binary.BigEndian.AppendUint64(out, uint64(at.UnixMilli()))
}

// response is a decoded response frame.
type response struct {
	Status  byte
	Reason  string
	Receipt []byte   // put OK
	Answer  [32]byte // challenge OK
	Proof   []byte   // prove OK
}

func (r *response) encode(op byte) []byte {
	reason := r.Reason
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	out := wire.AppendLenPrefixed([]byte{r.Status}, []byte(reason))
	if r.Status == statusOK {
		switch op {
		case opPut, opPutStream:
			out = wire.AppendLenPrefixed(out, r.Receipt)
		case opChallenge:
			out = append(out, r.Answer[:]...)
		case opProve:
			out = append(out, r.Proof...)
		}
	}
	return out
}

// decodeResponse strictly decodes the answer to a request of kind op.
func decodeResponse(b []byte, op byte) (*response, error) {
	if len(b) > maxResponse {
		return nil, fmt.Errorf("decode shard response: %d bytes exceeds %d", len(b), maxResponse)
	}
	rd := wire.NewReader(b)
	r := &response{Status: rd.Byte("status")}
	r.Reason = string(rd.LenPrefixed("reason", maxReason))
	if rd.Err() == nil {
		switch {
		case r.Status > statusError:
			return nil, fmt.Errorf("decode shard response: unknown status %d", r.Status)
		case r.Status == statusContinue && op != opPut && op != opPutStream:
			return nil, fmt.Errorf("decode shard response: continue is only an answer to put")
		case r.Status == statusOK && (op == opPut || op == opPutStream):
			r.Receipt = append([]byte(nil), rd.LenPrefixed("receipt", maxReceipt)...)
		case r.Status == statusOK && op == opChallenge:
			copy(r.Answer[:], rd.Fixed("answer", 32))
		case r.Status == statusOK && op == opProve:
			r.Proof = append([]byte(nil), rd.Rest()...)
			if _, err := decodeProof(r.Proof); err != nil {
				rd.Fail(err)
			}
			rd.Fixed("proof", len(r.Proof))
		}
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode shard response: %w", err)
	}
	return r, nil
}

// err turns a failure status into an error wrapping its sentinel; nil for
// OK and continue.
func (r *response) err() error {
	if r.Status == statusOK || r.Status == statusContinue {
		return nil
	}
	if s, ok := statusErrors[r.Status]; ok {
		return fmt.Errorf("%w: %s", s, r.Reason)
	}
	return fmt.Errorf("holder failed, try again later: %s", r.Reason)
}
