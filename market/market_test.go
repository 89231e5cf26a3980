package market

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// TestMarketAcrossNodes runs five nodes on one emulated chain (node 0 hosts
// it and is the registry): a full auction with bidders on three nodes, one
// node down during it, a late joiner that catches up from peers, the
// validator's and the contract's refusals, and login codes.
func TestMarketAcrossNodes(t *testing.T) {
	c := startCluster(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reg, seller, b2, b3, down := c.nodes[0], c.nodes[1], c.nodes[2], c.nodes[3], c.nodes[4]
	for _, n := range []*mnode{reg, seller, b2, b3} {
		c.fund(n, tons(100))
	}
	asset := mustAsset(t, "@auction_one")

	// Minting is the registry's alone.
	if _, err := seller.svc.Mint(ctx, mustAsset(t, "@not_minted"), nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("mint by a non-registry node: %v, want ErrForbidden", err)
	}
	info, err := reg.svc.Mint(ctx, asset, seller.addr)
	if err != nil {
		t.Fatal(err)
	}
	if info.Owner != fmtAddr(seller.addr) {
		t.Fatalf("minted to %s, want the seller %s", info.Owner, fmtAddr(seller.addr))
	}

	// The seller lists it: 10 TON minimum, 30 s, anti-sniping extension 10 s.
	p := onchain.AuctionParams{MinBid: tons(10), StepPercent: 5, Duration: 30 * time.Second, Extension: 10 * time.Second}
	started, err := seller.svc.StartAuction(ctx, asset, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.nodes {
		waitFor(t, "the listing on every node", func() bool {
			in, ok := n.svc.Auction(asset)
			return ok && in.Seller == fmtAddr(seller.addr) && in.MinNextBid.Nano == tons(10).String()
		})
	}
	// Node 4 goes down for the whole auction.
	down.stop()
	down.peer.Stop()
	live := c.nodes[:4]

	// A node that joins now learns the listing from its peers.
	late := c.startNode(peers.Join(t, reg.peer, nil), false)
	waitFor(t, "the late joiner's sync", func() bool {
		in, ok := late.svc.Auction(asset)
		return ok && in.Ends == started.Ends
	})
	live = append(live, late)

	item, err := c.coll.ItemAddress(asset)
	if err != nil {
		t.Fatal(err)
	}
	agree := func(who *mnode, amount *big.Int) {
		t.Helper()
		for _, n := range live {
			waitFor(t, "every node agreeing on the leader", func() bool {
				in, ok := n.svc.Auction(asset)
				return ok && in.Leader == fmtAddr(who.addr) && in.LeadingBid != nil && in.LeadingBid.Nano == amount.String()
			})
		}
	}

	// Bid 1, made by hand so that its order can be replayed later.
	w0, _ := reg.ledger.Wallet()
	first, err := w0.SignOrder(ctx, item, onchain.BidValue(tons(10)), onchain.BidBody(1), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub0 := reg.peer.Identity.WalletKey.Public().(ed25519.PublicKey)
	if err := reg.svc.PublishBid(ctx, asset, first.BOC, pub0, identity.V5R1); err != nil {
		t.Fatal(err)
	}
	if _, err := w0.SubmitOrder(ctx, first); err != nil {
		t.Fatal(err)
	}
	agree(reg, tons(10))

	replay, err := encodeBid(&Bid{Asset: asset, Version: identity.V5R1, WalletKey: pub0, Order: first.BOC})
	if err != nil {
		t.Fatal(err)
	}
	testRefusals(ctx, t, c, asset, item, replay)

	// Bid 2 from node 2, then wait for the last 10 s and bid from node 3:
	// the end moves.
	if _, err := b2.svc.Bid(ctx, asset, tons(11)); err != nil {
		t.Fatal(err)
	}
	agree(b2, tons(11))
	if _, err := b3.svc.Bid(ctx, asset, tons(11)); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bid below the minimum next bid: %v, want ErrBadRequest", err)
	}
	end := c.item(asset).Auction.End
	time.Sleep(time.Until(end.Add(-8 * time.Second)))
	last, err := b3.svc.Bid(ctx, asset, tons(12))
	if err != nil {
		t.Fatal(err)
	}
	agree(b3, tons(12))
	// The contract's rule, end = max(end, bid time + extension), moved it.
	newEnd := c.item(asset).Auction.End
	if at := bidTime(t, c, item, b3); !newEnd.After(end) || !newEnd.Equal(at.Add(10*time.Second)) || last.Ends != rfc3339(newEnd) {
		t.Fatalf("bid at %s, in the last 10 s before %s: chain end %s, view end %s", at, end, newEnd, last.Ends)
	}

	// The seller's node settles once it ends.
	waitFor(t, "the settlement", func() bool {
		it := c.item(asset)
		return it.Auction == nil && equalAddr(it.Owner, b3.addr)
	})
	chain := c.chain()
	price, fee := tons(12), new(big.Int).Div(tons(12*5), big.NewInt(100))
	proceeds := new(big.Int).Sub(price, fee)
	checkPaid := func(who string, n *mnode, op uint32, want ...*big.Int) {
		t.Helper()
		got := incoming(t, chain, n.addr, item, op)
		if len(got) != len(want) {
			t.Fatalf("%s received %v (op %#x) from the item, want %v", who, got, op, want)
		}
		for i := range got {
			if got[i].Cmp(want[i]) != 0 {
				t.Fatalf("%s received %v (op %#x), want %v", who, got, op, want)
			}
		}
	}
	checkPaid("seller", seller, onchain.OpProceeds, proceeds)
	checkPaid("registry", reg, onchain.OpRoyalty, fee)
	checkPaid("outbid node 0", reg, onchain.OpOutbid, tons(10))
	checkPaid("outbid node 2", b2, onchain.OpOutbid, tons(11))
	checkPaid("winner", b3, onchain.OpOutbid)

	// Seller and winner journal it.
	wantEntry := func(n *mnode, amount *big.Int, counterparty *mnode) {
		t.Helper()
		waitFor(t, "the auction_settled entry", func() bool {
			for _, e := range n.ledger.recorded() {
				if e.Kind == journal.KindAuctionSettled && e.Amount.Cmp(amount) == 0 && e.Counterparty == counterparty.addr.StringRaw() {
					return true
				}
			}
			return false
		})
	}
	wantEntry(seller, proceeds, b3)
	wantEntry(b3, new(big.Int).Neg(price), seller)

	for _, n := range live {
		waitFor(t, "every node showing the result", func() bool {
			_, open := n.svc.Auction(asset)
			info, err := n.svc.Show(ctx, asset)
			return !open && err == nil && info.Owner == fmtAddr(b3.addr) && info.LastResult != nil &&
				info.LastResult.Winner == fmtAddr(b3.addr) && info.LastResult.Price != nil && info.LastResult.Price.Nano == price.String()
		})
	}

	// Node 4 comes back and finds the result without being asked.
	c.restart(down)
	waitFor(t, "the restarted node catching up", func() bool {
		down.svc.mu.Lock()
		defer down.svc.mu.Unlock()
		a := down.svc.auctions[asset.Name]
		_, open := a.effective(time.Now())
		return a.result != nil && a.result.Sold && equalAddr(a.result.Winner, b3.addr) &&
			a.result.Price != nil && a.result.Price.Cmp(price) == 0 && (!open || a.chain.Auction == nil)
	})
	if _, open := down.svc.Auction(asset); open {
		t.Error("the restarted node still lists the settled auction")
	}
	mine, err := b3.svc.Mine(ctx)
	if err != nil || len(mine) != 1 || mine[0].Asset != asset.String() {
		t.Errorf("winner's assets = %+v, %v", mine, err)
	}

	testLoginCodes(ctx, t, c)
}

// bidTime is the time of the item's latest transaction from n's wallet.
func bidTime(t *testing.T, c *mcluster, item *address.Address, n *mnode) time.Time {
	t.Helper()
	txs, err := c.chain().Transactions(context.Background(), item, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(txs) - 1; i >= 0; i-- {
		if txs[i].In != nil && equalAddr(txs[i].In.Src, n.addr) {
			return time.Unix(int64(txs[i].Now), 0)
		}
	}
	t.Fatal("no transaction from the bidder on the item")
	return time.Time{}
}
