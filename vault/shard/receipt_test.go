package shard

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func testPeerKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, id
}

func testReceipt(t testing.TB) *Receipt {
	t.Helper()
	priv, id := testPeerKey(t)
	r, err := signReceipt(priv, id, CIDOf([]byte("shard")), 5, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReceiptRoundTrip(t *testing.T) {
	r := testReceipt(t)
	if err := r.Verify(); err != nil {
		t.Fatalf("fresh receipt: %v", err)
	}
	got, err := UnmarshalReceipt(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !got.CID.Equals(r.CID) || got.Size != r.Size || got.Holder != r.Holder || !got.Time.Equal(r.Time) {
		t.Fatalf("round trip: got %+v, want %+v", got, r)
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("decoded receipt: %v", err)
	}
}

func TestReceiptTampered(t *testing.T) {
	_, other := testPeerKey(t)
	for name, tamper := range map[string]func(r *Receipt){
		"cid":       func(r *Receipt) { r.CID = CIDOf([]byte("other")) },
		"size":      func(r *Receipt) { r.Size++ },
		"time":      func(r *Receipt) { r.Time = r.Time.Add(time.Millisecond) },
		"holder":    func(r *Receipt) { r.Holder = other },
		"signature": func(r *Receipt) { r.Signature[3] ^= 1 },
		"unsigned":  func(r *Receipt) { r.Signature = nil },
	} {
		r := testReceipt(t)
		tamper(r)
		if err := r.Verify(); !errors.Is(err, errBadReceipt) {
			t.Errorf("receipt with altered %s: Verify() = %v", name, err)
		}
	}
}

func TestUnmarshalReceiptRefuses(t *testing.T) {
	good := testReceipt(t).Marshal()
	for name, b := range map[string][]byte{
		"empty":    nil,
		"version":  append([]byte{2}, good[1:]...),
		"trailing": append(append([]byte(nil), good...), 0),
		"short":    good[:len(good)-1],
	} {
		if _, err := UnmarshalReceipt(b); err == nil {
			t.Errorf("UnmarshalReceipt accepted %s input", name)
		}
	}
}
