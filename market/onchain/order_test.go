package onchain

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// A bid order signed by a tonmesh wallet (v5r1 and v4r2) decodes to the
// bid it carries, verifies under the bidder's key only, and, relayed by
// anyone, executes on chain once.
func TestDecodeBidOrderFromWallets(t *testing.T) {
	m := newMarket(t)
	ctx := context.Background()
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(2), Duration: time.Hour}))
	bid := tons(2)
	for i, v := range []identity.WalletVersion{identity.V5R1, identity.V4R2} {
		w, key := m.newWalletKey(t, tons(50), v)
		order, err := w.SignOrder(ctx, m.item, BidValue(bid), BidBody(uint64(40+i)), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		bo, err := DecodeBidOrder(order.BOC, m.coll)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if !sameAddr(bo.Bidder, w.Address()) || !sameAddr(bo.Item, m.item) || bo.Amount.Cmp(bid) != 0 ||
			bo.Value.Cmp(BidValue(bid)) != 0 || bo.QueryID != uint64(40+i) || bo.Seqno != order.Seqno ||
			!bo.ValidUntil.Equal(order.ValidUntil.Truncate(time.Second)) || bo.Wallet != string(v) || !bo.Deploys || len(bo.Hash) != 32 {
			t.Fatalf("%s: decoded %+v from order %+v", v, bo, order)
		}
		if err := bo.Verify(key.Public().(ed25519.PublicKey)); err != nil {
			t.Fatalf("%s: genuine order does not verify: %v", v, err)
		}
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		if err := bo.Verify(other.Public().(ed25519.PublicKey)); err == nil {
			t.Fatalf("%s: verified under a stranger's key", v)
		}
		// Relayed by anyone: it executes; the item takes the bid.
		hash, err := m.Chain.SendExternal(ctx, order.BOC)
		if err != nil {
			t.Fatalf("%s: relay: %v", v, err)
		}
		if string(hash) != string(bo.Hash) {
			t.Fatalf("%s: chain hash %x, decoded %x", v, hash, bo.Hash)
		}
		if a := m.auction(t); !sameAddr(a.Leader, w.Address()) || a.LeadingBid.Cmp(bid) != 0 {
			t.Fatalf("%s: relayed bid not leading: %+v", v, a)
		}
		// Replayed: the wallet refuses it, nothing changes.
		if _, err := m.Chain.SendExternal(ctx, order.BOC); !errors.Is(err, ton.ErrRejected) {
			t.Fatalf("%s: replay answered %v, want ErrRejected", v, err)
		}
		bid = NextMinBid(bid, DefaultStepPercent, tons(2), true)
	}
}

// orderV5 signs a v5r1 order by hand, so tests can make the ones a tonmesh
// wallet never would.
func orderV5(t testing.TB, key ed25519.PrivateKey, from *address.Address, globalID int32, extended bool, msgs ...*wallet.Message) []byte {
	t.Helper()
	actions, err := wallet.PackV5OutActions(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if extended {
		actions = cell.BeginCell().MustStoreUInt(1, 1).MustStoreRef(cell.BeginCell().EndCell()).MustStoreUInt(1, 1)
	}
	id := wallet.V5R1ID{NetworkGlobalID: globalID, WorkChain: 0}
	payload := cell.BeginCell().
		MustStoreUInt(v5SignedExternal, 32).
		MustStoreUInt(uint64(id.Serialized()), 32).
		MustStoreUInt(uint64(time.Now().Add(time.Minute).Unix()), 32).
		MustStoreUInt(3, 32).
		MustStoreBuilder(actions)
	sig := payload.EndCell().Sign(key)
	body := payload.MustStoreSlice(sig, 512).EndCell()
	ext, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: from, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return ext.ToBOC()
}

func bidMsg(to *address.Address, value *big.Int, body *cell.Cell, bounce bool, mode uint8) *wallet.Message {
	return &wallet.Message{Mode: mode, InternalMessage: &tlb.InternalMessage{
		IHRDisabled: true, Bounce: bounce, DstAddr: to, Amount: tlb.FromNanoTON(value), Body: body,
	}}
}

func testColl(t testing.TB) (Collection, *address.Address) {
	t.Helper()
	_, rk, _ := ed25519.GenerateKey(rand.Reader)
	reg, err := wallet.AddressFromPubKey(rk.Public().(ed25519.PublicKey), wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := Collection{Registry: reg, GlobalID: -3}
	item, err := c.ItemAddress(Asset{Kind: Username, Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return c, item
}

// Orders that are not a single bounceable bid of a named value, or that are
// signed for another network, are refused with a reason; a forged one
// decodes but does not verify.
func TestDecodeBidOrderRefusals(t *testing.T) {
	c, item := testColl(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	from, err := wallet.AddressFromPubKey(pub, wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	good := bidMsg(item, BidValue(tons(3)), BidBody(1), true, 3)
	bo, err := DecodeBidOrder(orderV5(t, key, from, -3, false, good), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := bo.Verify(pub); err != nil || bo.Amount.Cmp(tons(3)) != 0 || bo.Deploys {
		t.Fatalf("hand-made order: %+v, verify %v", bo, err)
	}
	// Forged: signed by mallory for the victim's wallet.
	_, mallory, _ := ed25519.GenerateKey(rand.Reader)
	forged, err := DecodeBidOrder(orderV5(t, mallory, from, -3, false, good), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := forged.Verify(pub); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("forged order: verify %v", err)
	}
	if err := forged.Verify(mallory.Public().(ed25519.PublicKey)); err == nil {
		t.Fatal("forged order verified under the forger's key for the victim's address")
	}

	for _, c2 := range []struct {
		name string
		boc  []byte
		says string
	}{
		{"two messages", orderV5(t, key, from, -3, false, good, good), "exactly one"},
		{"no message", orderV5(t, key, from, -3, false), "exactly one"},
		{"extended actions", orderV5(t, key, from, -3, true, good), "extended"},
		{"another network", orderV5(t, key, from, -239, false, good), "another network"},
		{"not bounceable", orderV5(t, key, from, -3, false, bidMsg(item, BidValue(tons(3)), BidBody(1), false, 3)), "bounceable"},
		{"carry-all mode", orderV5(t, key, from, -3, false, bidMsg(item, BidValue(tons(3)), BidBody(1), true, 128)), "mode"},
		{"not a bid", orderV5(t, key, from, -3, false, bidMsg(item, BidValue(tons(3)), SettleBody(1), true, 3)), "not a bid"},
		{"comment", orderV5(t, key, from, -3, false, bidMsg(item, BidValue(tons(3)), nil, true, 3)), "not a bid"},
		{"gas only", orderV5(t, key, from, -3, false, bidMsg(item, big.NewInt(BidGas), BidBody(1), true, 3)), "gas"},
		{"empty", nil, "empty"},
		{"garbage", []byte("not a boc at all"), "BOC"},
	} {
		_, err := DecodeBidOrder(c2.boc, c)
		if err == nil || !strings.Contains(err.Error(), c2.says) {
			t.Errorf("%s: DecodeBidOrder error %v, want one about %q", c2.name, err, c2.says)
		}
	}
	// An internal message is not an order.
	in, _ := tlb.ToCell(good.InternalMessage)
	if _, err := DecodeBidOrder(in.ToBOC(), c); err == nil {
		t.Error("an internal message decoded as an order")
	}
}

func FuzzDecodeBidOrder(f *testing.F) {
	c, item := testColl(f)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	from, _ := wallet.AddressFromPubKey(key.Public().(ed25519.PublicKey), wallet.ConfigV5R1Final{NetworkGlobalID: -3}, 0)
	good := bidMsg(item, BidValue(tons(3)), BidBody(1), true, 3)
	f.Add(orderV5(f, key, from, -3, false, good))
	f.Add(orderV5(f, key, from, -3, false, good, good))
	f.Add(orderV5(f, key, from, -3, true, good))
	// A v4r2 order.
	mc, _ := tlb.ToCell(good.InternalMessage)
	payload := cell.BeginCell().MustStoreUInt(v4r2SubwalletID, 32).MustStoreUInt(uint64(time.Now().Unix()), 32).
		MustStoreUInt(0, 32).MustStoreUInt(0, 8).MustStoreUInt(3, 8).MustStoreRef(mc)
	sig := payload.EndCell().Sign(key)
	v4, _ := tlb.ToCell(&tlb.ExternalMessage{DstAddr: from, Body: cell.BeginCell().MustStoreSlice(sig, 512).MustStoreBuilder(payload).EndCell()})
	f.Add(v4.ToBOC())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, boc []byte) {
		bo, err := DecodeBidOrder(boc, c)
		if err != nil {
			return
		}
		if bo.Bidder == nil || bo.Item == nil || bo.Amount == nil || bo.Amount.Sign() <= 0 ||
			new(big.Int).Sub(bo.Value, bo.Amount).Cmp(big.NewInt(BidGas)) != 0 || len(bo.Hash) != 32 {
			t.Fatalf("accepted order with inconsistent fields: %+v", bo)
		}
		_ = bo.Verify(key.Public().(ed25519.PublicKey))
	})
}

func FuzzParseAsset(f *testing.F) {
	for _, s := range []string{"@alice", "Alice", "+888 1234 5678", "88812345678", "+888-1234-5678", "@a", "", "+", "8", "@_x", "@ab\x00cd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAsset(s)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("ParseAsset(%q) = %+v, which does not validate: %v", s, a, err)
		}
		back, err := ParseAsset(a.String())
		if err != nil || back != a {
			t.Fatalf("ParseAsset(%q).String() = %q does not parse back: %+v %v", s, a.String(), back, err)
		}
		if a.Index().BitLen() > 256 {
			t.Fatal("index over 256 bits")
		}
	})
}
