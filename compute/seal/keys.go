package seal

import (
	"crypto/ecdh"
	"crypto/hpke"
	"fmt"
)

// KeySize is the size of an encoded public or private key (X25519).
const KeySize = 32

// The HPKE suite (see the package documentation).
func kem() hpke.KEM   { return hpke.DHKEM(ecdh.X25519()) }
func kdf() hpke.KDF   { return hpke.HKDFSHA256() }
func aead() hpke.AEAD { return hpke.ChaCha20Poly1305() }

// PrivateKey is a worker's HPKE private key.
type PrivateKey struct {
	k hpke.PrivateKey
}

// PublicKey is a worker's HPKE public key, as clients seal to it.
type PublicKey struct {
	k hpke.PublicKey
}

// GenerateKey returns a fresh random key pair.
func GenerateKey() (*PrivateKey, error) {
	k, err := kem().GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("seal: generate an HPKE key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// ParsePrivateKey reads a private key written by PrivateKey.Bytes (32
// bytes, an X25519 scalar).
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("seal: a private key is %d bytes, got %d: pass the bytes PrivateKey.Bytes wrote", KeySize, len(b))
	}
	k, err := kem().NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("seal: private key does not parse: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// Bytes returns the private key's encoding for persistence. Keep it as
// secret as the key.
func (k *PrivateKey) Bytes() []byte {
	b, err := k.k.Bytes()
	if err != nil {
		// A DHKEM X25519 key always serialises; this would be a bug in
		// crypto/hpke or a key not made by this package.
		panic(fmt.Sprintf("seal: X25519 private key does not serialise: %v", err))
	}
	return b
}

// Public returns the encoded public key (32 bytes) that clients seal to.
func (k *PrivateKey) Public() []byte {
	return k.k.PublicKey().Bytes()
}

// ParsePublicKey reads an encoded public key (32 bytes).
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("seal: a public key is %d bytes, got %d", KeySize, len(b))
	}
	k, err := kem().NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("seal: public key does not parse: %w", err)
	}
	return &PublicKey{k: k}, nil
}

// Bytes returns the encoded public key.
func (k *PublicKey) Bytes() []byte { return k.k.Bytes() }
