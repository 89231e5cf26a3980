package market

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Store layout (space "market"):
//
//	l/<asset>  the latest verified listing of asset (its signed message)
//	k/<asset>  an item this node knows exists ("" value)
//	v/<asset>  the view's last chain read and last result (JSON)
//	ci/<id>    a login code this node issued (JSON, the code's hash only)
//	cr/<id>    a login code this node received as an owner (JSON)
const (
	prefixListing  = "l/"
	prefixKnown    = "k/"
	prefixView     = "v/"
	prefixIssued   = "ci/"
	prefixReceived = "cr/"
)

// opOf returns a message body's 32-bit opcode, or 0.
func opOf(body *cell.Cell) uint64 {
	if body == nil || body.BitsSize() < 32 {
		return 0
	}
	sl, err := body.BeginParse()
	if err != nil {
		return 0
	}
	op, err := sl.LoadUInt(32)
	if err != nil {
		return 0
	}
	return op
}

// fmtAddr renders a as users see addresses on this network: friendly,
// non-bounceable, testnet-flagged off mainnet.
func (s *Service) fmtAddr(a *address.Address) string {
	if a == nil {
		return ""
	}
	a = a.Copy()
	a.SetTestnetOnly(s.cfg.Collection.GlobalID != onchain.MainnetGlobalID)
	return identity.FormatFriendly(a)
}

func fmtNano(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.String()
}

// Amount is a nanoTON amount with its TON rendering, as the ledger's API
// shows amounts.
type Amount struct {
	Nano string `json:"nano"`
	TON  string `json:"ton"`
}

func amountOf(n *big.Int) Amount {
	if n == nil {
		n = new(big.Int)
	}
	return Amount{Nano: n.String(), TON: wallet.FormatTON(n)}
}

func amountPtr(n *big.Int) *Amount {
	if n == nil {
		return nil
	}
	a := amountOf(n)
	return &a
}

// viewRecord is the stored form of an auction view.
type viewRecord struct {
	ReadAt time.Time     `json:"read_at"`
	Item   *itemRecord   `json:"item,omitempty"`
	Result *resultRecord `json:"result,omitempty"`
}

type itemRecord struct {
	Owner   string         `json:"owner"`
	Auction *auctionRecord `json:"auction,omitempty"`
}

type auctionRecord struct {
	Seller     string `json:"seller,omitempty"`
	Leader     string `json:"leader,omitempty"`
	LeadingBid string `json:"leading_bid"`
	MinNextBid string `json:"min_next_bid"`
	MaxBid     string `json:"max_bid,omitempty"`
	MinBid     string `json:"min_bid"`
	Step       uint8  `json:"step"`
	End        int64  `json:"end"`
	ExtensionS int64  `json:"extension_s"`
	Bids       int    `json:"bids"`
}

type resultRecord struct {
	Sold     bool      `json:"sold"`
	Seller   string    `json:"seller"`
	Winner   string    `json:"winner,omitempty"`
	Price    string    `json:"price,omitempty"`
	Fee      string    `json:"fee,omitempty"`
	End      int64     `json:"end"`
	Settled  time.Time `json:"settled"`
	Recorded bool      `json:"recorded"`
}

func rawAddr(a *address.Address) string {
	if a == nil {
		return ""
	}
	return a.StringRaw()
}

func parseRaw(s string) *address.Address {
	if s == "" {
		return nil
	}
	a, err := address.ParseRawAddr(s)
	if err != nil {
		return nil
	}
	return a
}

func parseNano(s string) *big.Int {
	if s == "" {
		return nil
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil
	}
	return n
}

func nanoStr(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.String()
}

func toItemRecord(it *onchain.Item) *itemRecord {
	if it == nil {
		return nil
	}
	r := &itemRecord{Owner: rawAddr(it.Owner)}
	if c := it.Auction; c != nil {
		r.Auction = &auctionRecord{Seller: rawAddr(c.Seller), Leader: rawAddr(c.Leader), LeadingBid: nanoStr(c.LeadingBid),
			MinNextBid: nanoStr(c.MinNextBid), MaxBid: nanoStr(c.MaxBid), MinBid: nanoStr(c.MinBid), Step: c.StepPercent,
			End: c.End.Unix(), ExtensionS: int64(c.Extension / time.Second), Bids: c.Bids}
	}
	return r
}

func fromItemRecord(asset onchain.Asset, r *itemRecord) *onchain.Item {
	if r == nil {
		return nil
	}
	it := &onchain.Item{Asset: asset, Owner: parseRaw(r.Owner), Minted: true}
	if c := r.Auction; c != nil {
		it.Auction = &onchain.Auction{Seller: parseRaw(c.Seller), Leader: parseRaw(c.Leader), LeadingBid: parseNano(c.LeadingBid),
			MinNextBid: parseNano(c.MinNextBid), MaxBid: parseNano(c.MaxBid), MinBid: parseNano(c.MinBid), StepPercent: c.Step,
			End: time.Unix(c.End, 0), Extension: time.Duration(c.ExtensionS) * time.Second, Bids: c.Bids}
		if it.Auction.LeadingBid == nil {
			it.Auction.LeadingBid = new(big.Int)
		}
	}
	return it
}

func toResultRecord(r *Result) *resultRecord {
	if r == nil {
		return nil
	}
	return &resultRecord{Sold: r.Sold, Seller: rawAddr(r.Seller), Winner: rawAddr(r.Winner), Price: nanoStr(r.Price),
		Fee: nanoStr(r.Fee), End: r.End.Unix(), Settled: r.Settled, Recorded: r.Recorded}
}

func fromResultRecord(r *resultRecord) *Result {
	if r == nil {
		return nil
	}
	return &Result{Sold: r.Sold, Seller: parseRaw(r.Seller), Winner: parseRaw(r.Winner), Price: parseNano(r.Price),
		Fee: parseNano(r.Fee), End: time.Unix(r.End, 0), Settled: r.Settled, Recorded: r.Recorded}
}

// load reads what the node knew before it stopped.
func (s *Service) load() error {
	err := s.space.Iterate([]byte(prefixKnown), func(k, _ []byte) error {
		if a, err := onchain.ParseAsset(strings.TrimPrefix(string(k), prefixKnown)); err == nil {
			s.known[a.Name] = a
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("market: load known items: %w", err)
	}
	err = s.space.Iterate([]byte(prefixListing), func(_, v []byte) error {
		m, err := decodeMessage(v)
		if err != nil || m.Listing == nil {
			s.log.Warn("dropping an unreadable stored listing", "err", err)
			return nil
		}
		l := m.Listing
		a := s.auctionLocked(l.Asset, l.Item)
		a.listing = l
		return nil
	})
	if err != nil {
		return fmt.Errorf("market: load listings: %w", err)
	}
	err = s.space.Iterate([]byte(prefixView), func(k, v []byte) error {
		asset, err := onchain.ParseAsset(strings.TrimPrefix(string(k), prefixView))
		if err != nil {
			return nil
		}
		var r viewRecord
		if err := json.Unmarshal(v, &r); err != nil {
			s.log.Warn("dropping an unreadable stored auction view", "asset", asset, "err", err)
			return nil
		}
		item, err := s.cfg.Collection.ItemAddress(asset)
		if err != nil {
			return nil
		}
		a := s.auctionLocked(asset, item)
		a.chain, a.readAt, a.result = fromItemRecord(asset, r.Item), r.ReadAt, fromResultRecord(r.Result)
		return nil
	})
	if err != nil {
		return fmt.Errorf("market: load auction views: %w", err)
	}
	return nil
}

func (s *Service) saveListing(l *Listing) {
	if err := s.space.Set([]byte(prefixListing+l.Asset.Name), l.raw); err != nil {
		s.log.Error("storing a listing failed", "asset", l.Asset, "err", err)
	}
}

func (s *Service) saveKnown(a onchain.Asset) {
	if err := s.space.Set([]byte(prefixKnown+a.Name), nil); err != nil {
		s.log.Error("storing a known item failed", "asset", a, "err", err)
	}
}

func (s *Service) saveView(a *auction) {
	s.mu.Lock()
	r := viewRecord{ReadAt: a.readAt, Item: toItemRecord(a.chain), Result: toResultRecord(a.result)}
	s.mu.Unlock()
	b, err := json.Marshal(r)
	if err == nil {
		err = s.space.Set([]byte(prefixView+a.asset.Name), b)
	}
	if err != nil {
		s.log.Error("storing an auction view failed", "asset", a.asset, "err", err)
	}
}
