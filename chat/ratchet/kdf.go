package ratchet

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Domain-separation strings. They are part of the protocol: changing one
// breaks every existing session and bundle.
const (
	infoX3DH          = "tonmesh/chat/v1/x3dh"
	infoRoot          = "tonmesh/chat/v1/root"
	infoMessageKeys   = "tonmesh/chat/v1/message-keys"
	labelChainMessage = "tonmesh/chat/v1/chain/message"
	labelChainNext    = "tonmesh/chat/v1/chain/next"
	contextPrekey     = "tonmesh/chat/v1/prekey"
	contextAD         = "tonmesh/chat/v1/ad"
)

// keySize is the size of every X25519 key, root key, chain key and message key.
const keySize = 32

type key = [keySize]byte

// x3dhSecret derives the shared secret SK from the three X3DH DH outputs.
func x3dhSecret(dh1, dh2, dh3 []byte) (key, error) {
	ikm := make([]byte, 0, keySize*4)
	for range keySize {
		ikm = append(ikm, 0xFF)
	}
	ikm = append(ikm, dh1...)
	ikm = append(ikm, dh2...)
	ikm = append(ikm, dh3...)
	var sk key
	out, err := hkdf.Key(sha256.New, ikm, make([]byte, keySize), infoX3DH, keySize)
	if err != nil {
		return sk, fmt.Errorf("ratchet: derive X3DH secret: %w", err)
	}
	copy(sk[:], out)
	return sk, nil
}

// kdfRoot is KDF_RK: it mixes a DH output into the root key and returns the
// next root key and a new chain key.
func kdfRoot(rk key, dhOut []byte) (nextRK, ck key, err error) {
	out, err := hkdf.Key(sha256.New, dhOut, rk[:], infoRoot, 2*keySize)
	if err != nil {
		return nextRK, ck, fmt.Errorf("ratchet: derive root key: %w", err)
	}
	copy(nextRK[:], out[:keySize])
	copy(ck[:], out[keySize:])
	return nextRK, ck, nil
}

// kdfChain is KDF_CK: it returns the next chain key and this step's message key.
func kdfChain(ck key) (next, mk key) {
	m := hmac.New(sha256.New, ck[:])
	m.Write([]byte(labelChainMessage))
	m.Sum(mk[:0])
	m.Reset()
	m.Write([]byte(labelChainNext))
	m.Sum(next[:0])
	return next, mk
}

// seal and open use the AEAD key and nonce derived from a message key; a
// message key is used for exactly one message, so the derived nonce is unique.
func seal(dst []byte, mk key, plaintext, ad []byte) []byte {
	aeadKey, nonce := messageKeys(mk)
	aead, err := chacha20poly1305.New(aeadKey)
	if err != nil {
		panic("ratchet: chacha20poly1305 rejected a 32-byte key: " + err.Error())
	}
	return aead.Seal(dst, nonce, plaintext, ad)
}

func open(mk key, sealed, ad []byte) ([]byte, error) {
	aeadKey, nonce := messageKeys(mk)
	aead, err := chacha20poly1305.New(aeadKey)
	if err != nil {
		panic("ratchet: chacha20poly1305 rejected a 32-byte key: " + err.Error())
	}
	pt, err := aead.Open(nil, nonce, sealed, ad)
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

func messageKeys(mk key) (aeadKey, nonce []byte) {
	// A message key is already uniformly random (an HMAC output), so HKDF's
	// extract step is skipped (RFC 5869, section 3.3).
	out, err := hkdf.Expand(sha256.New, mk[:], infoMessageKeys, keySize+chacha20poly1305.NonceSize)
	if err != nil {
		panic("ratchet: HKDF of a fixed small length failed: " + err.Error())
	}
	return out[:keySize], out[keySize:]
}

// associatedData binds the two identity keys, the caller's ad and the header.
func associatedData(initiatorIK, responderIK key, ad, header []byte) []byte {
	out := make([]byte, 0, len(contextAD)+2*keySize+4+len(ad)+len(header))
	out = append(out, contextAD...)
	out = append(out, initiatorIK[:]...)
	out = append(out, responderIK[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(ad)))
	out = append(out, ad...)
	return append(out, header...)
}

// dh computes X25519(priv, pub). crypto/ecdh refuses low-order public keys
// (all-zero output), which is reported as ErrMalformed.
func dh(priv *ecdh.PrivateKey, pub key) ([]byte, error) {
	p, err := ecdh.X25519().NewPublicKey(pub[:])
	if err != nil {
		return nil, fmt.Errorf("%w: X25519 public key: %v", ErrMalformed, err)
	}
	out, err := priv.ECDH(p)
	if err != nil {
		return nil, fmt.Errorf("%w: X25519 with a low-order public key: %v", ErrMalformed, err)
	}
	return out, nil
}

func pubKey(priv *ecdh.PrivateKey) key {
	var k key
	copy(k[:], priv.PublicKey().Bytes())
	return k
}
