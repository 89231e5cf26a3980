package chat

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
)

// Mailbox request wire format, version 1 (big-endian), one frame on
// /tonmesh/chat/mailbox/1.0.0:
//
//	version  1 byte, = 1
//	op       1 byte: opPut, opFetch, opDelete
//	put:     uvarint length, envelope (the holder checks its signature)
//	fetch:   owner (uvarint length, peer ID) | at (8 bytes, unix ms) | sig (64)
//	delete:  signer (peer ID) | owner (peer ID) | at (8) |
//	         count (uvarint, 1..maxDeleteIDs) | count × 16-byte IDs | sig (64)
//	sealed put (opSealedPut): mailbox key (32) | expires (8, unix ms) |
//	         delete hash (32) | stamp at (8, unix ms) | stamp nonce (8) |
//	         uvarint length, sealed item (sealed.go; proof of work:
//	         sealedpow.go)
//	sealed delete (opSealedDelete): mailbox key (32) |
//	         count (uvarint, 1..maxDeleteIDs) | count × 32-byte delete secrets
//
// A sealed put or delete names no sender and carries no signature: the
// put is paid with proof of work, the delete authorized by knowledge of
// the secret whose hash the put carried. A plain put (opPut) is the format
// of nodes that do not seal yet; a holder with Holder.RefusePlain refuses
// it.
//
// Signatures are Ed25519 by the signer's peer key (the owner's for fetch)
// over mailboxDomain || every byte before the signature. A delete signed by
// the owner removes any of its items; one signed by someone else removes only
// items that signer put there.
//
// Response: status (1 byte) | reason (uvarint length, UTF-8) | body, where
// the body of a fetch is more (1 byte, 0/1) | count (uvarint) | count ×
// (uvarint length, envelope), of a delete the number deleted (uvarint), and
// of a put nothing.
const (
	mailboxVersion = 1
	mailboxDomain  = "tonmesh/chat/mailbox/v1"
	mailboxKeyTag  = "tonmesh/chat/mailbox"

	opPut    = 1
	opFetch  = 2
	opDelete = 3
	// opSealedPut and opSealedDelete deposit and delete sealed items.
	opSealedPut    = 4
	opSealedDelete = 5

	maxDeleteIDs  = 256
	maxFetchItems = 256
	maxReason     = 256
	// maxMailboxReq bounds a request frame: a sealed put of the largest
	// envelope.
	maxMailboxReq = maxSealed + 256
	// maxFetchResp bounds a fetch answer.
	maxFetchResp = 8 << 20
)

// Response statuses shared by the msg and mailbox protocols.
const (
	statusOK        = 0 // stored (msg: durably, mailbox: held)
	statusDuplicate = 1 // already had it: treat as stored
	statusRejected  = 2 // refused for good (signature, decryption, schema)
	statusQuota     = 3 // mailbox: over the sender's quota or the holder's space
	statusError     = 4 // failed on the answering side: try again later
	statusMoreWork  = 5 // mailbox: the stamp has too few bits; body: the bits wanted
)

// mailboxKey is the DHT key whose closest peers hold owner's mailbox.
func mailboxKey(owner peer.ID) []byte {
	h := sha256.Sum256([]byte(mailboxKeyTag + owner.String()))
	return h[:]
}

// mailboxReq is a decoded mailbox request.
type mailboxReq struct {
	Op       byte
	Envelope []byte  // put
	Signer   peer.ID // fetch: the owner
	Owner    peer.ID
	At       time.Time
	IDs      []MsgID // delete
	Sig      []byte
	signed   []byte // the bytes Sig covers, without the domain

	// Sealed put and delete.
	Mailbox    []byte     // mailbox key, 32 bytes
	Expires    time.Time  // put: when the holder drops the item
	DeleteHash []byte     // put: 32 bytes, deleteHash of the secret
	Stamp      stamp      // put
	Item       []byte     // put: the sealed item
	Secrets    [][32]byte // delete
}

func (q *mailboxReq) body() []byte {
	out := []byte{mailboxVersion, q.Op}
	switch q.Op {
	case opPut:
		return wire.AppendLenPrefixed(out, q.Envelope)
	case opSealedPut:
		out = append(out, q.Mailbox...)
		out = binary.BigEndian.AppendUint64(out, uint64(q.Expires.UnixMilli()))
		out = append(out, q.DeleteHash...)
		out = binary.BigEndian.AppendUint64(out, uint64(q.Stamp.At.UnixMilli()))
		out = binary.BigEndian.AppendUint64(out, q.Stamp.Nonce)
		return wire.AppendLenPrefixed(out, q.Item)
	case opSealedDelete:
		out = append(out, q.Mailbox...)
		out = binary.AppendUvarint(out, uint64(len(q.Secrets)))
		for _, sec := range q.Secrets {
			out = append(out, sec[:]...)
		}
		return out
	case opFetch:
		out = wire.AppendLenPrefixed(out, []byte(q.Owner))
	case opDelete:
		out = wire.AppendLenPrefixed(out, []byte(q.Signer))
		out = wire.AppendLenPrefixed(out, []byte(q.Owner))
	}
	out = binary.BigEndian.AppendUint64(out, uint64(q.At.UnixMilli()))
	if q.Op == opDelete {
		out = binary.AppendUvarint(out, uint64(len(q.IDs)))
		for _, id := range q.IDs {
			out = append(out, id[:]...)
		}
	}
	return out
}

// encodeSigned signs a fetch or delete with priv (the signer's peer key).
func (q *mailboxReq) encodeSigned(priv crypto.PrivKey) ([]byte, error) {
	body := q.body()
	sig, err := priv.Sign(append([]byte(mailboxDomain), body...))
	if err != nil {
		return nil, fmt.Errorf("chat: sign mailbox request: %w", err)
	}
	return append(body, sig...), nil
}

// decodeMailboxReq strictly decodes a request. It does not check the
// signature (see verify).
func decodeMailboxReq(b []byte) (*mailboxReq, error) {
	if len(b) > maxMailboxReq {
		return nil, fmt.Errorf("decode mailbox request: %d bytes exceeds %d", len(b), maxMailboxReq)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != mailboxVersion {
		return nil, fmt.Errorf("decode mailbox request: unsupported version %d (want %d)", v, mailboxVersion)
	}
	q := &mailboxReq{Op: rd.Byte("op")}
	switch {
	case rd.Err() != nil:
		return nil, fmt.Errorf("decode mailbox request: %w", rd.Err())
	case q.Op == opPut:
		q.Envelope = rd.LenPrefixed("envelope", maxEnvelope)
		if err := rd.Finish(); err != nil {
			return nil, fmt.Errorf("decode mailbox request: %w", err)
		}
		return q, nil
	case q.Op == opSealedPut || q.Op == opSealedDelete:
		if err := decodeSealedReq(rd, q); err != nil {
			return nil, fmt.Errorf("decode mailbox request: %w", err)
		}
		return q, nil
	case q.Op == opFetch:
		q.Owner = readPeerID(rd, "owner")
		q.Signer = q.Owner
	case q.Op == opDelete:
		q.Signer = readPeerID(rd, "signer")
		q.Owner = readPeerID(rd, "owner")
	default:
		return nil, fmt.Errorf("decode mailbox request: unknown op %d", q.Op)
	}
	ms := rd.Uint64("at")
	if q.Op == opDelete {
		n := rd.Uvarint("id count")
		if rd.Err() == nil && (n == 0 || n > maxDeleteIDs) {
			return nil, fmt.Errorf("decode mailbox request: %d IDs (want 1..%d)", n, maxDeleteIDs)
		}
		raw := rd.Fixed("ids", int(n)*msgIDLen)
		for i := 0; rd.Err() == nil && i < int(n); i++ {
			var id MsgID
			copy(id[:], raw[i*msgIDLen:])
			q.IDs = append(q.IDs, id)
		}
	}
	signedLen := len(b) - len(rd.Rest())
	q.Sig = rd.Fixed("signature", sigLen)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode mailbox request: %w", err)
	}
	if ms == 0 || ms > math.MaxInt64 {
		return nil, fmt.Errorf("decode mailbox request: timestamp %d is out of range", ms)
	}
	q.At = time.UnixMilli(int64(ms))
	q.signed = b[:signedLen]
	return q, nil
}

// decodeSealedReq reads the rest of a sealed put or delete.
func decodeSealedReq(rd *wire.Reader, q *mailboxReq) error {
	q.Mailbox = rd.Fixed("mailbox key", sha256.Size)
	if q.Op == opSealedDelete {
		n := rd.Uvarint("secret count")
		if rd.Err() == nil && (n == 0 || n > maxDeleteIDs) {
			return fmt.Errorf("%d delete secrets (want 1..%d)", n, maxDeleteIDs)
		}
		raw := rd.Fixed("secrets", int(n)*32)
		for i := 0; rd.Err() == nil && i < int(n); i++ {
			var sec [32]byte
			copy(sec[:], raw[i*32:])
			q.Secrets = append(q.Secrets, sec)
		}
		return rd.Finish()
	}
	exp := rd.Uint64("expires")
	q.DeleteHash = rd.Fixed("delete hash", sha256.Size)
	at := rd.Uint64("stamp time")
	q.Stamp.Nonce = rd.Uint64("stamp nonce")
	q.Item = rd.LenPrefixed("sealed item", maxSealed)
	if err := rd.Finish(); err != nil {
		return err
	}
	if exp == 0 || exp > math.MaxInt64 || at == 0 || at > math.MaxInt64 {
		return fmt.Errorf("expiry %d or stamp time %d is out of range", exp, at)
	}
	q.Expires, q.Stamp.At = time.UnixMilli(int64(exp)), time.UnixMilli(int64(at))
	return nil
}

// verify checks a decoded fetch or delete: the signer's signature, and that
// it was made within maxClockSkew of now.
func (q *mailboxReq) verify(now time.Time) error {
	pub, err := q.Signer.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("mailbox request signer %s: %w", q.Signer, err)
	}
	ok, err := edverify.PeerKey(pub, append([]byte(mailboxDomain), q.signed...), q.Sig)
	if err != nil || !ok {
		return fmt.Errorf("mailbox request from %s: %w", q.Signer, errBadSignature)
	}
	if d := now.Sub(q.At); d > maxClockSkew || d < -maxClockSkew {
		return fmt.Errorf("mailbox request signed at %s, more than %v from this node's clock", q.At.UTC().Format(time.RFC3339), maxClockSkew)
	}
	return nil
}

// response is a decoded answer of the msg or mailbox protocol.
type response struct {
	Status byte
	Reason string
	More   bool     // fetch
	Items  [][]byte // fetch: envelopes and sealed items
	Count  uint64   // delete
	Bits   int      // statusMoreWork: the bits the holder wants
}

func encodeResponse(status byte, reason string) []byte {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	return wire.AppendLenPrefixed([]byte{status}, []byte(reason))
}

func encodeFetchResponse(more bool, items [][]byte) []byte {
	out := encodeResponse(statusOK, "")
	m := byte(0)
	if more {
		m = 1
	}
	out = append(out, m)
	out = binary.AppendUvarint(out, uint64(len(items)))
	for _, it := range items {
		out = wire.AppendLenPrefixed(out, it)
	}
	return out
}

func encodeMoreWorkResponse(bits int, reason string) []byte {
	return append(encodeResponse(statusMoreWork, reason), byte(bits))
}

func encodeDeleteResponse(n uint64) []byte {
	return binary.AppendUvarint(encodeResponse(statusOK, ""), n)
}

// decodeResponse strictly decodes an answer to a request of kind op (0 for
// the msg protocol). A status other than OK or statusMoreWork carries no
// body.
func decodeResponse(b []byte, op byte) (*response, error) {
	rd := wire.NewReader(b)
	r := &response{Status: rd.Byte("status")}
	r.Reason = string(rd.LenPrefixed("reason", maxReason))
	if rd.Err() == nil && r.Status > statusMoreWork {
		return nil, fmt.Errorf("decode response: unknown status %d", r.Status)
	}
	if rd.Err() == nil && r.Status == statusOK {
		switch op {
		case opFetch:
			more := rd.Byte("more")
			if rd.Err() == nil && more > 1 {
				return nil, fmt.Errorf("decode response: more flag %d", more)
			}
			r.More = more == 1
			n := rd.Uvarint("item count")
			if rd.Err() == nil && n > maxFetchItems {
				return nil, fmt.Errorf("decode response: %d items exceeds %d", n, maxFetchItems)
			}
			for i := 0; rd.Err() == nil && i < int(n); i++ {
				r.Items = append(r.Items, rd.LenPrefixed("item", maxSealed))
			}
		case opDelete, opSealedDelete:
			r.Count = rd.Uvarint("count")
		}
	}
	if rd.Err() == nil && r.Status == statusMoreWork {
		r.Bits = int(rd.Byte("bits"))
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return r, nil
}
