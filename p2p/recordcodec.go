package p2p

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
)

// Record wire format, version 1 (all integers big-endian):
//
//	version    1 byte, = 1
//	namespace  uvarint length, bytes ([a-z0-9-]+, at most MaxNamespaceLen)
//	key        uvarint length, bytes (UTF-8, 1..MaxKeyLen)
//	seq        8 bytes
//	expires    8 bytes, unix seconds (1..math.MaxInt64)
//	pubkey     32 bytes, raw Ed25519 public key
//	value      uvarint length, bytes
//	sig        64 bytes, Ed25519 over recordDomain || all bytes above
//
// Varints are minimal and no trailing bytes are allowed, so every record has
// exactly one encoding and Marshal(UnmarshalRecord(b)) == b.
const (
	// MaxRecordSize bounds an encoded record; larger values are refused
	// before decoding. Bulk data belongs on a stream protocol, not the DHT.
	MaxRecordSize = 64 << 10
	// MaxNamespaceLen bounds a namespace name.
	MaxNamespaceLen = 32
	// MaxKeyLen bounds a record key.
	MaxKeyLen = 256

	recordVersion = 1
	recordDomain  = "tonmesh/record/v1"
	ed25519PubLen = 32
	ed25519SigLen = 64
	dhtKeyPrefix  = "/tonmesh-"
)

var namespacePattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// SignedRecord is one value in the DHT, signed by its author. The DHT key is
// DHTKey(Namespace, Key).
type SignedRecord struct {
	Namespace string        // e.g. "vault"
	Key       string        // key inside the namespace, UTF-8
	Seq       uint64        // higher replaces lower
	Expires   time.Time     // whole seconds on the wire
	PubKey    crypto.PubKey // signer, Ed25519
	Value     []byte
	Sig       []byte // Ed25519 signature over the domain tag and all fields above
}

// DHTKey returns the DHT key of a record: "/tonmesh-<namespace>/<key>".
func DHTKey(namespace, key string) string {
	return dhtKeyPrefix + namespace + "/" + key
}

// splitDHTKey is the inverse of DHTKey. The key part may contain '/'.
func splitDHTKey(k string) (namespace, key string, ok bool) {
	rest, found := strings.CutPrefix(k, dhtKeyPrefix)
	if !found {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

// ValidateNamespace checks a namespace name: 1 to MaxNamespaceLen characters
// from [a-z0-9-].
func ValidateNamespace(ns string) error {
	if len(ns) == 0 || len(ns) > MaxNamespaceLen || !namespacePattern.MatchString(ns) {
		return fmt.Errorf("namespace %q is invalid: use 1 to %d characters from [a-z0-9-] (example: vault)", ns, MaxNamespaceLen)
	}
	return nil
}

func validateKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("record key is invalid: use 1 to %d bytes of UTF-8 (hex-encode binary keys)", MaxKeyLen)
	}
	return nil
}

// NewSignedRecord builds and signs a record that expires ttl from now
// (rounded down to whole seconds). priv must be an Ed25519 key.
func NewSignedRecord(priv crypto.PrivKey, namespace, key string, seq uint64, ttl time.Duration, value []byte) (*SignedRecord, error) {
	if priv == nil || priv.Type() != cryptopb.KeyType_Ed25519 {
		return nil, errors.New("sign record: the signing key must be Ed25519")
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("sign record: ttl %v is too short (at least 1s)", ttl)
	}
	rec := &SignedRecord{
		Namespace: namespace,
		Key:       key,
		Seq:       seq,
		Expires:   time.Unix(time.Now().Add(ttl).Unix(), 0),
		PubKey:    priv.GetPublic(),
		Value:     bytes.Clone(value),
	}
	body, err := rec.signedBody()
	if err != nil {
		return nil, fmt.Errorf("sign record: %w", err)
	}
	sig, err := priv.Sign(body)
	if err != nil {
		return nil, fmt.Errorf("sign record: %w", err)
	}
	rec.Sig = sig
	if _, err := rec.Marshal(); err != nil {
		return nil, fmt.Errorf("sign record: %w", err)
	}
	return rec, nil
}

// appendBody appends every field except the signature.
func (r *SignedRecord) appendBody(dst []byte) ([]byte, error) {
	if err := ValidateNamespace(r.Namespace); err != nil {
		return nil, err
	}
	if err := validateKey(r.Key); err != nil {
		return nil, err
	}
	exp := r.Expires.Unix()
	if exp <= 0 {
		return nil, errors.New("record expiry must be after 1970")
	}
	if r.PubKey == nil || r.PubKey.Type() != cryptopb.KeyType_Ed25519 {
		return nil, errors.New("record public key must be Ed25519")
	}
	raw, err := r.PubKey.Raw()
	if err != nil || len(raw) != ed25519PubLen {
		return nil, errors.New("record public key is not a valid Ed25519 key")
	}
	dst = append(dst, recordVersion)
	dst = wire.AppendLenPrefixed(dst, []byte(r.Namespace))
	dst = wire.AppendLenPrefixed(dst, []byte(r.Key))
	dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(exp))
	dst = append(dst, raw...)
	dst = wire.AppendLenPrefixed(dst, r.Value)
	return dst, nil
}

// signedBody returns the bytes the signature covers.
func (r *SignedRecord) signedBody() ([]byte, error) {
	return r.appendBody([]byte(recordDomain))
}

// Marshal encodes the record. It fails if a field is malformed, the record is
// unsigned, or the result would exceed MaxRecordSize. It does not check the
// signature (see Verify).
func (r *SignedRecord) Marshal() ([]byte, error) {
	if len(r.Sig) != ed25519SigLen {
		return nil, errors.New("marshal record: the record is not signed (want a 64-byte Ed25519 signature)")
	}
	out, err := r.appendBody(make([]byte, 0, 128+len(r.Key)+len(r.Value)))
	if err != nil {
		return nil, fmt.Errorf("marshal record: %w", err)
	}
	out = append(out, r.Sig...)
	if len(out) > MaxRecordSize {
		return nil, fmt.Errorf("marshal record: %d bytes exceeds MaxRecordSize (%d); store bulk data on a stream protocol", len(out), MaxRecordSize)
	}
	return out, nil
}

// UnmarshalRecord strictly decodes a record. It checks the layout, lengths
// and field syntax but not the signature or expiry (see Verify, Expired).
// The result does not alias b.
func UnmarshalRecord(b []byte) (*SignedRecord, error) {
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("decode record: %d bytes exceeds MaxRecordSize (%d)", len(b), MaxRecordSize)
	}
	rd := wire.NewReader(bytes.Clone(b))
	if v := rd.Byte("version"); rd.Err() == nil && v != recordVersion {
		return nil, fmt.Errorf("decode record: unsupported version %d (want %d)", v, recordVersion)
	}
	ns := rd.LenPrefixed("namespace", MaxNamespaceLen)
	key := rd.LenPrefixed("key", MaxKeyLen)
	seq := rd.Uint64("seq")
	exp := rd.Uint64("expires")
	raw := rd.Fixed("public key", ed25519PubLen)
	value := rd.LenPrefixed("value", MaxRecordSize)
	sig := rd.Fixed("signature", ed25519SigLen)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if err := ValidateNamespace(string(ns)); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if err := validateKey(string(key)); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if exp == 0 || exp > math.MaxInt64 {
		return nil, fmt.Errorf("decode record: expiry %d is out of range", exp)
	}
	pub, err := crypto.UnmarshalEd25519PublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return &SignedRecord{
		Namespace: string(ns),
		Key:       string(key),
		Seq:       seq,
		Expires:   time.Unix(int64(exp), 0),
		PubKey:    pub,
		Value:     value,
		Sig:       sig,
	}, nil
}

// Verify checks the record's fields and its signature. It does not check
// expiry (see Expired) or any namespace policy.
func (r *SignedRecord) Verify() error {
	if len(r.Sig) != ed25519SigLen {
		return errors.New("verify record: signature must be 64 bytes")
	}
	body, err := r.signedBody()
	if err != nil {
		return fmt.Errorf("verify record: %w", err)
	}
	ok, err := edverify.PeerKey(r.PubKey, body, r.Sig)
	if err != nil || !ok {
		return errors.New("verify record: signature does not match the record and public key")
	}
	return nil
}

// Expired reports whether the record's expiry is at or before now.
func (r *SignedRecord) Expired(now time.Time) bool {
	return !now.Before(r.Expires)
}
