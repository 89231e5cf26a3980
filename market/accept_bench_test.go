package market

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/ton/wallet"

	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// BenchmarkAcceptBid is one bid's validation (decode, signature, view) on
// an auction known from its listing, beside one raw Ed25519 verify: the
// ratio of the two is what a bid costs in verifies.
func BenchmarkAcceptBid(b *testing.B) {
	_, rk, _ := ed25519.GenerateKey(rand.Reader)
	reg, err := wallet.AddressFromPubKey(rk.Public().(ed25519.PublicKey), wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0)
	if err != nil {
		b.Fatal(err)
	}
	coll := onchain.Collection{Registry: reg, GlobalID: -3}
	asset := onchain.Asset{Kind: onchain.Username, Name: "alice"}
	item, err := coll.ItemAddress(asset)
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	bids := make([]*Bid, n)
	amount := tons(1)
	for i := range bids {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		bids[i] = &Bid{Asset: asset, Version: identity.V5R1, WalletKey: key.Public().(ed25519.PublicKey), Order: signedBidV5(b, key, -3, item, amount)}
		amount = onchain.NextMinBid(amount, 1, tons(1), true)
	}
	b.Run("accept", func(b *testing.B) {
		i := 0
		var s *Service
		for b.Loop() {
			if i%n == 0 {
				b.StopTimer()
				s = benchService(coll, asset, item)
				b.StartTimer()
			}
			if err := s.acceptBid(context.Background(), bids[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("ed25519", func(b *testing.B) {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		msg := make([]byte, 32)
		sig := ed25519.Sign(key, msg)
		pub := key.Public().(ed25519.PublicKey)
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
}

// benchService is a market service with no network: an auction of asset
// known from its listing, for the validator alone.
func benchService(coll onchain.Collection, asset onchain.Asset, item *address.Address) *Service {
	now := time.Now()
	s := &Service{
		cfg: Config{Collection: coll}, log: slog.New(slog.DiscardHandler),
		auctions: map[string]*auction{}, known: map[string]onchain.Asset{}, orders: map[string]time.Time{},
		seqnos: map[string]seenSeqno{}, items: map[string]*address.Address{asset.Name: item},
		hooks: map[int]func(AcceptedBid){}, relayq: make(chan relayed, 1),
	}
	s.auctions[asset.Name] = &auction{asset: asset, item: item, listing: &Listing{
		Asset: asset, Item: item, Started: now, End: now.Add(time.Hour),
		Params: onchain.AuctionParams{MinBid: tons(1), StepPercent: 1, Duration: time.Hour},
	}}
	return s
}
