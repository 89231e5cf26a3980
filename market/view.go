package market

import (
	"bytes"
	"math/big"
	"slices"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/market/onchain"
)

// auction is this node's view of one asset's auction: the last chain read
// and the bids accepted from gossip that the chain does not show yet.
// Guarded by Service.mu.
type auction struct {
	asset   onchain.Asset
	item    *address.Address
	listing *Listing      // the latest verified listing; nil if learned from chain only
	chain   *onchain.Item // the latest chain read; nil before the first
	readAt  time.Time
	pending []*pendingBid // ascending by amount; change it with addPending and prune only
	result  *Result       // the latest finished auction of this asset

	gen  uint64 // counts changes of pending
	memo effectiveMemo
}

// effectiveMemo is the last effective state computed, and what it was
// computed from: the base (chain read, listing), the pending list's
// generation, and the time. It holds from that time until the first of the
// applied pending bids expires; bids that were skipped stay skipped as time
// passes. Every validation asks for the effective state, and walking all
// pending bids each time made a bid's cost grow with the bids before it.
type effectiveMemo struct {
	set     bool
	chain   *onchain.Item
	listing *Listing
	readAt  time.Time
	gen     uint64
	at      time.Time // the time it was computed for
	until   time.Time // the earliest validUntil of the applied bids (zero: none)
	st      state
	ok      bool
}

// holds reports whether the memo is the effective state of a at now.
func (m *effectiveMemo) holds(a *auction, now time.Time) bool {
	return m.set && m.chain == a.chain && m.listing == a.listing && m.readAt.Equal(a.readAt) &&
		m.gen == a.gen && !now.Before(m.at) && (m.until.IsZero() || now.Before(m.until))
}

// pendingBid is a bid accepted from gossip and not yet seen on chain.
type pendingBid struct {
	bidder     *address.Address
	amount     *big.Int
	hash       []byte
	wallet     string
	seqno      uint32
	validUntil time.Time
	at         time.Time

	// next caches NextMinBid after this bid under nextStep and nextMin, the
	// terms it was computed for.
	next     *big.Int
	nextStep uint8
	nextMin  *big.Int
}

// minNextAfter is the minimum next bid once p leads under the given terms.
// The result is shared: callers must not modify it.
func (p *pendingBid) minNextAfter(step uint8, minBid *big.Int) *big.Int {
	if p.next == nil || p.nextStep != step || !sameAmount(p.nextMin, minBid) {
		p.next = onchain.NextMinBid(p.amount, step, minBid, true)
		p.nextStep, p.nextMin = step, minBid
	}
	return p.next
}

func sameAmount(x, y *big.Int) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return x == y || x.Cmp(y) == 0
}

// Result is how a finished auction ended, as this node learned it.
type Result struct {
	Sold     bool
	Seller   *address.Address
	Winner   *address.Address // nil when unsold
	Price    *big.Int         // nil when unsold or unknown
	Fee      *big.Int         // the registry's share, when known
	End      time.Time
	Settled  time.Time // when this node saw it settled
	Recorded bool      // journaled by this node (as seller or winner)
}

// state is an auction's effective state: the chain's, with the pending
// gossip bids on top.
type state struct {
	open       bool
	seller     *address.Address
	leader     *address.Address
	leading    *big.Int // nil before the first bid
	minNext    *big.Int
	minBid     *big.Int
	maxBid     *big.Int
	step       uint8
	end        time.Time
	extension  time.Duration
	bids       int
	confirmed  bool // the leader is what the chain shows
	chainLead  *big.Int
	chainMin   *big.Int // the minimum next bid as the chain last showed it
	chainKnown bool     // the chain was read since the listing
}

// base is the chain's (or, before any read, the listing's) state.
func (a *auction) base() (state, bool) {
	if a.chain != nil && (a.listing == nil || !a.readAt.Before(a.listing.Started)) {
		if a.chain.Auction == nil {
			return state{}, false
		}
		c := a.chain.Auction
		st := state{
			open: true, seller: a.chain.Owner, leader: c.Leader, minNext: c.MinNextBid,
			minBid: c.MinBid, maxBid: c.MaxBid, step: c.StepPercent, end: c.End,
			extension: c.Extension, bids: c.Bids, confirmed: true, chainKnown: true,
			chainMin: c.MinNextBid,
		}
		if c.Bids > 0 {
			st.leading, st.chainLead = c.LeadingBid, c.LeadingBid
		}
		if st.seller == nil && c.Seller != nil {
			st.seller = c.Seller
		}
		return st, true
	}
	if a.listing == nil {
		return state{}, false
	}
	p := a.listing.Params
	return state{
		open: true, seller: a.listing.Seller, minNext: p.MinBid, minBid: p.MinBid, maxBid: p.MaxBid,
		step: p.StepPercent, end: a.listing.End, extension: p.Extension, confirmed: true,
	}, true
}

// effective applies the pending bids still valid at now to the base state.
// s.mu is held (it fills the pending bids' caches). The amounts in the
// returned state are shared with the view: callers must not modify them.
func (a *auction) effective(now time.Time) (state, bool) {
	m := &a.memo
	if m.holds(a, now) {
		return m.st, m.ok
	}
	st, ok := a.base()
	*m = effectiveMemo{set: true, chain: a.chain, listing: a.listing, readAt: a.readAt, gen: a.gen, at: now, ok: ok}
	if ok {
		for _, p := range a.pending {
			m.apply(&st, p)
		}
	}
	m.st = st
	return st, ok
}

// apply puts p on top of st if it is still valid at the memo's time and
// reaches st's minimum next bid.
func (m *effectiveMemo) apply(st *state, p *pendingBid) {
	if !p.validUntil.After(m.at) || p.amount.Cmp(st.minNext) < 0 {
		return
	}
	st.leader, st.leading = p.bidder, p.amount
	if e := p.at.Add(st.extension); e.After(st.end) {
		st.end = e
	}
	st.bids++
	st.confirmed = false
	st.minNext = p.minNextAfter(st.step, st.minBid)
	if m.until.IsZero() || p.validUntil.Before(m.until) {
		m.until = p.validUntil
	}
}

// addPending records an accepted gossip bid, keeping the list ascending. A
// new highest bid (the usual case) is applied to the memo; any other
// insertion makes the next effective walk the list again.
func (a *auction) addPending(p *pendingBid) {
	i, _ := slices.BinarySearchFunc(a.pending, p.amount, func(x *pendingBid, amt *big.Int) int { return x.amount.Cmp(amt) })
	top := i == len(a.pending)
	a.pending = slices.Insert(a.pending, i, p)
	holds := a.memo.holds(a, a.memo.at)
	a.gen++
	if top && holds {
		a.memo.gen = a.gen
		if a.memo.ok {
			a.memo.apply(&a.memo.st, p)
		}
	}
}

// prune drops pending bids that the chain shows, that expired, or that
// dead reports as executed without reaching the item.
func (a *auction) prune(now time.Time, dead func(*pendingBid) bool) {
	var lead *big.Int
	if a.chain != nil && a.chain.Auction != nil && a.chain.Auction.Bids > 0 {
		lead = a.chain.Auction.LeadingBid
	}
	a.gen++
	a.pending = slices.DeleteFunc(a.pending, func(p *pendingBid) bool {
		if !p.validUntil.After(now) || (lead != nil && lead.Cmp(p.amount) >= 0) {
			return true
		}
		if a.chain != nil && a.chain.Auction == nil {
			return true
		}
		return dead != nil && dead(p)
	})
}

// sameAuction reports whether two chain reads show the same auction run.
func sameAuction(x, y *onchain.Auction) bool {
	if x == nil || y == nil {
		return false
	}
	return x.MinBid.Cmp(y.MinBid) == 0 && x.StepPercent == y.StepPercent && x.Extension == y.Extension &&
		x.Bids <= y.Bids && !y.End.Before(x.End) && equalAddr(sellerOf(x), sellerOf(y))
}

func sellerOf(a *onchain.Auction) *address.Address { return a.Seller }

func equalAddr(x, y *address.Address) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return x.Workchain() == y.Workchain() && bytes.Equal(x.Data(), y.Data())
}
