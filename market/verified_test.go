package market

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// signedBidV5 signs a v5r1 bid order of key's wallet on network globalID
// by hand (no chain needed).
func signedBidV5(t testing.TB, key ed25519.PrivateKey, globalID int32, item *address.Address, amount *big.Int) []byte {
	t.Helper()
	from, err := wallet.AddressFromPubKey(key.Public().(ed25519.PublicKey), wallet.ConfigV5R1Final{NetworkGlobalID: globalID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	actions, err := wallet.PackV5OutActions([]*wallet.Message{{Mode: 3, InternalMessage: &tlb.InternalMessage{
		IHRDisabled: true, Bounce: true, DstAddr: item, Amount: tlb.FromNanoTON(onchain.BidValue(amount)), Body: onchain.BidBody(7),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	payload := cell.BeginCell().
		MustStoreUInt(0x7369676e, 32).
		MustStoreUInt(uint64(wallet.V5R1ID{NetworkGlobalID: globalID}.Serialized()), 32).
		MustStoreUInt(uint64(time.Now().Add(time.Minute).Unix()), 32).
		MustStoreUInt(1, 32).
		MustStoreBuilder(actions)
	sig := payload.EndCell().Sign(key)
	ext, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: from, Body: payload.MustStoreSlice(sig, 512).EndCell()})
	if err != nil {
		t.Fatal(err)
	}
	return ext.ToBOC()
}

// A bid's wallet signature is verified once: the same bid again is found
// verified; the same order under another key or wallet version, or with
// any byte changed, is checked anew and a forged one still fails.
func TestVerifiedOrderOnce(t *testing.T) {
	_, rk, _ := ed25519.GenerateKey(rand.Reader)
	reg, err := wallet.AddressFromPubKey(rk.Public().(ed25519.PublicKey), wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	coll := onchain.Collection{Registry: reg, GlobalID: -3}
	item, err := coll.ItemAddress(onchain.Asset{Kind: onchain.Username, Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{Collection: coll}}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	order := signedBidV5(t, key, -3, item, tons(3))
	good := &Bid{Version: identity.V5R1, WalletKey: pub, Order: order}

	checks := func() (uint64, uint64) {
		st := s.Stats()
		return st.BidSignatureChecks, st.BidSignatureCacheHits
	}
	o1, err := s.verifiedOrder(good)
	if err != nil {
		t.Fatal(err)
	}
	if c, h := checks(); c != 1 || h != 0 {
		t.Fatalf("first check: %d signature checks, %d cache hits; want 1, 0", c, h)
	}
	o2, err := s.verifiedOrder(&Bid{Version: identity.V5R1, WalletKey: append([]byte(nil), pub...), Order: append([]byte(nil), order...)})
	if err != nil || o2 != o1 {
		t.Fatalf("the same bid again: %v (same order: %v)", err, o2 == o1)
	}
	if c, h := checks(); c != 1 || h != 1 {
		t.Fatalf("second check: %d signature checks, %d cache hits; want 1, 1", c, h)
	}

	// Mallory claims the verified order under her key: checked, refused.
	_, mallory, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := s.verifiedOrder(&Bid{Version: identity.V5R1, WalletKey: mallory.Public().(ed25519.PublicKey), Order: order}); err == nil {
		t.Fatal("a verified order passed under another key")
	}
	if c, _ := checks(); c != 2 {
		t.Fatalf("another key: %d signature checks, want 2 (checked anew)", c)
	}
	if _, err := s.verifiedOrder(&Bid{Version: identity.V4R2, WalletKey: pub, Order: order}); err == nil || !strings.Contains(err.Error(), "v4r2") {
		t.Fatalf("another wallet version: %v, want a refusal naming it", err)
	}
	// Her own order, forged for the victim's wallet, fails every time.
	forged := signedBidV5(t, mallory, -3, item, tons(3))
	fb := &Bid{Version: identity.V5R1, WalletKey: pub, Order: forged}
	for range 2 {
		if _, err := s.verifiedOrder(fb); err == nil {
			t.Fatal("a forged order verified")
		}
	}
	if c, h := checks(); c != 4 || h != 1 {
		t.Fatalf("forged twice: %d checks, %d hits; want 4, 1 (failures are not remembered)", c, h)
	}
	// One byte changed (the signature's last): a different entry, refused.
	tampered := append([]byte(nil), order...)
	tampered[len(tampered)-1] ^= 1
	if _, err := s.verifiedOrder(&Bid{Version: identity.V5R1, WalletKey: pub, Order: tampered}); err == nil {
		t.Fatal("a tampered copy of a verified order passed")
	}
}

// The cache keeps at most maxVerifiedBids orders, dropping the oldest.
func TestVerifiedBidsBounded(t *testing.T) {
	var v verifiedBids
	key := func(i int) [sha256.Size]byte {
		return sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	o := &onchain.BidOrder{}
	for i := range maxVerifiedBids + 10 {
		v.put(key(i), o)
	}
	if n := v.len(); n != maxVerifiedBids {
		t.Fatalf("%d orders kept, want %d", n, maxVerifiedBids)
	}
	for i := range 10 {
		if v.get(key(i)) != nil {
			t.Fatalf("order %d, among the oldest, is still kept", i)
		}
	}
	if v.get(key(10)) == nil || v.get(key(maxVerifiedBids+9)) == nil {
		t.Fatal("a recent order was dropped")
	}
}
