package onchain

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Item is an asset's item contract as the chain holds it now.
type Item struct {
	Asset   Asset
	Address *address.Address
	// Minted is false while the item is not deployed (or deployed by
	// someone but never initialised by the collection); Owner is nil then.
	Minted bool
	Owner  *address.Address
	// FeePercent is the network fee the item pays on a sale.
	FeePercent uint8
	// Auction is nil when none is running (or waiting to be settled).
	Auction *Auction
	// Balance in nanoTON: the storage reserve plus the leading bid.
	Balance *big.Int
}

// Auction is an item's running (or ended, unsettled) auction.
type Auction struct {
	// Seller is the owner who started it; Leader the leading bidder, nil
	// before the first bid.
	Seller, Leader *address.Address
	// LeadingBid (0 before the first bid), MinNextBid (what the next bid
	// must reach), MaxBid (buy-now price, nil for none) and MinBid, in
	// nanoTON.
	LeadingBid, MinNextBid, MaxBid, MinBid *big.Int
	StepPercent                            uint8
	// End is when bidding stops (bids move it; see Extension).
	End       time.Time
	Extension time.Duration
	// Bids is how many bids were accepted.
	Bids int
}

// Ended reports whether bidding is over at now (settle is then allowed).
func (a *Auction) Ended(now time.Time) bool { return !now.Before(a.End) }

// ReadItem reads a's item in collection c. An item not deployed is
// returned with Minted false, not an error.
func ReadItem(ctx context.Context, chain ton.Chain, c Collection, a Asset) (*Item, error) {
	addr, err := c.ItemAddress(a)
	if err != nil {
		return nil, err
	}
	acct, err := chain.Account(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("market: read item %s of %s: %w", addr, a, err)
	}
	it := &Item{Asset: a, Address: addr, Balance: acct.Balance}
	if acct.Status != ton.StatusActive {
		return it, nil
	}
	res, err := chain.RunGetMethod(ctx, addr, "get_item_data")
	if err != nil {
		return nil, fmt.Errorf("market: read item %s of %s: %w", addr, a, err)
	}
	if err := it.fill(res); err != nil {
		return nil, fmt.Errorf("market: item %s of %s: get_item_data: %w", addr, a, err)
	}
	if !it.Minted {
		return it, nil
	}
	res, err = chain.RunGetMethod(ctx, addr, "get_auction_data")
	if err != nil {
		return nil, fmt.Errorf("market: read auction of %s: %w", a, err)
	}
	if it.Auction, err = auctionOf(res, it.Owner); err != nil {
		return nil, fmt.Errorf("market: item %s of %s: get_auction_data: %w", addr, a, err)
	}
	return it, nil
}

// fill reads get_item_data: (minted, index, collection, owner, name,
// registry, fee_percent).
func (it *Item) fill(res []any) error {
	if len(res) != 7 {
		return fmt.Errorf("%d values, want 7: is it a market item?", len(res))
	}
	ints, err := intsOf([]any{res[0], res[1], res[6]})
	if err != nil {
		return err
	}
	if ints[1].Cmp(it.Asset.Index()) != 0 {
		return fmt.Errorf("index %x is not the index of %s", ints[1], it.Asset)
	}
	it.Minted = ints[0].Sign() != 0
	if !it.Minted {
		return nil
	}
	if it.Owner, err = addrOf(res[3]); err != nil || it.Owner == nil {
		return fmt.Errorf("owner: %v", err)
	}
	name, ok := res[4].(*cell.Cell)
	if !ok {
		return fmt.Errorf("name is %T, want a cell", res[4])
	}
	ns, err := name.BeginParse()
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if got, err := ns.LoadSlice(name.BitsSize()); err != nil || string(got) != it.Asset.Name {
		return fmt.Errorf("name %q is not %q", got, it.Asset.Name)
	}
	it.FeePercent = uint8(ints[2].Uint64())
	return nil
}

// auctionOf reads get_auction_data: (active, leader, leading_bid,
// min_next_bid, max_bid, min_bid, step, end, extension, bids).
func auctionOf(res []any, owner *address.Address) (*Auction, error) {
	if len(res) != 10 {
		return nil, fmt.Errorf("%d values, want 10", len(res))
	}
	active, ok := res[0].(*big.Int)
	if !ok {
		return nil, fmt.Errorf("active flag is %T, want an integer", res[0])
	}
	if active.Sign() == 0 {
		return nil, nil
	}
	leader, err := addrOf(res[1])
	if err != nil {
		return nil, fmt.Errorf("leader: %w", err)
	}
	n, err := intsOf(res[2:])
	if err != nil {
		return nil, err
	}
	a := &Auction{
		Seller:      owner,
		Leader:      leader,
		LeadingBid:  n[0],
		MinNextBid:  n[1],
		MinBid:      n[3],
		StepPercent: uint8(n[4].Uint64()),
		End:         time.Unix(n[5].Int64(), 0),
		Extension:   time.Duration(n[6].Int64()) * time.Second,
		Bids:        int(n[7].Int64()),
	}
	if n[2].Sign() != 0 {
		a.MaxBid = n[2]
	}
	return a, nil
}
