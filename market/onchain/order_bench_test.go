package onchain

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/ton/wallet"
)

// The parts of checking one bid order, each beside a raw Ed25519 verify.
func BenchmarkBidOrder(b *testing.B) {
	c, item := testColl(b)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	from, err := wallet.AddressFromPubKey(pub, wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0)
	if err != nil {
		b.Fatal(err)
	}
	boc := orderV5(b, key, from, -3, false, bidMsg(item, BidValue(tons(3)), BidBody(1), true, 3))
	bo, err := DecodeBidOrder(boc, c)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeBidOrder(boc, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if err := bo.Verify(pub); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("address", func(b *testing.B) {
		for b.Loop() {
			if _, err := wallet.AddressFromPubKey(pub, wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, bo.signed, bo.signature) {
				b.Fatal("no")
			}
		}
	})
}

// A wallet's first order carries its state init (the wallet code).
func BenchmarkBidOrderDeploying(b *testing.B) {
	m := newMarket(b)
	w, key := m.newWalletKey(b, tons(50), identity.V5R1)
	order, err := w.SignOrder(context.Background(), m.item, BidValue(tons(2)), BidBody(1), true, nil)
	if err != nil {
		b.Fatal(err)
	}
	bo, err := DecodeBidOrder(order.BOC, m.coll)
	if err != nil || !bo.Deploys {
		b.Fatalf("%v, deploys %v", err, bo != nil && bo.Deploys)
	}
	pub := key.Public().(ed25519.PublicKey)
	b.Logf("order BOC: %d bytes", len(order.BOC))
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeBidOrder(order.BOC, m.coll); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := ton.ParseExternal(order.BOC); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if err := bo.Verify(pub); err != nil {
				b.Fatal(err)
			}
		}
	})
}
