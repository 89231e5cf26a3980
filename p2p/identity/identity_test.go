package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	xhkdf "golang.org/x/crypto/hkdf"
)

// walletKeyVectors: mnemonic -> Ed25519 seed and public key, generated with
// tonweb-mnemonic (same algorithm as @ton/crypto mnemonicToPrivateKey, which
// Tonkeeper uses), from Trust Wallet's wallet-core tests
// (rust/tw_hd_wallet/tests/ton_mnemonic.rs and
// rust/tw_tests/tests/chains/ton/ton_wallet.rs).
var walletKeyVectors = []struct {
	mnemonic, seed, public string
}{
	{vectorMnemonicA,
		"112d4e2e700a468f1eae699329202f1ee671d6b665caa2d92dea038cf3868c18",
		"4d656c35c830bf78d239d3225727dd1da051be0ec521c98e3012beafbb06f306"},
	{vectorMnemonicB,
		"ee11da8e64d17a8416c88a6a24a1e16569cc85a077b7b209528975c32a44a0c8",
		"3bab20a5f77e277e39443fc16c64e0479b4a9db542bf9e11c638598384c853f1"},
	{"laundry myself fitness beyond prize piano match acid vacuum already abandon dance occur pause grocery company inject excuse weasel carpet fog grunt trick spike",
		"859cd74ab605afb7ce9f5316a1f6d59217a130b75b494efd249913be874c9d46",
		"c9af50596bd5c1c5a15fb32bef8d4f1ee5244b287aea1f49f6023a79f9b2f055"},
	{"slim holiday tiny pizza donor egg round three verify post chat social offer mix rack soft loud code option learn this pipe mouse mango",
		"cdfd1e2a1f947701bddba2636c26a6d6d13efacba5e6fdc624254be9bf8cbc3b",
		"c1266dc4e8040e462af34fa7da9130950caf8c8a1bab78c9b938d2eb6e3d9a69"},
	{"protect drill sugar gallery note admit input wrist chicken swarm scheme hedgehog orbit ritual glove ski buddy slogan fragile sun delay toy lucky require",
		"cdcea50b87d3f1ca859e7b2bdf9a5339b7b6804b5c70ac85198829f9607dc43b",
		""},
}

func mustIdentity(t *testing.T, mnemonic string) *Identity {
	t.Helper()
	id, err := FromMnemonic(strings.Fields(mnemonic))
	if err != nil {
		t.Fatalf("FromMnemonic(%q): %v", mnemonic, err)
	}
	return id
}

func TestWalletKeyMatchesTONVectors(t *testing.T) {
	for _, v := range walletKeyVectors {
		id := mustIdentity(t, v.mnemonic)
		if got := hex.EncodeToString(id.WalletKey.Seed()); got != v.seed {
			t.Errorf("%.30s...: wallet seed %s, want %s", v.mnemonic, got, v.seed)
		}
		pub := hex.EncodeToString(id.WalletKey.Public().(ed25519.PublicKey))
		if v.public != "" && pub != v.public {
			t.Errorf("%.30s...: wallet public key %s, want %s", v.mnemonic, pub, v.public)
		}
	}
}

// derivedSeed recomputes a derived key seed with a second HKDF implementation
// and the parameters spelled out as the design states them.
func derivedSeed(t *testing.T, walletSeed []byte, info string) []byte {
	t.Helper()
	out := make([]byte, 32)
	if _, err := io.ReadFull(xhkdf.New(sha256.New, walletSeed, []byte("tonmesh"), []byte(info)), out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDerivedKeysFollowSpec(t *testing.T) {
	id := mustIdentity(t, vectorMnemonicA)
	walletSeed := id.WalletKey.Seed()

	peerSeed := derivedSeed(t, walletSeed, "tonmesh/v1/peer-key")
	raw, err := id.PeerKey.Raw()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw[:32], peerSeed) {
		t.Fatalf("peer key seed %x, want HKDF result %x", raw[:32], peerSeed)
	}
	if id.PeerKey.Type() != crypto.Ed25519 {
		t.Fatalf("peer key type %v, want Ed25519", id.PeerKey.Type())
	}

	encSeed := derivedSeed(t, walletSeed, "tonmesh/v1/encryption-key")
	if !bytes.Equal(id.EncKey.Bytes(), encSeed) {
		t.Fatalf("encryption key %x, want HKDF result %x", id.EncKey.Bytes(), encSeed)
	}
	if id.EncKey.Curve() != ecdh.X25519() {
		t.Fatal("encryption key is not X25519")
	}

	// Pinned values: if these change, every user's PeerID and encryption key
	// change with them.
	const wantPeerID = "12D3KooWHFQYZQVSzY6uJWzhaux1aim6e1VYhyYBACQMHEUQfZZG"
	const wantEncPub = "88aad8b8688b721f3b1ef3ec06676150a21358fa85292eb12cc4e49388776447"
	if got := id.PeerID().String(); got != wantPeerID {
		t.Errorf("PeerID = %s, want pinned %s", got, wantPeerID)
	}
	if got := hex.EncodeToString(id.EncKey.PublicKey().Bytes()); got != wantEncPub {
		t.Errorf("encryption public key = %s, want pinned %s", got, wantEncPub)
	}
}

func TestDerivationDeterministicAndSeparated(t *testing.T) {
	a1 := mustIdentity(t, vectorMnemonicA)
	a2 := mustIdentity(t, strings.ToUpper(vectorMnemonicA))
	b := mustIdentity(t, vectorMnemonicB)

	if !a1.WalletKey.Equal(a2.WalletKey) {
		t.Error("same words gave different wallet keys")
	}
	if a1.PeerID() != a2.PeerID() || a1.PeerID() == "" {
		t.Errorf("same words gave peer IDs %q and %q", a1.PeerID(), a2.PeerID())
	}
	if !a1.PeerKey.Equals(a2.PeerKey) {
		t.Error("same words gave different peer keys")
	}
	if !a1.EncKey.Equal(a2.EncKey) {
		t.Error("same words gave different encryption keys")
	}
	if strings.Join(a1.Mnemonic, " ") != vectorMnemonicA {
		t.Errorf("Mnemonic = %q, want the lowercase words", a1.Mnemonic)
	}

	if a1.WalletKey.Equal(b.WalletKey) {
		t.Error("different words gave the same wallet key")
	}
	if a1.PeerID() == b.PeerID() {
		t.Error("different words gave the same peer ID")
	}
	if a1.EncKey.Equal(b.EncKey) {
		t.Error("different words gave the same encryption key")
	}

	for _, id := range []*Identity{a1, b} {
		walletSeed := id.WalletKey.Seed()
		peerRaw, err := id.PeerKey.Raw()
		if err != nil {
			t.Fatal(err)
		}
		peerSeed, encSeed := peerRaw[:32], id.EncKey.Bytes()
		if bytes.Equal(peerSeed, walletSeed) || bytes.Equal(encSeed, walletSeed) || bytes.Equal(peerSeed, encSeed) {
			t.Fatalf("derived keys are not domain-separated: wallet %x peer %x enc %x", walletSeed, peerSeed, encSeed)
		}
		walletPub := id.WalletKey.Public().(ed25519.PublicKey)
		peerPub, err := id.PeerKey.GetPublic().Raw()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(walletPub, peerPub) {
			t.Fatal("peer public key equals wallet public key")
		}
		want, err := peer.IDFromPublicKey(id.PeerKey.GetPublic())
		if err != nil {
			t.Fatal(err)
		}
		if id.PeerID() != want {
			t.Fatalf("PeerID %s does not belong to PeerKey (%s)", id.PeerID(), want)
		}
	}
}

func TestEncryptionKeysAgree(t *testing.T) {
	a := mustIdentity(t, vectorMnemonicA)
	b := mustIdentity(t, vectorMnemonicB)
	ab, err := a.EncKey.ECDH(b.EncKey.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := b.EncKey.ECDH(a.EncKey.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ab, ba) {
		t.Fatal("X25519 shared secrets differ")
	}
}

func TestFromMnemonicRejectsInvalidWords(t *testing.T) {
	words := strings.Fields(vectorMnemonicA)
	if _, err := FromMnemonic(words[:23]); err == nil || !strings.Contains(err.Error(), "23 words") {
		t.Fatalf("FromMnemonic(23 words) error = %v", err)
	}
	bad := append(words[:23:23], "qwerty")
	if _, err := FromMnemonic(bad); err == nil || !strings.Contains(err.Error(), `word 24 "qwerty"`) {
		t.Fatalf("FromMnemonic(unknown word) error = %v", err)
	}
	if _, err := FromMnemonic(strings.Fields(vectorPasswordMnemonic)); err == nil {
		t.Fatal("FromMnemonic accepted a password mnemonic")
	}
}

func TestIdentityDoesNotPrintSecrets(t *testing.T) {
	id := mustIdentity(t, vectorMnemonicA)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("started", "id", id)
	outputs := []string{
		fmt.Sprint(id), fmt.Sprintf("%v", id), fmt.Sprintf("%+v", id), fmt.Sprintf("%#v", id), fmt.Sprintf("%s", id),
		logged.String(),
	}
	secrets := []string{
		id.Mnemonic[0] + " " + id.Mnemonic[1],
		hex.EncodeToString(id.WalletKey.Seed()),
		hex.EncodeToString(id.EncKey.Bytes()),
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("output %q contains a secret", out)
			}
		}
		if !strings.Contains(out, id.PeerID().String()) {
			t.Fatalf("output %q does not name the peer ID", out)
		}
	}
}

func TestNilIdentity(t *testing.T) {
	var id *Identity
	if id.PeerID() != "" {
		t.Fatal("nil identity has a peer ID")
	}
	if _, err := id.WalletAddress(V5R1, Mainnet); err == nil {
		t.Fatal("nil identity has a wallet address")
	}
	if (&Identity{}).PeerID() != "" {
		t.Fatal("empty identity has a peer ID")
	}
}
