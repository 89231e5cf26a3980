package onchain

import (
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Opcodes of the market's messages (contracts/market/common.fc). Every body
// starts with op:uint32 query_id:uint64.
const (
	OpMint         uint32 = 0x6d6b6d74 // "mkmt": registry → collection
	OpBuyNumber    uint32 = 0x6d6b626e // "mkbn": buyer → collection
	OpSetPrice     uint32 = 0x6d6b7370 // "mksp": registry → collection
	OpSetFee       uint32 = 0x6d6b7366 // "mksf": registry → collection
	OpWithdraw     uint32 = 0x6d6b7764 // "mkwd": registry → collection
	OpInitItem     uint32 = 0x6d6b696e // "mkin": collection → item
	OpMintOK       uint32 = 0x6d6b6f6b // "mkok": item → collection
	OpMintRefused  uint32 = 0x6d6b7266 // "mkrf": item → collection (already minted)
	OpStartAuction uint32 = 0x6d6b7361 // "mksa": owner → item
	OpBid          uint32 = 0x6d6b6264 // "mkbd": bidder → item
	OpCancel       uint32 = 0x6d6b636c // "mkcl": owner → item
	OpSettle       uint32 = 0x6d6b7374 // "mkst": anyone → item
	OpTransfer     uint32 = 0x6d6b7472 // "mktr": owner → item

	// Bodies of the payments the contracts send (non-bounceable).
	OpExcess   uint32 = 0x6d6b6578 // "mkex": unused gas back to the sender
	OpRefund   uint32 = 0x6d6b7262 // "mkrb": a refused purchase back to the buyer
	OpSale     uint32 = 0x6d6b736c // "mksl": a number's price to the registry
	OpOutbid   uint32 = 0x6d6b6f62 // "mkob": the outbid leader's bid back to them
	OpRoyalty  uint32 = 0x6d6b7279 // "mkry": the network fee to the registry
	OpProceeds uint32 = 0x6d6b7072 // "mkpr": the rest of the winning bid to the seller
)

// Values, in nanoTON, the contracts require on top of what a message pays
// for (common.fc). What a message does not spend comes back to its sender
// (op excess) in the same cascade.
const (
	// MintGas goes with a mint (registry) and on top of the price with
	// buy-number: it pays the collection, the item's deployment and
	// storage reserve (ItemReserve) and the replies.
	MintGas = 100_000_000
	// BidGas goes on top of a bid: a bid message carries bid + BidGas and
	// the item takes the bid as value - BidGas. It covers the refund of
	// the outbid leader and, for a buy-now bid, the settlement.
	BidGas = 100_000_000
	// OpGas goes with start-auction, cancel, settle and transfer.
	OpGas = 50_000_000
	// ItemReserve is what an item keeps of the MintGas for its storage.
	ItemReserve = 20_000_000
	// OneTON is the least raise over the leading bid.
	OneTON = 1_000_000_000
)

// BidValue is the value a bid message for bid nanoTON carries.
func BidValue(bid *big.Int) *big.Int { return new(big.Int).Add(bid, big.NewInt(BidGas)) }

// BuyValue is the value a buy-number message carries at price nanoTON.
func BuyValue(price *big.Int) *big.Int { return new(big.Int).Add(price, big.NewInt(MintGas)) }

func opBody(op uint32, queryID uint64) *cell.Builder {
	return cell.BeginCell().MustStoreUInt(uint64(op), 32).MustStoreUInt(queryID, 64)
}

// MintBody asks the collection to mint a to owner: the registry's wallet
// sends it with MintGas. The asset must be valid (ParseAsset's result).
func MintBody(queryID uint64, a Asset, owner *address.Address) *cell.Cell {
	return opBody(OpMint, queryID).MustStoreAddr(owner).MustStoreRef(a.nameCell()).EndCell()
}

// BuyNumberBody buys number a at the collection's price: the buyer's
// wallet sends it with BuyValue(price). If a is minted already the whole
// value comes back (op refund).
func BuyNumberBody(queryID uint64, a Asset) *cell.Cell {
	return opBody(OpBuyNumber, queryID).MustStoreRef(a.nameCell()).EndCell()
}

// SetPriceBody sets the price of a random number (registry only).
func SetPriceBody(queryID uint64, price *big.Int) (*cell.Cell, error) {
	if price == nil || price.Sign() < 0 || price.BitLen() > maxCoinsBits {
		return nil, fmt.Errorf("market: number price %v must be zero or more nanoTON, below 2^120", price)
	}
	return opBody(OpSetPrice, queryID).MustStoreBigCoins(price).EndCell(), nil
}

// SetFeeBody sets the fee percent for items minted from now on (registry
// only).
func SetFeeBody(queryID uint64, percent uint8) (*cell.Cell, error) {
	if percent > 100 {
		return nil, fmt.Errorf("market: fee %d%% is more than 100%%", percent)
	}
	return opBody(OpSetFee, queryID).MustStoreUInt(uint64(percent), 8).EndCell(), nil
}

// WithdrawBody sends the collection's balance above its reserve to the
// registry (registry only).
func WithdrawBody(queryID uint64) *cell.Cell { return opBody(OpWithdraw, queryID).EndCell() }

// StartAuctionBody starts an auction of the item with p (owner only, with
// OpGas). Defaults fill StepPercent and Extension; p must be valid.
func StartAuctionBody(queryID uint64, p AuctionParams) (*cell.Cell, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	maxBid := p.MaxBid
	if maxBid == nil {
		maxBid = new(big.Int)
	}
	return opBody(OpStartAuction, queryID).
		MustStoreBigCoins(p.MinBid).
		MustStoreBigCoins(maxBid).
		MustStoreUInt(uint64(p.StepPercent), 8).
		MustStoreUInt(uint64(p.Duration.Seconds()), 32).
		MustStoreUInt(uint64(p.Extension.Seconds()), 32).
		EndCell(), nil
}

// BidBody bids on the item: the bidder's wallet sends it, bounceable, with
// BidValue(bid).
func BidBody(queryID uint64) *cell.Cell { return opBody(OpBid, queryID).EndCell() }

// CancelBody cancels an auction without bids (owner only, with OpGas).
func CancelBody(queryID uint64) *cell.Cell { return opBody(OpCancel, queryID).EndCell() }

// SettleBody settles an ended auction (anyone, with OpGas).
func SettleBody(queryID uint64) *cell.Cell { return opBody(OpSettle, queryID).EndCell() }

// TransferBody gives the item to to (owner only, no auction running, with
// OpGas).
func TransferBody(queryID uint64, to *address.Address) *cell.Cell {
	return opBody(OpTransfer, queryID).MustStoreAddr(to).EndCell()
}
