package chat

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Envelope wire format, version 1 (big-endian):
//
//	version    1 byte: 1 (body is ratchet ciphertext) or 2 (body is a
//	           group message body, groupwire.go)
//	sender     uvarint length, peer ID bytes
//	recipient  uvarint length, peer ID bytes
//	id         16 bytes, random message ID
//	sent       8 bytes, unix milliseconds (1..math.MaxInt64)
//	ttl        4 bytes, seconds; 0 = no timer
//	body       uvarint length, ratchet ciphertext (at most maxBody)
//	sig        64 bytes, Ed25519 by the sender's peer key over
//	           envelopeDomain || every byte above
//
// No trailing bytes, minimal varints: one encoding per envelope.
const (
	envelopeVersion = 1
	envelopeGroup   = 2
	envelopeDomain  = "tonmesh/chat/envelope/v1"
	adDomain        = "tonmesh/chat/ad/v1"
	msgIDLen        = 16
	sigLen          = 64
	// maxBody bounds the ratchet ciphertext: the largest padding bucket
	// plus room for the ratchet's header and tag.
	maxBody = maxBucket + 1024
	// maxEnvelope bounds an encoded envelope.
	maxEnvelope = maxBody + 2*maxPeerIDLen + 128
)

// MsgID identifies one message between two peers.
type MsgID [msgIDLen]byte

// String is the ID in hex.
func (m MsgID) String() string { return hex.EncodeToString(m[:]) }

func newMsgID() (MsgID, error) {
	var id MsgID
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("chat: draw a message ID: %w", err)
	}
	return id, nil
}

// envelope is one signed message on the wire, direct or through a mailbox.
type envelope struct {
	Sender    peer.ID
	Recipient peer.ID
	ID        MsgID
	Sent      time.Time // millisecond precision
	TTL       time.Duration
	Body      []byte // ratchet ciphertext, or a group body when Group
	Sig       []byte
	Group     bool // version envelopeGroup
}

func (e *envelope) version() byte {
	if e.Group {
		return envelopeGroup
	}
	return envelopeVersion
}

// Expires is when the message's timer runs out; zero if it has none.
func (e *envelope) Expires() time.Time {
	if e.TTL == 0 {
		return time.Time{}
	}
	return e.Sent.Add(e.TTL)
}

// header appends every field before the body: it is both the start of the
// signed bytes and the ratchet's associated data, so a ciphertext cannot be
// moved to another sender, recipient, ID, time or timer.
func (e *envelope) header(dst []byte) []byte {
	dst = append(dst, e.version())
	dst = wire.AppendLenPrefixed(dst, []byte(e.Sender))
	dst = wire.AppendLenPrefixed(dst, []byte(e.Recipient))
	dst = append(dst, e.ID[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Sent.UnixMilli()))
	return binary.BigEndian.AppendUint32(dst, uint32(e.TTL/time.Second))
}

// ad is the associated data the body is encrypted with.
func (e *envelope) ad() []byte { return e.header([]byte(adDomain)) }

func (e *envelope) signedBytes() []byte {
	b := e.header([]byte(envelopeDomain))
	return wire.AppendLenPrefixed(b, e.Body)
}

// seal signs the envelope with the sender's peer key and encodes it.
func (e *envelope) seal(priv crypto.PrivKey) ([]byte, error) {
	if e.TTL < 0 || e.TTL > MaxTTL || e.TTL%time.Second != 0 {
		return nil, fmt.Errorf("chat: envelope ttl %v: use whole seconds up to %v", e.TTL, MaxTTL)
	}
	if len(e.Body) > maxBody {
		return nil, fmt.Errorf("chat: envelope body of %d bytes exceeds %d", len(e.Body), maxBody)
	}
	sig, err := sign(priv, e.signedBytes())
	if err != nil {
		return nil, fmt.Errorf("chat: sign envelope: %w", err)
	}
	e.Sig = sig
	return e.encode(), nil
}

// sign signs msg with priv. An Ed25519 key (every peer key chat signs
// with) signs with curve25519-voi: Ed25519 signatures are deterministic,
// so these are crypto/ed25519's to the byte, in about half its time.
func sign(priv crypto.PrivKey, msg []byte) ([]byte, error) {
	k, ok := priv.(*crypto.Ed25519PrivateKey)
	if !ok {
		return priv.Sign(msg)
	}
	raw, err := k.Raw()
	if err != nil || len(raw) != voi.PrivateKeySize {
		return nil, fmt.Errorf("ed25519 key of %d bytes: %v", len(raw), err)
	}
	return voi.Sign(voi.PrivateKey(raw), msg), nil
}

func (e *envelope) encode() []byte {
	out := e.header(make([]byte, 0, 128+len(e.Body)))
	out = wire.AppendLenPrefixed(out, e.Body)
	return append(out, e.Sig...)
}

// decodeEnvelope strictly decodes b. It does not check the signature (see
// verify). The result aliases b.
func decodeEnvelope(b []byte) (*envelope, error) {
	if len(b) > maxEnvelope {
		return nil, fmt.Errorf("decode envelope: %d bytes exceeds %d", len(b), maxEnvelope)
	}
	rd := wire.NewReader(b)
	v := rd.Byte("version")
	if rd.Err() == nil && v != envelopeVersion && v != envelopeGroup {
		return nil, fmt.Errorf("decode envelope: unsupported version %d (want %d or %d)", v, envelopeVersion, envelopeGroup)
	}
	e := &envelope{Group: v == envelopeGroup}
	e.Sender = readPeerID(rd, "sender")
	e.Recipient = readPeerID(rd, "recipient")
	copy(e.ID[:], rd.Fixed("id", msgIDLen))
	ms := rd.Uint64("sent")
	ttl := rd.Uint32("ttl")
	e.Body = rd.LenPrefixed("body", maxBody)
	e.Sig = rd.Fixed("signature", sigLen)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	if ms == 0 || ms > math.MaxInt64 {
		return nil, fmt.Errorf("decode envelope: timestamp %d is out of range", ms)
	}
	e.Sent = time.UnixMilli(int64(ms))
	e.TTL = time.Duration(ttl) * time.Second
	if e.TTL > MaxTTL {
		return nil, fmt.Errorf("decode envelope: ttl %v exceeds %v", e.TTL, MaxTTL)
	}
	return e, nil
}

var errBadSignature = errors.New("signature does not match the sender's peer key")

// verify checks the signature against the sender's peer ID (its key kept
// expanded in keys, peerkeys.go).
func (e *envelope) verify(keys *peerKeyCache) error {
	pub, err := keys.key(e.Sender)
	if err != nil {
		return fmt.Errorf("verify envelope: sender %s: %w", e.Sender, err)
	}
	ok, err := pub.verify(e.signedBytes(), e.Sig)
	if err != nil || !ok {
		return fmt.Errorf("verify envelope from %s: %w", e.Sender, errBadSignature)
	}
	return nil
}

// checkTimes refuses envelopes from the future (beyond clock skew) and
// envelopes whose timer has already run out.
func (e *envelope) checkTimes(now time.Time) error {
	if e.Sent.After(now.Add(maxClockSkew)) {
		return fmt.Errorf("envelope is dated %s, more than %v ahead of this node's clock", e.Sent.UTC().Format(time.RFC3339), maxClockSkew)
	}
	if exp := e.Expires(); !exp.IsZero() && !now.Before(exp) {
		return errExpired
	}
	return nil
}

var errExpired = errors.New("the message's timer has already run out")
