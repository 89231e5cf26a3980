package ton

import (
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// MessageKind says where a message comes from and goes to.
type MessageKind string

const (
	// Internal messages move value between accounts.
	Internal MessageKind = "internal"
	// ExternalIn messages come from outside the chain (a signed wallet order).
	ExternalIn MessageKind = "external-in"
	// ExternalOut messages are logs a contract emits to nowhere.
	ExternalOut MessageKind = "external-out"
)

// Message is a message a transaction received or sent.
type Message struct {
	Kind MessageKind
	// Hash is the normalised hash for an external-in message and the cell
	// hash otherwise.
	Hash []byte
	// Src is nil for an external-in message, Dst nil for an external-out.
	Src, Dst *address.Address
	// Value and FwdFee in nanoTON (zero for external messages). FwdFee is
	// the part of the forwarding fee still carried by the message; the
	// sender paid it on top of Value.
	Value   *big.Int
	FwdFee  *big.Int
	Bounce  bool
	Bounced bool
	// CreatedLT is zero for external-in messages.
	CreatedLT uint64
	Body      *cell.Cell
	// Comment is the text of a plain-text comment body (op 0), else "".
	Comment string
	// Cell is the message exactly as the chain stores it; set by FromCell,
	// nil when the transaction was built from a parse alone.
	Cell *cell.Cell
}

// Transaction is one executed transaction of one account.
type Transaction struct {
	Hash     []byte
	LT       uint64
	PrevHash []byte
	PrevLT   uint64
	Now      uint32
	// Account is the account the transaction ran on (workchain and hash).
	Account *address.Address
	// In is nil for transactions without an inbound message (tick-tock).
	In  *Message
	Out []*Message
	// TotalFees in nanoTON: storage, gas, import and the share of
	// forwarding fees kept by the sender's validators.
	TotalFees *big.Int
	// StorageFee is the part of TotalFees the storage phase collected.
	StorageFee *big.Int
	// Success is true when the transaction was not aborted (compute and
	// action phases both succeeded).
	Success bool
	// ExitCode is the compute phase's exit code; 0 when it was skipped.
	ExitCode int32
	// ComputeSkipped is true when no code ran (no state, no gas).
	ComputeSkipped bool
	// Bounced is true when the transaction sent a bounce back.
	Bounced bool
	// BOC is the full serialised transaction, for proofs and re-parsing.
	BOC []byte
}

// FromTLB converts a parsed tonutils-go transaction of the account in
// workchain wc. tx.Hash must be set (both ParseTransaction and the
// liteserver client set it).
func FromTLB(wc int32, tx *tlb.Transaction) (*Transaction, error) {
	if tx == nil {
		return nil, fmt.Errorf("ton: convert transaction: nil transaction")
	}
	txCell, err := tx.ToCell()
	if err != nil {
		return nil, fmt.Errorf("ton: serialise transaction lt %d: %w", tx.LT, err)
	}
	out := &Transaction{
		Hash:       append([]byte(nil), tx.Hash...),
		LT:         tx.LT,
		PrevHash:   append([]byte(nil), tx.PrevTxHash...),
		PrevLT:     tx.PrevTxLT,
		Now:        tx.Now,
		Account:    address.NewAddress(0, byte(wc), append([]byte(nil), tx.AccountAddr...)),
		TotalFees:  new(big.Int).Set(tx.TotalFees.Coins.Nano()),
		StorageFee: new(big.Int),
		BOC:        txCell.ToBOC(),
	}
	if len(out.Hash) == 0 {
		out.Hash = txCell.Hash()
	}
	if tx.IO.In != nil {
		if out.In, err = convertMessage(tx.IO.In); err != nil {
			return nil, fmt.Errorf("ton: transaction lt %d: inbound message: %w", tx.LT, err)
		}
	}
	if tx.IO.Out != nil {
		msgs, err := tx.IO.Out.ToSlice()
		if err != nil {
			return nil, fmt.Errorf("ton: transaction lt %d: outbound messages: %w", tx.LT, err)
		}
		for i := range msgs {
			m, err := convertMessage(&msgs[i])
			if err != nil {
				return nil, fmt.Errorf("ton: transaction lt %d: outbound message %d: %w", tx.LT, i, err)
			}
			out.Out = append(out.Out, m)
		}
	}
	fillOutcome(out, tx.Description)
	return out, nil
}

// fillOutcome reads success, exit code and bounce from the description.
func fillOutcome(out *Transaction, desc any) {
	var (
		compute tlb.ComputePhase
		aborted bool
	)
	switch d := desc.(type) {
	case tlb.TransactionDescriptionOrdinary:
		compute, aborted = d.ComputePhase, d.Aborted
		out.Bounced = d.BouncePhase != nil && isBounceOK(d.BouncePhase.Phase)
		if d.StoragePhase != nil {
			out.StorageFee.Set(d.StoragePhase.StorageFeesCollected.Nano())
		}
	case tlb.TransactionDescriptionTickTock:
		compute, aborted = d.ComputePhase, d.Aborted
		out.StorageFee.Set(d.StoragePhase.StorageFeesCollected.Nano())
	default:
		out.Success = true
		out.ComputeSkipped = true
		return
	}
	out.Success = !aborted
	switch p := compute.Phase.(type) {
	case tlb.ComputePhaseVM:
		out.ExitCode = p.Details.ExitCode
	case tlb.ComputePhaseSkipped:
		out.ComputeSkipped = true
	}
}

func isBounceOK(p any) bool {
	_, ok := p.(tlb.BouncePhaseOk)
	return ok
}

func convertMessage(m *tlb.Message) (*Message, error) {
	switch msg := m.Msg.(type) {
	case *tlb.InternalMessage:
		c, err := tlb.ToCell(msg)
		if err != nil {
			return nil, fmt.Errorf("serialise internal message: %w", err)
		}
		return &Message{
			Kind:      Internal,
			Hash:      c.Hash(),
			Src:       msg.SrcAddr,
			Dst:       msg.DstAddr,
			Value:     new(big.Int).Set(msg.Amount.Nano()),
			FwdFee:    new(big.Int).Set(msg.FwdFee.Nano()),
			Bounce:    msg.Bounce,
			Bounced:   msg.Bounced,
			CreatedLT: msg.CreatedLT,
			Body:      msg.Body,
			Comment:   comment(msg.Body),
		}, nil
	case *tlb.ExternalMessage:
		return &Message{
			Kind:    ExternalIn,
			Hash:    msg.NormalizedHash(),
			Dst:     msg.DstAddr,
			Value:   new(big.Int),
			FwdFee:  new(big.Int),
			Body:    msg.Body,
			Comment: comment(msg.Body),
		}, nil
	case *tlb.ExternalMessageOut:
		c, err := tlb.ToCell(msg)
		if err != nil {
			return nil, fmt.Errorf("serialise external-out message: %w", err)
		}
		return &Message{
			Kind:      ExternalOut,
			Hash:      c.Hash(),
			Src:       msg.SrcAddr,
			Value:     new(big.Int),
			FwdFee:    new(big.Int),
			CreatedLT: msg.CreatedLT,
			Body:      msg.Body,
		}, nil
	default:
		return nil, fmt.Errorf("unknown message type %T", m.Msg)
	}
}

// comment returns the text of a plain-text comment body (32-bit op 0
// followed by a snake string), or "".
func comment(body *cell.Cell) string {
	if body == nil {
		return ""
	}
	s, err := body.BeginParse()
	if err != nil {
		return ""
	}
	op, err := s.LoadUInt(32)
	if err != nil || op != 0 {
		return ""
	}
	text, err := s.LoadStringSnake()
	if err != nil {
		return ""
	}
	return text
}
