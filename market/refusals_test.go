package market

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// testRefusals runs while node 0 leads asset at 10 TON (the chain's
// minimum next bid is 11): a forged, a tampered, a replayed and a too-low
// bid are each refused by every validator and by the chain, and a peer
// that gossips a forged bid is scored down.
func testRefusals(ctx context.Context, t *testing.T, c *mcluster, asset onchain.Asset, item *address.Address, replay []byte) {
	b2, b3 := c.nodes[2], c.nodes[3]
	w2, _ := b2.ledger.Wallet()
	pub2 := b2.peer.Identity.WalletKey.Public().(ed25519.PublicKey)
	chain := c.chain()
	bid := func(order []byte, key ed25519.PublicKey) []byte {
		p, err := encodeBid(&Bid{Asset: asset, Version: identity.V5R1, WalletKey: key, Order: order})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	refused := func(what string, payload []byte, want string) {
		t.Helper()
		for _, n := range c.nodes[:4] {
			err := n.svc.validate(ctx, b2.peer.Net.ID(), payload)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: validator of %s said %v, want an error containing %q", what, n.peer.Net.ID(), err, want)
			}
		}
	}

	// Every node has read the chain since node 0's bid.
	for _, n := range c.nodes[:4] {
		if err := n.svc.reconcile(ctx, asset); err != nil {
			t.Fatal(err)
		}
	}

	// Forged: an order signed by another wallet, claiming node 2's key.
	words, _ := identity.NewMnemonic()
	atk, err := identity.FromMnemonic(words)
	if err != nil {
		t.Fatal(err)
	}
	atkWallet, err := wallet.New(chain, atk.WalletKey, identity.V5R1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Faucet(ctx, atkWallet.Address(), tons(50)); err != nil {
		t.Fatal(err)
	}
	other, err := atkWallet.SignOrder(ctx, item, onchain.BidValue(tons(20)), onchain.BidBody(2), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged := bid(other.BOC, pub2)
	refused("order of another wallet", forged, "not the bidder")

	// Tampered: node 2's genuine order with one signature bit flipped.
	genuine, err := w2.SignOrder(ctx, item, onchain.BidValue(tons(20)), onchain.BidBody(3), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	tampered := flipSignatureBit(t, genuine.BOC)
	refused("tampered signature", bid(tampered, pub2), "signature does not verify")
	if _, err := chain.SendExternal(ctx, tampered); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("the chain took a tampered order: %v", err)
	}

	// Replayed: node 0's executed first bid.
	refused("replayed order", replay, "already accepted")
	if _, err := chain.SendExternal(ctx, mustOrder(t, replay)); !errors.Is(err, ton.ErrRejected) {
		t.Fatalf("the chain took a replayed order: %v", err)
	}

	// Too low: 10.5 TON when the minimum is 11.
	low, err := w2.SignOrder(ctx, item, onchain.BidValue(new(big.Int).Div(tons(21), big.NewInt(2))), onchain.BidBody(4), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	refused("too-low bid", bid(low.BOC, pub2), "below the minimum")
	if err := b2.svc.PublishBid(ctx, asset, low.BOC, pub2, identity.V5R1); err == nil {
		t.Fatal("this node's own validator let a too-low bid out")
	}
	rc, err := w2.SubmitOrder(ctx, low)
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.svc.delivered(ctx, item, rc); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "exit code 210") {
		t.Fatalf("the item's answer to a too-low bid: %v, want exit code 210", err)
	}

	// A peer gossiping the forged bid is scored down and reaches nobody.
	before := make([]uint64, 4)
	for i, n := range c.nodes[:4] {
		before[i] = n.svc.Stats().BidsAccepted
	}
	atkID := gossipRaw(ctx, t, b3, forged)
	waitFor(t, "the attacker's score going down", func() bool { return b3.peer.Net.PeerScore(atkID) < 0 })
	for i, n := range c.nodes[:4] {
		if got := n.svc.Stats().BidsAccepted; got != before[i] {
			t.Errorf("node %d accepted %d bids while only a forged one was gossiped", i, got-before[i])
		}
	}
	if in, _ := b3.svc.Auction(asset); in.Leader != fmtAddr(c.nodes[0].addr) {
		t.Errorf("leader after the refusals is %s, want node 0", in.Leader)
	}
}

// flipSignatureBit returns the v5r1 order boc with its signature's last
// bit flipped.
func flipSignatureBit(t *testing.T, boc []byte) []byte {
	t.Helper()
	ext, err := ton.ParseExternal(boc)
	if err != nil {
		t.Fatal(err)
	}
	in := ext.Msg.Msg.(*tlb.ExternalMessage)
	body := in.Body
	sl, _ := body.BeginParse()
	bits, err := sl.LoadSlice(body.BitsSize())
	if err != nil {
		t.Fatal(err)
	}
	last := (body.BitsSize() - 1) / 8
	bits[last] ^= 0x80 >> ((body.BitsSize() - 1) % 8)
	b := cell.BeginCell().MustStoreSlice(bits, body.BitsSize())
	for i := 0; i < int(body.RefsNum()); i++ {
		r, _ := body.PeekRef(i)
		b.MustStoreRef(r)
	}
	in.Body = b.EndCell()
	out, err := tlb.ToCell(in)
	if err != nil {
		t.Fatal(err)
	}
	return out.ToBOC()
}

func mustOrder(t *testing.T, payload []byte) []byte {
	t.Helper()
	m, err := decodeMessage(payload)
	if err != nil || m.Bid == nil {
		t.Fatalf("not a bid: %v", err)
	}
	return m.Bid.Order
}

// gossipRaw publishes payload on the market topic from a fresh libp2p host
// with no validator of its own, connected to n; it returns the host's ID.
func gossipRaw(ctx context.Context, t *testing.T, n *mnode, payload []byte) peer.ID {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithFloodPublish(true))
	if err != nil {
		t.Fatal(err)
	}
	top, err := ps.Join(TopicName)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := top.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Cancel)
	if err := h.Connect(ctx, peer.AddrInfo{ID: n.peer.Net.ID(), Addrs: n.peer.Net.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the attacker in the topic", func() bool {
		for _, p := range top.ListPeers() {
			if p == n.peer.Net.ID() {
				return true
			}
		}
		return false
	})
	// The p2p envelope: version 1, unix milliseconds, length-prefixed payload.
	env := binary.BigEndian.AppendUint64([]byte{1}, uint64(time.Now().UnixMilli()))
	env = wire.AppendLenPrefixed(env, payload)
	if err := top.Publish(ctx, bytes.Clone(env)); err != nil {
		t.Fatal(err)
	}
	return h.ID()
}
