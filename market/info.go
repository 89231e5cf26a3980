package market

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market/onchain"
)

// AuctionInfo is an auction as this node sees it.
type AuctionInfo struct {
	Asset       string  `json:"asset"`
	Item        string  `json:"item"`
	Seller      string  `json:"seller"`
	Leader      string  `json:"leader,omitempty"`
	LeadingBid  *Amount `json:"leading_bid,omitempty"`
	MinNextBid  Amount  `json:"min_next_bid"`
	MinBid      Amount  `json:"min_bid"`
	BuyNow      *Amount `json:"buy_now,omitempty"`
	StepPercent uint8   `json:"step_percent"`
	Extension   string  `json:"extension"`
	Bids        int     `json:"bids"`
	Ends        string  `json:"ends"` // RFC 3339, UTC
	TimeLeft    string  `json:"time_left"`
	// Ended: bidding is over; it waits for a settle.
	Ended bool `json:"ended"`
	// Confirmed: the leading bid is on chain; false while it is known
	// from gossip only.
	Confirmed bool `json:"confirmed"`
}

// ResultInfo is how an asset's last auction ended.
type ResultInfo struct {
	Sold    bool    `json:"sold"`
	Seller  string  `json:"seller"`
	Winner  string  `json:"winner,omitempty"`
	Price   *Amount `json:"price,omitempty"`
	Fee     *Amount `json:"fee,omitempty"`
	Ended   string  `json:"ended"`
	Settled string  `json:"settled"`
}

// AssetInfo is an asset: its owner on chain, its auction and its last result.
type AssetInfo struct {
	Asset      string       `json:"asset"`
	Item       string       `json:"item"`
	Minted     bool         `json:"minted"`
	Owner      string       `json:"owner,omitempty"`
	Auction    *AuctionInfo `json:"auction,omitempty"`
	LastResult *ResultInfo  `json:"last_result,omitempty"`
}

// ResolveResult answers a resolve: an asset's owner, or an address's assets.
type ResolveResult struct {
	Query  string      `json:"query"`
	Asset  *AssetInfo  `json:"asset,omitempty"`
	Owner  string      `json:"owner,omitempty"`
	Assets []AssetInfo `json:"assets,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// infoLocked renders a's effective state. s.mu is held.
func (s *Service) infoLocked(a *auction, now time.Time) (*AuctionInfo, bool) {
	st, ok := a.effective(now)
	if !ok || !st.open {
		return nil, false
	}
	in := &AuctionInfo{
		Asset: a.asset.String(), Item: s.fmtAddr(a.item), Seller: s.fmtAddr(st.seller), Leader: s.fmtAddr(st.leader),
		LeadingBid: amountPtr(st.leading), MinNextBid: amountOf(st.minNext), MinBid: amountOf(st.minBid),
		BuyNow: amountPtr(st.maxBid), StepPercent: st.step, Extension: st.extension.String(), Bids: st.bids,
		Ends: rfc3339(st.end), Ended: !now.Before(st.end), Confirmed: st.confirmed,
	}
	if in.Ended {
		in.TimeLeft = "ended, awaiting settle"
	} else {
		in.TimeLeft = st.end.Sub(now).Round(time.Second).String()
	}
	return in, true
}

func (s *Service) resultInfo(r *Result) *ResultInfo {
	if r == nil {
		return nil
	}
	return &ResultInfo{Sold: r.Sold, Seller: s.fmtAddr(r.Seller), Winner: s.fmtAddr(r.Winner), Price: amountPtr(r.Price),
		Fee: amountPtr(r.Fee), Ended: rfc3339(r.End), Settled: rfc3339(r.Settled)}
}

// auctionInfo is asset's auction in this node's view, or ErrNotFound.
func (s *Service) auctionInfo(asset onchain.Asset) (*AuctionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.auctions[asset.Name]; a != nil {
		if in, ok := s.infoLocked(a, time.Now()); ok {
			return in, nil
		}
	}
	return nil, fmt.Errorf("%w: %s is not on auction", ErrNotFound, asset)
}

// Auction is asset's auction in this node's view, without a chain read:
// what gossip and the last reconcile made of it. ok is false when none
// is running.
func (s *Service) Auction(asset onchain.Asset) (info *AuctionInfo, ok bool) {
	in, err := s.auctionInfo(asset)
	return in, err == nil
}

// Auctions lists the running (and ended, unsettled) auctions this node
// knows, ending soonest first.
func (s *Service) Auctions() []AuctionInfo {
	now := time.Now()
	s.mu.Lock()
	out := []AuctionInfo{}
	for _, a := range s.auctions {
		if in, ok := s.infoLocked(a, now); ok {
			out = append(out, *in)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(x, y AuctionInfo) int { return strings.Compare(x.Ends+x.Asset, y.Ends+y.Asset) })
	return out
}

// Show reads asset from the chain (reconciling this node's view) and
// returns its owner, auction and last result.
func (s *Service) Show(ctx context.Context, asset onchain.Asset) (*AssetInfo, error) {
	if err := s.reconcile(ctx, asset); err != nil {
		return nil, err
	}
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	return s.assetInfo(it), nil
}

func (s *Service) assetInfo(it *onchain.Item) *AssetInfo {
	info := &AssetInfo{Asset: it.Asset.String(), Item: s.fmtAddr(it.Address), Minted: it.Minted, Owner: s.fmtAddr(it.Owner)}
	s.mu.Lock()
	if a := s.auctions[it.Asset.Name]; a != nil {
		if in, ok := s.infoLocked(a, time.Now()); ok {
			info.Auction = in
		}
		info.LastResult = s.resultInfo(a.result)
	}
	s.mu.Unlock()
	return info
}

// Resolve answers an asset ("@name", "+888 …") with its owner, or a TON
// address with the assets it owns among the items this node knows.
func (s *Service) Resolve(ctx context.Context, query string) (*ResolveResult, error) {
	if asset, err := onchain.ParseAsset(query); err == nil {
		info, err := s.Show(ctx, asset)
		if err != nil {
			return nil, err
		}
		if !info.Minted {
			return nil, fmt.Errorf("%w: %s is not minted (nobody owns it)", ErrNotFound, asset)
		}
		return &ResolveResult{Query: query, Asset: info, Owner: info.Owner}, nil
	}
	addr, err := wallet.ParseAddress(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is neither an asset (@name, +888 XXXX XXXX) nor a TON address", ErrBadRequest, query)
	}
	assets, err := s.AssetsOf(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &ResolveResult{Query: query, Owner: s.fmtAddr(addr), Assets: assets}, nil
}

// AssetsOf lists the known items owned by addr, reading each from the chain.
func (s *Service) AssetsOf(ctx context.Context, addr *address.Address) ([]AssetInfo, error) {
	s.mu.Lock()
	known := make([]onchain.Asset, 0, len(s.known))
	for _, a := range s.known {
		known = append(known, a)
	}
	s.mu.Unlock()
	slices.SortFunc(known, func(x, y onchain.Asset) int { return strings.Compare(x.Name, y.Name) })
	out := []AssetInfo{}
	for _, a := range known {
		it, err := s.readItem(ctx, a)
		if err != nil {
			return nil, err
		}
		if it.Minted && equalAddr(it.Owner, addr) {
			out = append(out, *s.assetInfo(it))
		}
	}
	return out, nil
}

// Mine lists the known items this node's wallet owns.
func (s *Service) Mine(ctx context.Context) ([]AssetInfo, error) {
	me, err := s.me()
	if err != nil {
		return nil, err
	}
	return s.AssetsOf(ctx, me)
}
