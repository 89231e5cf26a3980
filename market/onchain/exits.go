package onchain

import "fmt"

// ExitCode is a compute-phase exit code the market contracts throw; the
// refused message bounces back to its sender with its value less fees.
type ExitCode int32

// Exit codes of the collection and item contracts (common.fc).
const (
	ExitNotRegistry   ExitCode = 200 // mint, set-price, set-fee or withdraw not from the registry
	ExitBadName       ExitCode = 201 // minted name is neither a username nor a number
	ExitNotANumber    ExitCode = 202 // buy-number of something that is not a +888 number
	ExitLowValue      ExitCode = 203 // value below price + MintGas, MintGas or OpGas
	ExitNotCollection ExitCode = 204 // init_item not sent by the item's collection
	ExitNotMinted     ExitCode = 205 // a message to an item deployed but never minted
	ExitNotOwner      ExitCode = 206 // transfer, start-auction or cancel not from the owner
	ExitAuctionActive ExitCode = 207 // transfer or start-auction while an auction runs
	ExitNoAuction     ExitCode = 208 // bid, cancel or settle without an auction
	ExitAuctionEnded  ExitCode = 209 // bid at or after the end
	ExitBidTooLow     ExitCode = 210 // bid below the minimum next bid
	ExitHasBids       ExitCode = 211 // cancel after a bid
	ExitTooEarly      ExitCode = 212 // settle before the end
	ExitBadMinBid     ExitCode = 213 // auction minimum bid is zero
	ExitBadMaxBid     ExitCode = 214 // buy-now price below the minimum bid
	ExitBadStep       ExitCode = 215 // step percent outside 1-100
	ExitBadDuration   ExitCode = 216 // duration outside 1 s - 365 days
	ExitBadExtension  ExitCode = 217 // extension above 7 days
	ExitNotItem       ExitCode = 218 // mint reply not from the item it names
	ExitBadFee        ExitCode = 219 // fee percent above 100
	ExitBadAddress    ExitCode = 220 // new owner is not a standard address
	ExitUnknownOp     ExitCode = 0xffff
)

var exitMeanings = map[ExitCode]string{
	ExitNotRegistry:   "only the registry may do this",
	ExitBadName:       "the name is neither a valid username nor a +888 number",
	ExitNotANumber:    "only +888 numbers are sold at the fixed price",
	ExitLowValue:      "the message carried too little TON for the price and gas",
	ExitNotCollection: "only the collection may initialise an item",
	ExitNotMinted:     "the item was never minted",
	ExitNotOwner:      "only the owner may do this",
	ExitAuctionActive: "an auction is running: cancel or settle it first",
	ExitNoAuction:     "there is no auction on this item",
	ExitAuctionEnded:  "the auction has ended: settle it",
	ExitBidTooLow:     "the bid is below the minimum next bid",
	ExitHasBids:       "the auction has bids and can no longer be cancelled",
	ExitTooEarly:      "the auction has not ended yet",
	ExitBadMinBid:     "the minimum bid must be more than zero",
	ExitBadMaxBid:     "the buy-now price must be at least the minimum bid",
	ExitBadStep:       "the step must be 1 to 100 percent",
	ExitBadDuration:   "the duration must be 1 second to 365 days",
	ExitBadExtension:  "the extension must be at most 7 days",
	ExitNotItem:       "the reply did not come from the item it names",
	ExitBadFee:        "the fee must be at most 100 percent",
	ExitBadAddress:    "the address is not a standard account address",
	ExitUnknownOp:     "the contract does not know this operation",
}

// ExitMeaning says in words why a market contract refused a message with
// code; codes not the market's own are described generically.
func ExitMeaning(code int) string {
	if m, ok := exitMeanings[ExitCode(code)]; ok {
		return m
	}
	switch {
	case code == 0 || code == 1:
		return "success"
	case code == 9:
		return "malformed message (cell underflow)"
	case code == 13:
		return "out of gas"
	case code == 37:
		return "not enough TON for the outgoing messages"
	case code < 100:
		return fmt.Sprintf("TVM error %d", code)
	default:
		return fmt.Sprintf("unknown exit code %d", code)
	}
}

// String is the code and its meaning.
func (c ExitCode) String() string { return fmt.Sprintf("%d (%s)", int32(c), ExitMeaning(int(c))) }
