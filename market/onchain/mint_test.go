package onchain

import (
	"bytes"
	"context"
	"math/big"
	"testing"

	contract "github.com/tonmesh/tonmesh/contracts/market"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu/emutest"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// The deployed collection has the address, terms and item addresses the
// Go side computes.
func TestCollectionDeployAndGetters(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	st, err := ReadCollection(ctx, h.Chain, h.collAddr)
	if err != nil {
		t.Fatal(err)
	}
	itemCode, _ := contract.ItemCode()
	if !sameAddr(st.Registry, h.registry.Address()) || st.GlobalID != h.Chain.GlobalID() ||
		st.FeePercent != DefaultFeePercent || st.NumberPrice.Cmp(big.NewInt(DefaultNumberPriceNano)) != 0 ||
		!bytes.Equal(st.ItemCodeHash, itemCode.Hash()) {
		t.Fatalf("collection state %+v does not match its terms", st)
	}
	a := mustAsset(t, "@alice")
	res, err := h.Chain.RunGetMethod(ctx, h.collAddr, "get_nft_address_by_index", a.Index())
	if err != nil {
		t.Fatal(err)
	}
	got, err := addrOf(res[0])
	if err != nil || !sameAddr(got, h.itemAddr(t, a)) {
		t.Fatalf("contract says item address %v (%v), Go says %s", got, err, h.itemAddr(t, a))
	}
	if it := h.readItem(t, a); it.Minted || it.Owner != nil || it.Auction != nil {
		t.Fatalf("unminted item read as %+v", it)
	}
	if _, err := ReadCollection(ctx, h.Chain, h.itemAddr(t, a)); err == nil {
		t.Fatal("ReadCollection of an undeployed address succeeded")
	}
}

// The registry mints; nobody else can; a second mint of the same asset is
// refused and the registry gets its value back; bad names and too little
// value are refused.
func TestMintRules(t *testing.T) {
	h := newHarness(t)
	owner := h.newWallet(t, tons(10), identity.V5R1)
	mallory := h.newWallet(t, tons(10), identity.V5R1)
	a := mustAsset(t, "@Alice_01")
	txs := h.mint(t, a, owner.Address())
	item := h.itemAddr(t, a)
	if tx := at(t, txs, item); !tx.Success {
		t.Fatalf("item init failed: exit %d", tx.ExitCode)
	}
	it := h.readItem(t, a)
	if it.FeePercent != DefaultFeePercent || it.Balance.Cmp(big.NewInt(ItemReserve)) < 0 {
		t.Fatalf("minted item: fee %d%% balance %s, want %d%% and at least the reserve", it.FeePercent, it.Balance, DefaultFeePercent)
	}
	if ex := sentTo(txs, h.registry.Address(), OpExcess); len(ex) != 1 {
		t.Fatalf("registry got %d excess messages after a mint, want 1", len(ex))
	}
	// The collection's balance is unchanged by a mint, bar its own storage fee.
	before := h.Balance(t, h.collAddr)
	h.mint(t, mustAsset(t, "+888 0000 0001"), owner.Address())
	if d := sub(before, h.Balance(t, h.collAddr)); d.Sign() < 0 || d.Cmp(nano(100_000)) > 0 {
		t.Fatalf("a mint changed the collection's balance by %s", d)
	}

	// Not the registry.
	txs = h.send(t, mallory, h.collAddr, big.NewInt(MintGas), MintBody(2, mustAsset(t, "@mallory"), mallory.Address()))
	refused(t, txs, h.collAddr, mallory.Address(), ExitNotRegistry)

	// Duplicate: the item refuses, the registry is refunded all but fees,
	// the owner stays.
	regBefore := h.Balance(t, h.registry.Address())
	txs = h.send(t, h.registry, h.collAddr, tons(1), MintBody(3, a, mallory.Address()))
	itx := at(t, txs, item)
	if !itx.Success || len(itx.Out) != 1 || emutest.OpOf(itx.Out[0].Body) != OpMintRefused {
		t.Fatalf("duplicate mint: item answered success=%v with %d messages", itx.Success, len(itx.Out))
	}
	refunds := sentTo(txs, h.registry.Address(), OpRefund)
	if len(refunds) != 1 {
		t.Fatalf("duplicate mint: %d refunds to the registry, want 1", len(refunds))
	}
	var fees = new(big.Int)
	for _, tx := range txs {
		fees.Add(fees, spent(tx))
	}
	if got := sub(regBefore, h.Balance(t, h.registry.Address())); got.Cmp(fees) > 0 || got.Cmp(nano(MintGas)) > 0 {
		t.Fatalf("duplicate mint cost the registry %s, more than the fees %s", got, fees)
	}
	if it := h.readItem(t, a); !sameAddr(it.Owner, owner.Address()) {
		t.Fatalf("duplicate mint changed the owner to %s", it.Owner)
	}

	// A name that is neither a username nor a number (the Go side would
	// refuse to build it, so build the body by hand).
	bad := Asset{Kind: Username, Name: "1abcde"}
	txs = h.send(t, h.registry, h.collAddr, big.NewInt(MintGas), MintBody(4, bad, owner.Address()))
	refused(t, txs, h.collAddr, h.registry.Address(), ExitBadName)
	bad = Asset{Kind: Username, Name: "abc"}
	txs = h.send(t, h.registry, h.collAddr, big.NewInt(MintGas), MintBody(4, bad, owner.Address()))
	refused(t, txs, h.collAddr, h.registry.Address(), ExitBadName)
	// Too little value.
	txs = h.send(t, h.registry, h.collAddr, big.NewInt(MintGas-1), MintBody(5, mustAsset(t, "@bobby"), owner.Address()))
	refused(t, txs, h.collAddr, h.registry.Address(), ExitLowValue)
	if h.readItem(t, mustAsset(t, "@bobby")).Minted {
		t.Fatal("a refused mint minted the item")
	}
}

// buy-number: the registry receives exactly the price, the buyer the rest
// of the value less fees and the item; an already minted number is refunded
// whole but fees; usernames are not for sale; too little value is refused.
func TestBuyNumber(t *testing.T) {
	h := newHarness(t)
	buyer := h.newWallet(t, tons(50), identity.V5R1)
	other := h.newWallet(t, tons(50), identity.V5R1)
	n := RandomNumber()
	price := big.NewInt(DefaultNumberPriceNano)
	value := add(BuyValue(price), tons(1)) // 1 TON too much: comes back

	regBefore, buyerBefore := h.Balance(t, h.registry.Address()), h.Balance(t, buyer.Address())
	txs := h.send(t, buyer, h.collAddr, value, BuyNumberBody(7, n))
	sales := sentTo(txs, h.registry.Address(), OpSale)
	if len(sales) != 1 || sales[0].Value.Cmp(price) != 0 {
		t.Fatalf("registry got %d sale messages (%v), want one of exactly %s", len(sales), sales, price)
	}
	// The registry's wallet pays only its own receiving fee.
	if got, want := sub(h.Balance(t, h.registry.Address()), regBefore), sub(price, at(t, txs, h.registry.Address()).TotalFees); got.Cmp(want) != 0 {
		t.Fatalf("registry balance rose by %s, want the price less its receiving fee, %s", got, want)
	}
	if it := h.readItem(t, n); !it.Minted || !sameAddr(it.Owner, buyer.Address()) {
		t.Fatalf("bought number: minted %v owner %v", it.Minted, it.Owner)
	}
	cost := sub(buyerBefore, h.Balance(t, buyer.Address()))
	if cost.Cmp(price) <= 0 || cost.Cmp(add(price, big.NewInt(MintGas))) > 0 {
		t.Fatalf("the number cost the buyer %s; want the price %s plus fees under MintGas", cost, price)
	}

	// Already minted: refunded, the registry gets nothing, the owner stays.
	regBefore, otherBefore := h.Balance(t, h.registry.Address()), h.Balance(t, other.Address())
	txs = h.send(t, other, h.collAddr, value, BuyNumberBody(8, n))
	if len(sentTo(txs, h.registry.Address(), OpSale)) != 0 || h.Balance(t, h.registry.Address()).Cmp(regBefore) != 0 {
		t.Fatal("the registry was paid for a number already sold")
	}
	if r := sentTo(txs, other.Address(), OpRefund); len(r) != 1 {
		t.Fatalf("%d refunds to the second buyer, want 1", len(r))
	}
	if lost := sub(otherBefore, h.Balance(t, other.Address())); lost.Cmp(big.NewInt(MintGas)) > 0 {
		t.Fatalf("a refused purchase cost %s, more than MintGas", lost)
	}
	if it := h.readItem(t, n); !sameAddr(it.Owner, buyer.Address()) {
		t.Fatalf("a refused purchase changed the owner to %s", it.Owner)
	}

	// Usernames are not sold at the fixed price.
	txs = h.send(t, other, h.collAddr, value, BuyNumberBody(9, mustAsset(t, "@carol")))
	refused(t, txs, h.collAddr, other.Address(), ExitNotANumber)
	// One nanoTON short of price + MintGas.
	txs = h.send(t, other, h.collAddr, sub(BuyValue(price), nano(1)), BuyNumberBody(10, RandomNumber()))
	refused(t, txs, h.collAddr, other.Address(), ExitLowValue)

	// The registry changes the price; the new one applies; others cannot.
	body, err := SetPriceBody(11, tons(2))
	if err != nil {
		t.Fatal(err)
	}
	txs = h.send(t, other, h.collAddr, big.NewInt(OpGas), body)
	refused(t, txs, h.collAddr, other.Address(), ExitNotRegistry)
	if tx := at(t, h.send(t, h.registry, h.collAddr, big.NewInt(OpGas), body), h.collAddr); !tx.Success {
		t.Fatalf("set price failed: exit %d", tx.ExitCode)
	}
	st, err := ReadCollection(context.Background(), h.Chain, h.collAddr)
	if err != nil || st.NumberPrice.Cmp(tons(2)) != 0 {
		t.Fatalf("price after set-price: %v, %v", st, err)
	}
	txs = h.send(t, other, h.collAddr, BuyValue(tons(2)), BuyNumberBody(12, RandomNumber()))
	if s := sentTo(txs, h.registry.Address(), OpSale); len(s) != 1 || s[0].Value.Cmp(tons(2)) != 0 {
		t.Fatalf("sale at the new price: %v", s)
	}
	// Fee percent: only the registry, at most 100.
	fee, _ := SetFeeBody(13, 7)
	refused(t, h.send(t, other, h.collAddr, big.NewInt(OpGas), fee), h.collAddr, other.Address(), ExitNotRegistry)
	if tx := at(t, h.send(t, h.registry, h.collAddr, big.NewInt(OpGas), fee), h.collAddr); !tx.Success {
		t.Fatalf("set fee failed: exit %d", tx.ExitCode)
	}
	if st, _ := ReadCollection(context.Background(), h.Chain, h.collAddr); st.FeePercent != 7 {
		t.Fatalf("fee after set-fee: %d", st.FeePercent)
	}
	badFee := opBody(OpSetFee, 14).MustStoreUInt(101, 8).EndCell()
	refused(t, h.send(t, h.registry, h.collAddr, big.NewInt(OpGas), badFee), h.collAddr, h.registry.Address(), ExitBadFee)
	// Withdraw leaves the reserve.
	if tx := at(t, h.send(t, h.registry, h.collAddr, big.NewInt(OpGas), WithdrawBody(15)), h.collAddr); !tx.Success {
		t.Fatalf("withdraw failed: exit %d", tx.ExitCode)
	}
	if b := h.Balance(t, h.collAddr); b.Cmp(big.NewInt(100_000_000)) > 0 {
		t.Fatalf("collection holds %s after withdraw, want at most its 0.1 TON reserve", b)
	}
}

// Only the collection initialises an item; a bare-deployed item refuses
// everything but its collection's init.
func TestItemInitOnlyByCollection(t *testing.T) {
	h := newHarness(t)
	mallory := h.newWallet(t, tons(10), identity.V5R1)
	a := mustAsset(t, "@victim")
	init, err := h.coll.ItemStateInit(a)
	if err != nil {
		t.Fatal(err)
	}
	item := h.itemAddr(t, a)
	forged := opBody(OpInitItem, 1).MustStoreAddr(mallory.Address()).MustStoreAddr(mallory.Address()).
		MustStoreCoins(0).MustStoreRef(a.nameCell()).
		MustStoreRef(opBody(0, 0).EndCell()).EndCell()
	txs := h.sendInit(t, mallory, item, big.NewInt(OpGas), forged, init)
	refused(t, txs, item, mallory.Address(), ExitNotCollection)
	if it := h.readItem(t, a); it.Minted {
		t.Fatal("a forged init minted the item")
	}
	// Deploy it bare (empty body): it runs but is not minted, and refuses
	// owner operations.
	h.sendInit(t, mallory, item, big.NewInt(OpGas), nil, init)
	if st, _ := h.Chain.Account(context.Background(), item); st.Status != ton.StatusActive {
		t.Fatalf("bare deploy left the item %s", st.Status)
	}
	if it := h.readItem(t, a); it.Minted {
		t.Fatal("a bare deploy minted the item")
	}
	refused(t, h.send(t, mallory, item, big.NewInt(OpGas), TransferBody(2, mallory.Address())), item, mallory.Address(), ExitNotMinted)
	// The collection still mints it.
	owner := h.newWallet(t, tons(10), identity.V5R1)
	h.mint(t, a, owner.Address())
}
