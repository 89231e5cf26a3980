package onchain

import (
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu/emutest"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// market is a harness with one minted username and its owner.
type market struct {
	*harness
	asset Asset
	item  *address.Address
	owner *wallet.Wallet
}

func newMarket(t testing.TB) *market {
	t.Helper()
	h := newHarness(t)
	m := &market{harness: h, asset: mustAsset(t, "@auctioned"), owner: h.newWallet(t, tons(20), identity.V5R1)}
	m.item = h.itemAddr(t, m.asset)
	h.mint(t, m.asset, m.owner.Address())
	return m
}

func (m *market) start(t testing.TB, from *wallet.Wallet, p AuctionParams) []*ton.Transaction {
	t.Helper()
	body, err := StartAuctionBody(1, p)
	if err != nil {
		t.Fatal(err)
	}
	return m.send(t, from, m.item, big.NewInt(OpGas), body)
}

func (m *market) bid(t testing.TB, from *wallet.Wallet, amount *big.Int) []*ton.Transaction {
	t.Helper()
	return m.send(t, from, m.item, BidValue(amount), BidBody(2))
}

func (m *market) settle(t testing.TB, from *wallet.Wallet) []*ton.Transaction {
	t.Helper()
	return m.send(t, from, m.item, big.NewInt(OpGas), SettleBody(3))
}

func (m *market) accepted(t testing.TB, txs []*ton.Transaction) *ton.Transaction {
	t.Helper()
	tx := at(t, txs, m.item)
	if !tx.Success {
		t.Fatalf("item refused: exit %s", ExitCode(tx.ExitCode))
	}
	return tx
}

func (m *market) auction(t testing.TB) *Auction {
	t.Helper()
	a := m.readItem(t, m.asset).Auction
	if a == nil {
		t.Fatal("no auction on the item")
	}
	return a
}

// checkHeld asserts the item holds its reserve plus the leading bid (and no
// more than the fees a few messages leave behind).
func (m *market) checkHeld(t testing.TB, leading *big.Int) {
	t.Helper()
	bal := m.Balance(t, m.item)
	extra := sub(bal, leading)
	if extra.Cmp(big.NewInt(ItemReserve/2)) < 0 || extra.Cmp(big.NewInt(ItemReserve+10_000_000)) > 0 {
		t.Fatalf("item holds %s with a leading bid of %s: %s beside it, want about the %d reserve", bal, leading, extra, ItemReserve)
	}
}

func TestStartAuctionRules(t *testing.T) {
	m := newMarket(t)
	other := m.newWallet(t, tons(20), identity.V5R1)
	p := AuctionParams{MinBid: tons(10), Duration: 24 * time.Hour}

	refused(t, m.start(t, other, p), m.item, other.Address(), ExitNotOwner)
	body, _ := StartAuctionBody(1, p)
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas-1), body), m.item, m.owner.Address(), ExitLowValue)

	// Each parameter rule, refused by the contract and by Validate.
	day := uint64(24 * 3600)
	for _, c := range []struct {
		name                string
		min, max            int64
		step                uint64
		duration, extension uint64
		code                ExitCode
		params              AuctionParams
	}{
		{"zero min bid", 0, 0, 5, day, 3600, ExitBadMinBid, AuctionParams{MinBid: new(big.Int), Duration: time.Hour}},
		{"max below min", 10, 9, 5, day, 3600, ExitBadMaxBid, AuctionParams{MinBid: nano(10), MaxBid: nano(9), Duration: time.Hour}},
		{"step 101", 10, 0, 101, day, 3600, ExitBadStep, AuctionParams{MinBid: nano(10), StepPercent: 101, Duration: time.Hour}},
		{"step 0", 10, 0, 0, day, 3600, ExitBadStep, AuctionParams{}},
		{"zero duration", 10, 0, 5, 0, 3600, ExitBadDuration, AuctionParams{MinBid: nano(10)}},
		{"duration over a year", 10, 0, 5, 365*day + 1, 3600, ExitBadDuration, AuctionParams{MinBid: nano(10), Duration: MaxDuration + time.Second}},
		{"extension over a week", 10, 0, 5, day, 7*day + 1, ExitBadExtension, AuctionParams{MinBid: nano(10), Duration: time.Hour, Extension: MaxExtension + time.Second}},
	} {
		raw := opBody(OpStartAuction, 9).MustStoreBigCoins(nano(c.min)).MustStoreBigCoins(nano(c.max)).
			MustStoreUInt(c.step, 8).MustStoreUInt(c.duration, 32).MustStoreUInt(c.extension, 32).EndCell()
		refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), raw), m.item, m.owner.Address(), c.code)
		if c.params.MinBid != nil || c.params.Duration != 0 {
			if err := c.params.Validate(); err == nil {
				t.Errorf("%s: Validate accepted %+v", c.name, c.params)
			}
		}
	}
	if m.readItem(t, m.asset).Auction != nil {
		t.Fatal("refused starts left an auction")
	}

	// A valid start: the state reads back; a second start is refused.
	now := m.Now()
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(10), MaxBid: tons(100), StepPercent: 7, Duration: 24 * time.Hour, Extension: 30 * time.Minute}))
	a := m.auction(t)
	if !sameAddr(a.Seller, m.owner.Address()) || a.Leader != nil || a.LeadingBid.Sign() != 0 || a.Bids != 0 ||
		a.MinBid.Cmp(tons(10)) != 0 || a.MinNextBid.Cmp(tons(10)) != 0 || a.MaxBid.Cmp(tons(100)) != 0 ||
		a.StepPercent != 7 || !a.End.Equal(now.Add(24*time.Hour)) || a.Extension != 30*time.Minute {
		t.Fatalf("auction read back as %+v", a)
	}
	if a.Ended(now) || !a.Ended(a.End) {
		t.Fatal("Ended is wrong around the end")
	}
	refused(t, m.start(t, m.owner, p), m.item, m.owner.Address(), ExitAuctionActive)
}

// Bids below the minimum are refused and bounced; the step rule (5 % and
// at least 1 TON, rounded up) holds to the nanoTON; the outbid leader gets
// exactly their bid back in the transaction that accepts the new one.
func TestBidRules(t *testing.T) {
	m := newMarket(t)
	a, b, c := m.newWallet(t, tons(100), identity.V5R1), m.newWallet(t, tons(100), identity.V4R2), m.newWallet(t, tons(100), identity.V5R1)

	refused(t, m.bid(t, a, tons(10)), m.item, a.Address(), ExitNoAuction)
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(10), Duration: 24 * time.Hour}))

	before := m.Balance(t, a.Address())
	txs := m.bid(t, a, sub(tons(10), nano(1)))
	refused(t, txs, m.item, a.Address(), ExitBidTooLow)
	var fees = new(big.Int)
	for _, tx := range txs {
		fees.Add(fees, spent(tx))
	}
	if lost := sub(before, m.Balance(t, a.Address())); lost.Cmp(fees) > 0 {
		t.Fatalf("a refused bid cost %s, more than the fees %s: not refunded", lost, fees)
	}
	refused(t, m.send(t, a, m.item, big.NewInt(BidGas), BidBody(1)), m.item, a.Address(), ExitBidTooLow)

	// The first bid at exactly the minimum.
	txs = m.bid(t, a, tons(10))
	m.accepted(t, txs)
	if ex := sentTo(txs, a.Address(), OpExcess); len(ex) != 1 {
		t.Fatalf("bidder got %d excess messages, want 1", len(ex))
	}
	m.checkHeld(t, tons(10))
	st := m.auction(t)
	if !sameAddr(st.Leader, a.Address()) || st.LeadingBid.Cmp(tons(10)) != 0 || st.Bids != 1 {
		t.Fatalf("after the first bid: %+v", st)
	}

	// 1 TON over 10 beats 5 %: next is 11 TON.
	next := NextMinBid(tons(10), 5, tons(10), true)
	if next.Cmp(tons(11)) != 0 || st.MinNextBid.Cmp(next) != 0 {
		t.Fatalf("next minimum after 10 TON: Go %s, contract %s, want 11 TON", next, st.MinNextBid)
	}
	refused(t, m.bid(t, b, sub(next, nano(1))), m.item, b.Address(), ExitBidTooLow)
	aBefore := m.Balance(t, a.Address())
	txs = m.bid(t, b, next)
	itx := m.accepted(t, txs)
	checkOutbid(t, itx, a.Address(), tons(10))
	if got, want := sub(m.Balance(t, a.Address()), aBefore), sub(tons(10), at(t, txs[1:], a.Address()).TotalFees); got.Cmp(want) != 0 {
		t.Fatalf("outbid bidder's balance rose by %s, want the bid less the receiving fee, %s", got, want)
	}
	m.checkHeld(t, tons(11))

	// Above 20 TON the 5 % rule governs, rounded up: after 30 TON + 1
	// nanoTON the next is ceil(31.50000000105 TON).
	lead := add(tons(30), nano(1))
	m.accepted(t, m.bid(t, c, lead))
	next = NextMinBid(lead, 5, tons(10), true)
	if want := nano(31_500_000_002); next.Cmp(want) != 0 || m.auction(t).MinNextBid.Cmp(want) != 0 {
		t.Fatalf("next minimum after %s: Go %s, contract %s, want %s", lead, next, m.auction(t).MinNextBid, want)
	}
	refused(t, m.bid(t, a, sub(next, nano(1))), m.item, a.Address(), ExitBidTooLow)
	checkOutbid(t, m.accepted(t, m.bid(t, a, next)), c.Address(), lead)
	// The leader may raise their own bid; they get the old one back.
	raise := NextMinBid(next, 5, tons(10), true)
	checkOutbid(t, m.accepted(t, m.bid(t, a, raise)), a.Address(), next)
	st = m.auction(t)
	if st.Bids != 5 || !sameAddr(st.Leader, a.Address()) || st.LeadingBid.Cmp(raise) != 0 {
		t.Fatalf("after five bids: %+v", st)
	}
	m.checkHeld(t, raise)
}

// checkOutbid asserts tx (the item's) refunded exactly amount to who.
func checkOutbid(t testing.TB, tx *ton.Transaction, who *address.Address, amount *big.Int) {
	t.Helper()
	for _, msg := range tx.Out {
		if emutest.OpOf(msg.Body) == OpOutbid {
			if !sameAddr(msg.Dst, who) || msg.Value.Cmp(amount) != 0 || msg.Bounce {
				t.Fatalf("outbid refund of %s to %s (bounce %v), want exactly %s to %s", msg.Value, msg.Dst, msg.Bounce, amount, who)
			}
			return
		}
	}
	t.Fatalf("no outbid refund to %s in the transaction that accepted the new bid", who)
}

// A bid within the extension of the end moves the end to now + extension;
// bidding stops at the end; settling waits for it.
func TestAntiSnipingExtension(t *testing.T) {
	m := newMarket(t)
	a, b := m.newWallet(t, tons(100), identity.V5R1), m.newWallet(t, tons(100), identity.V5R1)
	t0 := m.Now()
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(1), Duration: 2 * time.Hour, Extension: time.Hour}))

	m.Advance(30 * time.Minute)
	m.accepted(t, m.bid(t, a, tons(1)))
	if end := m.auction(t).End; !end.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("an early bid moved the end to %s", end)
	}
	m.Advance(75 * time.Minute) // t0 + 1h45m: 15 minutes left
	m.accepted(t, m.bid(t, b, tons(2)))
	if end := m.auction(t).End; !end.Equal(t0.Add(2*time.Hour + 45*time.Minute)) {
		t.Fatalf("a late bid moved the end to %s, want now + 1 h", end.Sub(t0))
	}
	m.Advance(45 * time.Minute) // t0 + 2h30m: past the original end
	m.accepted(t, m.bid(t, a, tons(3)))
	end := m.auction(t).End
	if !end.Equal(t0.Add(3*time.Hour + 30*time.Minute)) {
		t.Fatalf("end %s after a bid past the original end, want t0 + 3h30m", end.Sub(t0))
	}
	m.Advance(end.Sub(m.Now()) - time.Second)
	refused(t, m.settle(t, b), m.item, b.Address(), ExitTooEarly)
	m.Advance(time.Second)
	refused(t, m.bid(t, b, tons(10)), m.item, b.Address(), ExitAuctionEnded)
	m.accepted(t, m.settle(t, b))
	if it := m.readItem(t, m.asset); !sameAddr(it.Owner, a.Address()) || it.Auction != nil {
		t.Fatalf("after settle: owner %s auction %+v, want the last bidder and none", it.Owner, it.Auction)
	}
}

// checkPaid asserts txs paid the fee to the registry and the rest to the
// seller, each exactly, and made winner the owner.
func (m *market) checkPaid(t testing.TB, txs []*ton.Transaction, bid *big.Int, fee int64, seller, winner *address.Address) {
	t.Helper()
	wantFee := new(big.Int).Div(new(big.Int).Mul(bid, big.NewInt(fee)), big.NewInt(100))
	roy := sentTo(txs, m.registry.Address(), OpRoyalty)
	if len(roy) != 1 || roy[0].Value.Cmp(wantFee) != 0 {
		t.Fatalf("royalty messages %v, want one of exactly %s", roy, wantFee)
	}
	pro := sentTo(txs, seller, OpProceeds)
	if want := sub(bid, wantFee); len(pro) != 1 || pro[0].Value.Cmp(want) != 0 {
		t.Fatalf("proceeds messages %v, want one of exactly %s", pro, want)
	}
	it := m.readItem(t, m.asset)
	if !sameAddr(it.Owner, winner) || it.Auction != nil {
		t.Fatalf("after the sale: owner %s auction %+v", it.Owner, it.Auction)
	}
	m.checkHeld(t, new(big.Int))
}

// A bid at or above the buy-now price ends the auction and settles it in
// the same transaction.
func TestBuyNow(t *testing.T) {
	m := newMarket(t)
	a, b := m.newWallet(t, tons(100), identity.V5R1), m.newWallet(t, tons(100), identity.V5R1)
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(5), MaxBid: add(tons(50), nano(7)), Duration: 24 * time.Hour}))
	m.accepted(t, m.bid(t, a, tons(5)))
	price := add(tons(50), nano(7))
	txs := m.bid(t, b, price)
	itx := m.accepted(t, txs)
	checkOutbid(t, itx, a.Address(), tons(5))
	m.checkPaid(t, txs, price, DefaultFeePercent, m.owner.Address(), b.Address())
	for _, op := range []uint32{OpRoyalty, OpProceeds} {
		found := false
		for _, msg := range itx.Out {
			found = found || emutest.OpOf(msg.Body) == op
		}
		if !found {
			t.Fatalf("op %#x not sent by the bid's own transaction", op)
		}
	}
	// Ended: a later bid finds no auction; the winner may relist.
	refused(t, m.bid(t, a, tons(60)), m.item, a.Address(), ExitNoAuction)
	m.accepted(t, m.start(t, b, AuctionParams{MinBid: tons(1), Duration: time.Hour}))
}

// Settle: refused before the end; after it anyone settles, the fee goes
// to the registry and the rest to the seller to the nanoTON; without bids
// the owner keeps the asset; the owner can relist after either.
func TestSettle(t *testing.T) {
	m := newMarket(t)
	a, keeper := m.newWallet(t, tons(100), identity.V5R1), m.newWallet(t, tons(10), identity.V5R1)
	refused(t, m.settle(t, keeper), m.item, keeper.Address(), ExitNoAuction)

	// No bids: the owner stays, the auction is cleared.
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(3), Duration: time.Hour}))
	m.Advance(time.Hour)
	m.accepted(t, m.settle(t, keeper))
	if it := m.readItem(t, m.asset); !sameAddr(it.Owner, m.owner.Address()) || it.Auction != nil {
		t.Fatalf("no-bid settle: owner %s auction %+v", it.Owner, it.Auction)
	}

	// Relist, bid, settle.
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(3), Duration: time.Hour, Extension: time.Minute}))
	bid := add(tons(3), nano(7)) // 5 % is 150000000.35: the fee rounds down
	m.accepted(t, m.bid(t, a, bid))
	refused(t, m.settle(t, keeper), m.item, keeper.Address(), ExitTooEarly)
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), CancelBody(1)), m.item, m.owner.Address(), ExitHasBids)
	m.Advance(time.Hour)
	refused(t, m.send(t, keeper, m.item, big.NewInt(OpGas-1), SettleBody(1)), m.item, keeper.Address(), ExitLowValue)
	sellerBefore, keeperBefore := m.Balance(t, m.owner.Address()), m.Balance(t, keeper.Address())
	txs := m.settle(t, keeper)
	m.accepted(t, txs)
	m.checkPaid(t, txs, bid, DefaultFeePercent, m.owner.Address(), a.Address())
	if sentTo(txs, m.registry.Address(), OpRoyalty)[0].Value.Cmp(nano(150_000_000)) != 0 {
		t.Fatal("the fee was not rounded down")
	}
	proceeds := sub(bid, nano(150_000_000))
	if got, want := sub(m.Balance(t, m.owner.Address()), sellerBefore), sub(proceeds, at(t, txs[1:], m.owner.Address()).TotalFees); got.Cmp(want) != 0 {
		t.Fatalf("seller's balance rose by %s, want the proceeds less the receiving fee, %s", got, want)
	}
	if lost := sub(keeperBefore, m.Balance(t, keeper.Address())); lost.Sign() <= 0 || lost.Cmp(big.NewInt(OpGas)) > 0 {
		t.Fatalf("settling cost the caller %s, want only fees below OpGas", lost)
	}
	// The winner relists; the old owner cannot.
	refused(t, m.start(t, m.owner, AuctionParams{MinBid: tons(1), Duration: time.Hour}), m.item, m.owner.Address(), ExitNotOwner)
	m.accepted(t, m.start(t, a, AuctionParams{MinBid: tons(1), Duration: time.Hour}))
}

// Cancel only by the owner and only without bids.
func TestCancel(t *testing.T) {
	m := newMarket(t)
	a := m.newWallet(t, tons(100), identity.V5R1)
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), CancelBody(1)), m.item, m.owner.Address(), ExitNoAuction)
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(3), Duration: time.Hour}))
	refused(t, m.send(t, a, m.item, big.NewInt(OpGas), CancelBody(1)), m.item, a.Address(), ExitNotOwner)
	m.accepted(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), CancelBody(1)))
	if m.readItem(t, m.asset).Auction != nil {
		t.Fatal("cancel left the auction")
	}
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(3), Duration: time.Hour}))
	m.accepted(t, m.bid(t, a, tons(3)))
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), CancelBody(1)), m.item, m.owner.Address(), ExitHasBids)
	if st := m.auction(t); st.Bids != 1 {
		t.Fatalf("refused cancel changed the auction: %+v", st)
	}
}

// Transfer only by the owner, never during an auction, only to a standard
// address.
func TestTransfer(t *testing.T) {
	m := newMarket(t)
	a := m.newWallet(t, tons(20), identity.V5R1)
	refused(t, m.send(t, a, m.item, big.NewInt(OpGas), TransferBody(1, a.Address())), m.item, a.Address(), ExitNotOwner)
	m.accepted(t, m.start(t, m.owner, AuctionParams{MinBid: tons(3), Duration: time.Hour}))
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), TransferBody(1, a.Address())), m.item, m.owner.Address(), ExitAuctionActive)
	m.accepted(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), CancelBody(1)))
	none := opBody(OpTransfer, 1).MustStoreUInt(0, 2).EndCell()
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), none), m.item, m.owner.Address(), ExitBadAddress)
	unknown := cell.BeginCell().MustStoreUInt(0xdeadbeef, 32).MustStoreUInt(0, 64).EndCell()
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), unknown), m.item, m.owner.Address(), ExitUnknownOp)

	m.accepted(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), TransferBody(1, a.Address())))
	if it := m.readItem(t, m.asset); !sameAddr(it.Owner, a.Address()) {
		t.Fatalf("owner after transfer: %s", it.Owner)
	}
	refused(t, m.send(t, m.owner, m.item, big.NewInt(OpGas), TransferBody(2, m.owner.Address())), m.item, m.owner.Address(), ExitNotOwner)
	m.accepted(t, m.send(t, a, m.item, big.NewInt(OpGas), TransferBody(2, m.owner.Address())))
	if it := m.readItem(t, m.asset); !sameAddr(it.Owner, m.owner.Address()) {
		t.Fatalf("owner after the transfer back: %s", it.Owner)
	}
	m.checkHeld(t, new(big.Int))
}
