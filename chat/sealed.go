package chat

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Sealed mailbox item, version 1: what a sender deposits with a holder
// instead of its signed envelope, so that the holder learns the recipient
// (the mailbox key it is filed under), the size class, the expiry and
// nothing else: not the sender.
//
//	version  1 byte, = sealedVersion (16; an envelope starts with 1 or 2)
//	item ID  16 bytes: SHA-256(sealedIDDomain || delete secret)[:16]
//	eph      32 bytes, an X25519 public key drawn for this item
//	sealed   ChaCha20-Poly1305 under HKDF-SHA256(X25519(eph, R),
//	         info sealedKeyDomain || eph || R), nonce 0 (the key is used
//	         once), associated data: version || item ID || eph; plaintext:
//	         uvarint length | the signed envelope | zeros up to the class
//
// R is the recipient's X25519 key derived from its Ed25519 peer key
// (sealPublicKey): every sender has it from the peer ID alone, with no DHT
// lookup, which matters because a mailbox is used exactly when the
// recipient is offline, possibly longer than its prekey bundle lives in the
// DHT. The encrypted envelope keeps its own signature, so the recipient
// authenticates the sender as for a direct message.
//
// The plaintext is padded to one of sealedClasses, so the blob's length
// says only which content bucket (content.go) the message is in.
//
// The delete secret is HMAC-SHA256(sender's key, sealedSecretDomain ||
// recipient || message ID): the sender can compute it again at any time
// (to delete the item when its timer runs out) and stores nothing; the
// holder keeps only SHA-256(sealedDeleteDomain || secret).
const (
	sealedVersion      = 16
	sealedKeyDomain    = "tonmesh/chat/sealed/v1"
	sealedIDDomain     = "tonmesh/chat/sealed-id/v1"
	sealedDeleteDomain = "tonmesh/chat/sealed-delete/v1"
	sealedSecretDomain = "tonmesh/chat/sealed-secret/v1"
	sealedHeader       = 1 + msgIDLen + 32
	// sealedSlack is what an envelope adds to its padded content (ratchet
	// header and tag, peer IDs, fields, signature) plus the length prefix.
	sealedSlack = maxEnvelope - maxBucket + binary.MaxVarintLen32
	// maxSealed bounds an encoded sealed item.
	maxSealed = sealedHeader + maxBucket + sealedSlack + chacha20poly1305.Overhead
)

// sealedClass returns the padded plaintext size for an envelope of n
// bytes: a content bucket plus sealedSlack, or -1 when n is too long.
func sealedClass(n int) int {
	need := n + binary.MaxVarintLen32
	for _, b := range buckets {
		if need <= b+sealedSlack {
			return b + sealedSlack
		}
	}
	return -1
}

// validSealedLen reports whether an encoded sealed item has the length of
// one of the classes: holders refuse any other, so that a sender cannot
// make its items recognizable by their length.
func validSealedLen(n int) bool {
	for _, b := range buckets {
		if n == sealedHeader+b+sealedSlack+chacha20poly1305.Overhead {
			return true
		}
	}
	return false
}

// curve25519P is the field prime 2^255 - 19.
var curve25519P = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// sealPublicKey is the X25519 key of peer p: the Montgomery form
// u = (1+y)/(1-y) of its Ed25519 public key (the map libsodium's
// crypto_sign_ed25519_pk_to_curve25519 uses). The point's sign bit is
// irrelevant to u.
func sealPublicKey(p peer.ID) (*ecdh.PublicKey, error) {
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("chat: seal to %s: %w", p, err)
	}
	raw, err := pub.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("chat: seal to %s: not an Ed25519 peer key", p)
	}
	le := make([]byte, 32)
	copy(le, raw)
	le[31] &= 0x7f
	y := new(big.Int).SetBytes(reverse(le))
	if y.Cmp(curve25519P) >= 0 {
		return nil, fmt.Errorf("chat: seal to %s: the peer key is not canonical", p)
	}
	den := new(big.Int).Sub(big.NewInt(1), y)
	den.Mod(den, curve25519P)
	if den.Sign() == 0 {
		return nil, fmt.Errorf("chat: seal to %s: the peer key is the neutral point", p)
	}
	u := new(big.Int).Add(big.NewInt(1), y)
	u.Mul(u, new(big.Int).ModInverse(den, curve25519P))
	u.Mod(u, curve25519P)
	ub := make([]byte, 32)
	u.FillBytes(ub)
	return ecdh.X25519().NewPublicKey(reverse(ub))
}

// sealPrivateKey is the X25519 key matching sealPublicKey of this node's
// peer ID: the Ed25519 secret scalar, SHA-512(seed)[:32] (X25519 clamps it
// as Ed25519 does).
func sealPrivateKey(sign ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	h := sha512.Sum512(sign.Seed())
	return ecdh.X25519().NewPrivateKey(h[:32])
}

func reverse(b []byte) []byte {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// deleteSecret is the secret that lets the sender (sign) delete its
// sealed item with message id for recipient at the holders.
func deleteSecret(sign ed25519.PrivateKey, recipient peer.ID, id MsgID) [32]byte {
	m := hmac.New(sha256.New, sign.Seed())
	m.Write([]byte(sealedSecretDomain))
	m.Write([]byte(recipient))
	m.Write(id[:])
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// sealedItemID is the holder's ID of the item whose delete secret is
// secret; deleteHash is what the holder keeps to check the secret.
func sealedItemID(secret [32]byte) MsgID {
	h := sha256.Sum256(append([]byte(sealedIDDomain), secret[:]...))
	var id MsgID
	copy(id[:], h[:])
	return id
}

func deleteHash(secret [32]byte) [32]byte {
	return sha256.Sum256(append([]byte(sealedDeleteDomain), secret[:]...))
}

func sealedAEAD(shared, eph, rcpt []byte) (cipherAEAD, error) {
	info := append(append([]byte(sealedKeyDomain), eph...), rcpt...)
	key, err := hkdf.Key(sha256.New, shared, nil, string(info), chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.New(key)
}

type cipherAEAD interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

// sealItem encrypts the signed envelope raw to recipient under item ID id.
func sealItem(recipient peer.ID, id MsgID, raw []byte) ([]byte, error) {
	class := sealedClass(len(raw))
	if class < 0 {
		return nil, fmt.Errorf("chat: seal an envelope of %d bytes: exceeds %d", len(raw), maxEnvelope)
	}
	rpub, err := sealPublicKey(recipient)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("chat: seal: draw a key: %w", err)
	}
	shared, err := eph.ECDH(rpub)
	if err != nil {
		return nil, fmt.Errorf("chat: seal to %s: %w", recipient, err)
	}
	out := append([]byte{sealedVersion}, id[:]...)
	out = append(out, eph.PublicKey().Bytes()...)
	aead, err := sealedAEAD(shared, eph.PublicKey().Bytes(), rpub.Bytes())
	if err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	plain := make([]byte, 0, class)
	plain = wire.AppendLenPrefixed(plain, raw)
	plain = plain[:class] // zero padding: plain's capacity is class
	nonce := make([]byte, chacha20poly1305.NonceSize)
	return aead.Seal(out, nonce, plain, out[:sealedHeader]), nil
}

// sealedItem is a decoded (still sealed) item.
type sealedItem struct {
	ID     MsgID
	Eph    []byte
	Sealed []byte
	header []byte
}

// decodeSealedItem strictly decodes the framing of a sealed item; only
// the recipient can check what is inside (openSealed).
func decodeSealedItem(b []byte) (*sealedItem, error) {
	if len(b) > maxSealed {
		return nil, fmt.Errorf("decode sealed item: %d bytes exceeds %d", len(b), maxSealed)
	}
	if !validSealedLen(len(b)) {
		return nil, fmt.Errorf("decode sealed item: %d bytes is no size class", len(b))
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != sealedVersion {
		return nil, fmt.Errorf("decode sealed item: unsupported version %d (want %d)", v, sealedVersion)
	}
	it := &sealedItem{}
	copy(it.ID[:], rd.Fixed("item id", msgIDLen))
	it.Eph = rd.Fixed("ephemeral key", 32)
	if rd.Err() != nil {
		return nil, fmt.Errorf("decode sealed item: %w", rd.Err())
	}
	it.Sealed = rd.Rest()
	it.header = b[:sealedHeader]
	return it, nil
}

var errNotOpened = errors.New("the sealed item does not open with this node's key (not for it, or corrupt)")

// openSealed decrypts a sealed item with the recipient's key and returns
// the signed envelope inside, unverified (receive verifies it).
func openSealed(priv *ecdh.PrivateKey, it *sealedItem) ([]byte, error) {
	eph, err := ecdh.X25519().NewPublicKey(it.Eph)
	if err != nil {
		return nil, fmt.Errorf("open sealed item: %w", err)
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("open sealed item: %w", errNotOpened)
	}
	aead, err := sealedAEAD(shared, it.Eph, priv.PublicKey().Bytes())
	if err != nil {
		return nil, fmt.Errorf("open sealed item: %w", err)
	}
	plain, err := aead.Open(nil, make([]byte, chacha20poly1305.NonceSize), it.Sealed, it.header)
	if err != nil {
		return nil, fmt.Errorf("open sealed item: %w", errNotOpened)
	}
	rd := wire.NewReader(plain)
	raw := rd.LenPrefixed("envelope", maxEnvelope)
	if rd.Err() != nil {
		return nil, fmt.Errorf("open sealed item: %w", rd.Err())
	}
	for _, z := range rd.Rest() {
		if z != 0 {
			return nil, errors.New("open sealed item: padding is not zero")
		}
	}
	return raw, nil
}
