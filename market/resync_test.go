package market

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/multiformats/go-multiaddr"

	"github.com/tonmesh/tonmesh/market/onchain"
)

// partition cuts n off from the others, as a partition does: nobody
// accepts new connections (a node whose peers all left would re-dial its
// bootstrap peers at once) and n's connections are closed. The others
// keep theirs. It returns heal, which makes everyone reachable again.
func partition(t *testing.T, n *mnode, others ...*mnode) (heal func()) {
	t.Helper()
	listening := make(map[*swarm.Swarm][]multiaddr.Multiaddr)
	for _, m := range append([]*mnode{n}, others...) {
		sw, ok := m.peer.Net.Host().Network().(*swarm.Swarm)
		if !ok {
			t.Skip("the host's network is not a libp2p swarm")
		}
		listening[sw] = sw.ListenAddresses()
		sw.ListenClose(listening[sw]...)
	}
	nw := n.peer.Net.Host().Network()
	for _, p := range nw.Peers() {
		_ = nw.ClosePeer(p)
	}
	return func() {
		t.Helper()
		for sw, addrs := range listening {
			if err := sw.Listen(addrs...); err != nil {
				t.Fatalf("listen again on %v: %v", addrs, err)
			}
		}
	}
}

// TestPartitionedNodeCatchesUp: a node cut off from the network misses an
// auction's listing and its bid; when it connects again — without a
// restart — it syncs from the peer it reached and its view agrees with
// the chain.
func TestPartitionedNodeCatchesUp(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg, seller, cut := c.nodes[0], c.nodes[1], c.nodes[2]
	c.fund(reg, tons(100))
	c.fund(seller, tons(100))
	asset := mustAsset(t, "@missed_it")
	if _, err := reg.svc.Mint(ctx, asset, seller.addr); err != nil {
		t.Fatal(err)
	}

	heal := partition(t, cut, reg, seller)
	p := onchain.AuctionParams{MinBid: tons(10), StepPercent: 5, Duration: 10 * time.Minute, Extension: 10 * time.Second}
	if _, err := seller.svc.StartAuction(ctx, asset, p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the listing at the bidder's node", func() bool { _, ok := reg.svc.Auction(asset); return ok })
	if _, err := reg.svc.Bid(ctx, asset, tons(10)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bid on chain", func() bool {
		it := c.item(asset)
		return it.Auction != nil && equalAddr(it.Auction.Leader, reg.addr)
	})
	if _, ok := cut.svc.Auction(asset); ok {
		t.Fatal("the isolated node heard of the auction: the test partitions nothing")
	}

	// Heal: the node reaches one peer again.
	heal()
	// (Its dials during the partition failed: past the dial backoff.)
	if err := cut.peer.Net.Host().Connect(network.WithForceDirectDial(ctx, "heal"), peer.AddrInfo{ID: reg.peer.Net.ID(), Addrs: reg.peer.Net.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the healed node to agree with the chain", func() bool {
		in, ok := cut.svc.Auction(asset)
		return ok && in.Seller == fmtAddr(seller.addr) && in.Leader == fmtAddr(reg.addr) &&
			in.LeadingBid != nil && in.LeadingBid.Nano == tons(10).String()
	})
}
