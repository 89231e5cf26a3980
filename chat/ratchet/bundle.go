package ratchet

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Bundle is what a user publishes so that others can start sessions with it
// (the chat service puts it in a signed DHT record).
type Bundle struct {
	IdentityKey  []byte // X25519 public, 32 bytes
	SigningKey   []byte // Ed25519 public, 32 bytes (the signer of the prekey)
	SignedPrekey []byte // X25519 public, 32 bytes
	PrekeyID     uint32
	// Signature is Ed25519 by SigningKey over
	// "tonmesh/chat/v1/prekey" || IdentityKey || PrekeyID (4 bytes) || SignedPrekey.
	Signature []byte
}

const (
	bundleVersion = 1
	// BundleSize is the exact size of an encoded Bundle.
	BundleSize = 1 + keySize + ed25519.PublicKeySize + keySize + 4 + ed25519.SignatureSize
)

// NewSignedPrekey makes a fresh signed prekey for the identity key and returns
// the bundle to publish and the prekey's private key to keep (a user keeps the
// current and the previous prekey so that sessions started from a bundle that
// was just replaced still work).
func NewSignedPrekey(signing ed25519.PrivateKey, identity *ecdh.PrivateKey, id uint32) (*Bundle, *ecdh.PrivateKey, error) {
	if len(signing) != ed25519.PrivateKeySize {
		return nil, nil, fmt.Errorf("ratchet: new prekey: signing key has %d bytes, want an Ed25519 private key of %d", len(signing), ed25519.PrivateKeySize)
	}
	if identity == nil || identity.Curve() != ecdh.X25519() {
		return nil, nil, fmt.Errorf("ratchet: new prekey: identity must be an X25519 private key")
	}
	spk, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("ratchet: new prekey: generate X25519 key: %w", err)
	}
	b := &Bundle{
		IdentityKey:  identity.PublicKey().Bytes(),
		SigningKey:   bytes.Clone(signing.Public().(ed25519.PublicKey)),
		SignedPrekey: spk.PublicKey().Bytes(),
		PrekeyID:     id,
	}
	b.Signature = ed25519.Sign(signing, b.signedMessage())
	return b, spk, nil
}

func (b *Bundle) signedMessage() []byte {
	msg := make([]byte, 0, len(contextPrekey)+keySize+4+keySize)
	msg = append(msg, contextPrekey...)
	msg = append(msg, b.IdentityKey...)
	msg = binary.BigEndian.AppendUint32(msg, b.PrekeyID)
	return append(msg, b.SignedPrekey...)
}

// Verify checks field sizes and the prekey signature. It does not say whose
// bundle it is: the caller checks that IdentityKey and SigningKey belong to
// the user it meant to reach (the chat service: the DHT record's signer).
func (b *Bundle) Verify() error {
	switch {
	case len(b.IdentityKey) != keySize:
		return fmt.Errorf("%w: bundle identity key has %d bytes, want %d", ErrMalformed, len(b.IdentityKey), keySize)
	case len(b.SigningKey) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: bundle signing key has %d bytes, want %d", ErrMalformed, len(b.SigningKey), ed25519.PublicKeySize)
	case len(b.SignedPrekey) != keySize:
		return fmt.Errorf("%w: bundle signed prekey has %d bytes, want %d", ErrMalformed, len(b.SignedPrekey), keySize)
	case len(b.Signature) != ed25519.SignatureSize:
		return fmt.Errorf("%w: bundle signature has %d bytes, want %d", ErrMalformed, len(b.Signature), ed25519.SignatureSize)
	}
	if !ed25519.Verify(b.SigningKey, b.signedMessage(), b.Signature) {
		return fmt.Errorf("%w: prekey %d of identity %x is not signed by %x; fetch the bundle again", ErrBadSignature, b.PrekeyID, b.IdentityKey, b.SigningKey)
	}
	return nil
}

// MarshalBinary encodes the bundle: version (1) || identity key || signing key
// || signed prekey || prekey id || signature, BundleSize bytes.
func (b *Bundle) MarshalBinary() ([]byte, error) {
	if len(b.IdentityKey) != keySize || len(b.SigningKey) != ed25519.PublicKeySize ||
		len(b.SignedPrekey) != keySize || len(b.Signature) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: cannot encode a bundle with wrong field sizes", ErrMalformed)
	}
	out := make([]byte, 0, BundleSize)
	out = append(out, bundleVersion)
	out = append(out, b.IdentityKey...)
	out = append(out, b.SigningKey...)
	out = append(out, b.SignedPrekey...)
	out = binary.BigEndian.AppendUint32(out, b.PrekeyID)
	return append(out, b.Signature...), nil
}

// UnmarshalBundle decodes a bundle strictly (exact size, known version). It
// does not verify the signature: call Verify.
func UnmarshalBundle(data []byte) (*Bundle, error) {
	if len(data) != BundleSize {
		return nil, fmt.Errorf("%w: bundle has %d bytes, want %d", ErrMalformed, len(data), BundleSize)
	}
	if data[0] != bundleVersion {
		return nil, fmt.Errorf("%w: bundle version %d, this node knows %d", ErrMalformed, data[0], bundleVersion)
	}
	r := reader{buf: data[1:]}
	b := &Bundle{
		IdentityKey:  bytes.Clone(r.next(keySize)),
		SigningKey:   bytes.Clone(r.next(ed25519.PublicKeySize)),
		SignedPrekey: bytes.Clone(r.next(keySize)),
		PrekeyID:     r.u32(),
		Signature:    bytes.Clone(r.next(ed25519.SignatureSize)),
	}
	return b, nil
}

// reader reads fixed-size fields; the caller checks the total size first
// (or checks failed afterwards).
type reader struct {
	buf    []byte
	failed bool
}

func (r *reader) next(n int) []byte {
	if r.failed || len(r.buf) < n {
		r.failed = true
		return make([]byte, n)
	}
	out := r.buf[:n]
	r.buf = r.buf[n:]
	return out
}

func (r *reader) key() key {
	var k key
	copy(k[:], r.next(keySize))
	return k
}

func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.next(4)) }
func (r *reader) u16() uint16 { return binary.BigEndian.Uint16(r.next(2)) }
func (r *reader) u8() byte    { return r.next(1)[0] }
