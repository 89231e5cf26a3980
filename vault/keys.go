package vault

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/tonmesh/tonmesh/p2p/identity"
)

// HKDF parameters of the vault's owner secrets. Changing any of them makes
// every published manifest unreadable and every shard undeletable: add a v2
// info string instead of editing these.
const (
	keySalt          = "tonmesh-vault"
	manifestKeyInfo  = "tonmesh/v1/vault/manifest-key"
	deleteRootInfo   = "tonmesh/v1/vault/delete-root"
	deleteKeyInfo    = "tonmesh/v1/vault/delete-key/"
	manifestADPrefix = "tonmesh/vault/manifest/v1/"
	sealVersion      = 1
)

// ownerKeys are the secrets the vault derives from the identity. They never
// leave the node.
type ownerKeys struct {
	manifest   [32]byte // XChaCha20-Poly1305 key of the manifest
	deleteRoot [32]byte // root of the per-shard delete keys
	ad         []byte   // associated data binding a sealed manifest to its owner
}

// deriveKeys derives the vault secrets from the identity's secret keys (the
// wallet seed and the X25519 key), so the same mnemonic gives the same
// secrets on any machine.
func deriveKeys(id *identity.Identity) (*ownerKeys, error) {
	if len(id.WalletKey) != ed25519.PrivateKeySize || id.EncKey == nil {
		return nil, errors.New("vault: the identity has no wallet or encryption key (build it with identity.FromMnemonic)")
	}
	ikm := append(append([]byte(nil), id.WalletKey.Seed()...), id.EncKey.Bytes()...)
	k := &ownerKeys{ad: []byte(manifestADPrefix + id.PeerID().String())}
	for _, d := range []struct {
		info string
		out  *[32]byte
	}{{manifestKeyInfo, &k.manifest}, {deleteRootInfo, &k.deleteRoot}} {
		b, err := hkdf.Key(sha256.New, ikm, []byte(keySalt), d.info, 32)
		if err != nil {
			return nil, fmt.Errorf("vault: derive owner key: %w", err)
		}
		copy(d.out[:], b)
	}
	return k, nil
}

// deleteKey is the key that authorizes deleting the shard with CID c. Each
// shard has its own, so holders cannot tell which shards share an owner.
func (k *ownerKeys) deleteKey(c cid.Cid) ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, k.deleteRoot[:], []byte(keySalt), deleteKeyInfo+string(c.Bytes()), ed25519.SeedSize)
	if err != nil {
		// hkdf.Key fails only for an output longer than 255 hashes.
		panic("vault: hkdf of a 32-byte seed: " + err.Error())
	}
	return ed25519.NewKeyFromSeed(seed)
}

// seal encrypts a manifest encoding to the owner: version ‖ nonce ‖ AEAD.
func (k *ownerKeys) seal(plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k.manifest[:])
	if err != nil {
		return nil, fmt.Errorf("vault: manifest cipher: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("vault: manifest nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, k.ad), nil
}

// open reverses seal.
func (k *ownerKeys) open(sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k.manifest[:])
	if err != nil {
		return nil, fmt.Errorf("vault: manifest cipher: %w", err)
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("vault: sealed manifest is truncated")
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("vault: sealed manifest version %d is not supported (want %d)", sealed[0], sealVersion)
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], k.ad)
	if err != nil {
		return nil, fmt.Errorf("vault: the manifest does not open with this identity's key (it belongs to another identity or was altered): %w", err)
	}
	return plain, nil
}

// challengeNonce is the i-th audit nonce of the shard with CID c:
// HMAC-SHA256(seed, CID ‖ i). Holders cannot predict it without the seed.
func challengeNonce(seed [32]byte, c cid.Cid, i uint64) [32]byte {
	m := hmac.New(sha256.New, seed[:])
	m.Write(c.Bytes())
	m.Write(binary.BigEndian.AppendUint64(nil, i))
	var out [32]byte
	m.Sum(out[:0])
	return out
}
