package channel

import (
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Opcodes of the channel's messages (channel.fc).
const (
	OpTopUp    uint32 = 0x63687475 // "chtu": payer credits amount to the deposit (also opens)
	OpRedeem   uint32 = 0x63687264 // "chrd": anyone redeems a voucher
	OpClose    uint32 = 0x6368636c // "chcl": payer starts the close timeout
	OpFinalize uint32 = 0x63686669 // "chfi": anyone, after the timeout: refund and destroy
	OpPayout   uint32 = 0x63687061 // "chpa": body of the payment to the payee
	OpRefund   uint32 = 0x63687266 // "chrf": body of the refund to the payer
)

// MinFee is the value, in nanoTON, the contract requires on a redeem and on
// top of the credited amount of a top-up (channel.fc's min_fee).
const MinFee = 10_000_000

// OpValue is the value, in nanoTON, these helpers attach to every channel
// message for its gas. What a message leaves unused stays in the channel's
// fee reserve (top-up, close, a refused message's bounce aside), goes to
// the payee with the payout (redeem) or to the payer with the refund
// (finalize).
const OpValue = 30_000_000

// ExitCode is a compute-phase exit code the channel contract throws.
type ExitCode int32

// Exit codes of the channel contract; each refusal has its own.
const (
	ExitNotPayer     ExitCode = 100 // top-up or close not sent by the payer
	ExitBadSignature ExitCode = 101 // voucher not signed by the payer key
	ExitWrongChannel ExitCode = 102 // voucher names another channel
	ExitWrongNetwork ExitCode = 103 // voucher signed for another global ID
	ExitStale        ExitCode = 104 // cumulative <= redeemed (replay or older voucher)
	ExitOverDeposit  ExitCode = 105 // cumulative > deposited
	ExitClosing      ExitCode = 106 // top-up or second close while closing
	ExitTooEarly     ExitCode = 107 // finalize before closing_at + timeout
	ExitNotClosing   ExitCode = 108 // finalize without a close
	ExitExpired      ExitCode = 109 // redeem after closing_at + timeout
	ExitLowValue     ExitCode = 110 // value below amount + MinFee (top-up) or MinFee (redeem)
	ExitBadVoucher   ExitCode = 111 // voucher cell malformed or wrong tag
	ExitUnknownOp    ExitCode = 0xffff
)

func opBody(op uint32, queryID uint64) *cell.Builder {
	return cell.BeginCell().MustStoreUInt(uint64(op), 32).MustStoreUInt(queryID, 64)
}

// TopUpBody credits amount nanoTON to the deposit.
func TopUpBody(queryID uint64, amount *big.Int) (*cell.Cell, error) {
	b := opBody(OpTopUp, queryID)
	if amount == nil || amount.Sign() < 0 {
		return nil, fmt.Errorf("channel: top-up amount %v must be zero or more nanoTON", amount)
	}
	if err := b.StoreBigCoins(amount); err != nil {
		return nil, fmt.Errorf("channel: top-up amount %s: %w", amount, err)
	}
	return b.EndCell(), nil
}

// RedeemBody carries sv to the contract.
func RedeemBody(queryID uint64, sv *SignedVoucher) (*cell.Cell, error) {
	vc, err := sv.Cell()
	if err != nil {
		return nil, err
	}
	return opBody(OpRedeem, queryID).MustStoreRef(vc).EndCell(), nil
}

// CloseBody starts the close timeout (payer only).
func CloseBody(queryID uint64) *cell.Cell { return opBody(OpClose, queryID).EndCell() }

// FinalizeBody refunds the rest to the payer after the timeout.
func FinalizeBody(queryID uint64) *cell.Cell { return opBody(OpFinalize, queryID).EndCell() }

func internal(to *address.Address, value *big.Int, body *cell.Cell) *tlb.InternalMessage {
	return &tlb.InternalMessage{
		IHRDisabled: true,
		Bounce:      true, // a refused message comes back
		DstAddr:     to,
		Amount:      tlb.FromNanoTON(value),
		Body:        body,
	}
}

// OpenMessage deploys the channel with amount deposited: a top-up carrying
// the state init, worth amount + OpValue. The payer's wallet sends it.
func (p Params) OpenMessage(queryID uint64, amount *big.Int) (*tlb.InternalMessage, error) {
	init, err := p.StateInit()
	if err != nil {
		return nil, err
	}
	addr, err := p.Address()
	if err != nil {
		return nil, err
	}
	m, err := TopUpMessage(addr, queryID, amount)
	if err != nil {
		return nil, err
	}
	m.StateInit = init
	return m, nil
}

// TopUpMessage adds amount to channel ch's deposit; the payer's wallet
// sends it.
func TopUpMessage(ch *address.Address, queryID uint64, amount *big.Int) (*tlb.InternalMessage, error) {
	body, err := TopUpBody(queryID, amount)
	if err != nil {
		return nil, err
	}
	return internal(ch, new(big.Int).Add(amount, big.NewInt(OpValue)), body), nil
}

// RedeemMessage redeems sv on its channel; any wallet may send it, the
// payout goes to the payee.
func RedeemMessage(queryID uint64, sv *SignedVoucher) (*tlb.InternalMessage, error) {
	body, err := RedeemBody(queryID, sv)
	if err != nil {
		return nil, err
	}
	return internal(sv.Channel, big.NewInt(OpValue), body), nil
}

// CloseMessage starts channel ch's close timeout; the payer's wallet sends
// it.
func CloseMessage(ch *address.Address, queryID uint64) *tlb.InternalMessage {
	return internal(ch, big.NewInt(OpValue), CloseBody(queryID))
}

// FinalizeMessage ends channel ch after its timeout; any wallet may send it.
func FinalizeMessage(ch *address.Address, queryID uint64) *tlb.InternalMessage {
	return internal(ch, big.NewInt(OpValue), FinalizeBody(queryID))
}
