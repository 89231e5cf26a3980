package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/ton/wallet"
)

// HKDF parameters of the keys derived from the wallet seed. Changing any of
// them changes every user's PeerID and encryption key: never do it in place;
// add a new info string (v2) instead.
const (
	hkdfSalt          = "tonmesh"
	peerKeyInfo       = "tonmesh/v1/peer-key"
	encryptionKeyInfo = "tonmesh/v1/encryption-key"
	derivedSeedSize   = 32
)

// Identity holds every key a user owns, all derived from one TON mnemonic.
// It holds secrets: do not log or print its fields (its String and LogValue
// methods show only public parts).
type Identity struct {
	// Mnemonic is the 24 lowercase words the identity was derived from.
	Mnemonic []string
	// WalletKey is the TON wallet key, exactly what Tonkeeper and
	// @ton/crypto's mnemonicToPrivateKey derive from Mnemonic (no password).
	WalletKey ed25519.PrivateKey
	// PeerKey is the libp2p host key (Ed25519); its public key is the PeerID.
	PeerKey crypto.PrivKey
	// EncKey is the X25519 key others encrypt to (vault shares, chat, compute).
	EncKey *ecdh.PrivateKey
}

// FromMnemonic validates words (as ParseMnemonic does, so letter case does
// not matter) and derives the identity's keys:
//   - WalletKey: the standard TON derivation (PBKDF2-SHA512, "TON default seed");
//   - PeerKey:   Ed25519 from HKDF-SHA256(wallet seed, "tonmesh", "tonmesh/v1/peer-key");
//   - EncKey:    X25519 from HKDF-SHA256(wallet seed, "tonmesh", "tonmesh/v1/encryption-key").
//
// The derivation takes about 100k PBKDF2 rounds, tens of milliseconds.
func FromMnemonic(words []string) (*Identity, error) {
	parsed, err := ParseMnemonic(strings.Join(words, " "))
	if err != nil {
		return nil, err
	}
	walletKey, err := wallet.SeedToPrivateKeyWithOptions(parsed)
	if err != nil {
		return nil, fmt.Errorf("identity: derive TON wallet key from mnemonic: %w", err)
	}
	seed := walletKey.Seed()

	peerSeed, err := hkdf.Key(sha256.New, seed, []byte(hkdfSalt), peerKeyInfo, derivedSeedSize)
	if err != nil {
		return nil, fmt.Errorf("identity: derive peer key seed: %w", err)
	}
	peerKey, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(peerSeed))
	if err != nil {
		return nil, fmt.Errorf("identity: build libp2p peer key: %w", err)
	}

	encSeed, err := hkdf.Key(sha256.New, seed, []byte(hkdfSalt), encryptionKeyInfo, derivedSeedSize)
	if err != nil {
		return nil, fmt.Errorf("identity: derive encryption key seed: %w", err)
	}
	encKey, err := ecdh.X25519().NewPrivateKey(encSeed)
	if err != nil {
		return nil, fmt.Errorf("identity: build X25519 encryption key: %w", err)
	}

	return &Identity{
		Mnemonic:  parsed,
		WalletKey: walletKey,
		PeerKey:   peerKey,
		EncKey:    encKey,
	}, nil
}

// PeerID is the libp2p peer ID of PeerKey. It returns the empty ID if the
// identity has no usable peer key (an Identity not built by FromMnemonic).
func (id *Identity) PeerID() peer.ID {
	if id == nil || id.PeerKey == nil {
		return ""
	}
	pid, err := peer.IDFromPrivateKey(id.PeerKey)
	if err != nil {
		return ""
	}
	return pid
}

// String shows the public parts only, so an Identity printed by mistake does
// not leak the mnemonic or keys.
func (id *Identity) String() string {
	if id == nil {
		return "identity(<nil>)"
	}
	return fmt.Sprintf("identity(peer=%s)", id.PeerID())
}

// GoString is String: %#v must not print the secrets either.
func (id *Identity) GoString() string { return id.String() }

// LogValue makes slog print only the peer ID.
func (id *Identity) LogValue() slog.Value {
	if id == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("peer", id.PeerID().String()))
}
