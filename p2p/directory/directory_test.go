package directory

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

func newID(t *testing.T) *identity.Identity {
	t.Helper()
	w, err := identity.NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.FromMnemonic(w)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// record builds a directory record for owner's wallet, letting the test
// swap who signs what.
func record(t *testing.T, key string, signer, walletHolder *identity.Identity, peerID string, e func(*Entry)) *p2p.SignedRecord {
	t.Helper()
	entry := Entry{PeerID: peerID, WalletKey: walletHolder.WalletKey.Public().(ed25519.PublicKey),
		WalletVersion: "v5r1", Network: "emu", Sig: ed25519.Sign(walletHolder.WalletKey, signedBytes(key, peerID))}
	if e != nil {
		e(&entry)
	}
	val, _ := json.Marshal(entry)
	rec, err := p2p.NewSignedRecord(signer.PeerKey, Namespace, key, 1, time.Hour, val)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestValidate(t *testing.T) {
	alice, mallory := newID(t), newID(t)
	addr, err := alice.WalletAddress(identity.V5R1, identity.Emu)
	if err != nil {
		t.Fatal(err)
	}
	key, pid := addr.StringRaw(), alice.PeerID().String()
	if err := validate(record(t, key, alice, alice, pid, nil)); err != nil {
		t.Fatalf("alice's own record refused: %v", err)
	}
	cases := map[string]*p2p.SignedRecord{
		"mallory claims alice's wallet for her peer":  record(t, key, mallory, mallory, mallory.PeerID().String(), nil),
		"signed by a peer other than the one named":   record(t, key, mallory, alice, pid, nil),
		"wallet version that derives another address": record(t, key, alice, alice, pid, func(e *Entry) { e.WalletVersion = "v4r2" }),
		"signature over another peer": record(t, key, alice, alice, pid, func(e *Entry) {
			e.Sig = ed25519.Sign(alice.WalletKey, signedBytes(key, mallory.PeerID().String()))
		}),
		"short wallet key": record(t, key, alice, alice, pid, func(e *Entry) { e.WalletKey = e.WalletKey[:10] }),
		"unknown network":  record(t, key, alice, alice, pid, func(e *Entry) { e.Network = "moon" }),
	}
	for name, rec := range cases {
		if err := validate(rec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDecodeEntryStrict(t *testing.T) {
	for _, in := range []string{``, `{}`, `{"peer_id":"x","extra":1}`, `{"peer_id":"x"} {}`, strings.Repeat(" ", maxEntry+1)} {
		if _, err := decodeEntry([]byte(in)); err == nil {
			t.Errorf("decodeEntry(%.30q) accepted", in)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"peer_id":"12D3KooW","wallet_key":"AAAA","wallet_version":"v5r1","network":"emu","sig":"AAAA"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		if len(e.WalletKey) != ed25519.PublicKeySize || len(e.Sig) != ed25519.SignatureSize {
			t.Fatalf("accepted an entry with bad sizes: %+v", e)
		}
	})
}
