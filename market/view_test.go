package market

import (
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/market/onchain"
)

// A pending bid's cached minimum next bid follows the terms it is asked
// under, and the effective state with cached minimums is the one computed
// afresh.
func TestPendingMinNextFollowsTerms(t *testing.T) {
	p := &pendingBid{amount: tons(100), validUntil: time.Now().Add(time.Hour)}
	for _, c := range []struct {
		step uint8
		min  int64
	}{{5, 1}, {5, 1}, {50, 1}, {50, 200}, {5, 1}} {
		got := p.minNextAfter(c.step, tons(c.min))
		want := onchain.NextMinBid(tons(100), c.step, tons(c.min), true)
		if got.Cmp(want) != 0 {
			t.Fatalf("step %d%%, min %d TON: cached %s, want %s", c.step, c.min, got, want)
		}
	}

	now := time.Now()
	a := &auction{listing: &Listing{End: now.Add(time.Hour), Params: onchain.AuctionParams{MinBid: tons(10), StepPercent: 5}}}
	for _, n := range []int64{10, 11, 12, 30, 31, 40} {
		a.addPending(&pendingBid{amount: tons(n), validUntil: now.Add(time.Hour), at: now})
	}
	first, _ := a.effective(now)
	again, _ := a.effective(now)
	a.listing = &Listing{End: now.Add(time.Hour), Params: onchain.AuctionParams{MinBid: tons(10), StepPercent: 50}}
	changed, _ := a.effective(now) // new terms: neither memo nor cached minimums hold
	for _, c := range []struct {
		name       string
		st         state
		lead, next int64
		bids       int
	}{
		// 5 %: 10 → next 11, 11 → 12, 12 → 13, 30 → 31.5, 40 → 42; 31 is under 31.5.
		{"first", first, 40, 42, 5},
		{"cached", again, 40, 42, 5},
		// 50 %: 10 → 15, 30 → 45; the rest fall short.
		{"new terms", changed, 30, 45, 2},
	} {
		if c.st.leading.Cmp(tons(c.lead)) != 0 || c.st.minNext.Cmp(tons(c.next)) != 0 || c.st.bids != c.bids {
			t.Errorf("%s: leading %s, next %s, %d bids; want %d TON, %d TON, %d", c.name, c.st.leading, c.st.minNext, c.st.bids, c.lead, c.next, c.bids)
		}
	}
}

// The memoized effective state changes with time (an applied bid
// expires), with a bid below the top, and with pruning, as a fresh walk
// does.
func TestEffectiveMemoFollowsChanges(t *testing.T) {
	now := time.Now()
	a := &auction{listing: &Listing{End: now.Add(time.Hour), Params: onchain.AuctionParams{MinBid: tons(10), StepPercent: 5}}}
	fresh := func(at time.Time) state {
		b := &auction{listing: a.listing, pending: a.pending}
		st, _ := b.effective(at)
		return st
	}
	check := func(what string, at time.Time, lead int64, bids int) {
		t.Helper()
		st, ok := a.effective(at)
		want := fresh(at)
		if !ok || st.leading == nil || st.leading.Cmp(tons(lead)) != 0 || st.bids != bids ||
			want.leading.Cmp(st.leading) != 0 || want.minNext.Cmp(st.minNext) != 0 || want.bids != st.bids || !want.end.Equal(st.end) {
			t.Fatalf("%s: leading %v with %d bids (a fresh walk: %v, %d); want %d TON, %d", what, st.leading, st.bids, want.leading, want.bids, lead, bids)
		}
	}
	a.addPending(&pendingBid{amount: tons(10), validUntil: now.Add(time.Hour), at: now})
	check("one bid", now, 10, 1)
	a.addPending(&pendingBid{amount: tons(20), validUntil: now.Add(time.Minute), at: now})
	check("a new top bid", now, 20, 2)
	check("later", now.Add(30*time.Second), 20, 2)
	a.addPending(&pendingBid{amount: tons(15), validUntil: now.Add(time.Hour), at: now})
	check("a bid below the top", now.Add(30*time.Second), 20, 3)
	check("after the top bid expired", now.Add(2*time.Minute), 15, 2)
	a.prune(now, func(p *pendingBid) bool { return p.amount.Cmp(tons(20)) == 0 })
	check("pruned", now, 15, 2)
}
