package ton

import (
	"errors"
	"fmt"

	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// FromCell decodes the transaction cell c, as the chain stores it, of an
// account in workchain wc. Unlike FromTLB alone it takes the transaction's
// hash and BOC and every message's cell from c itself: tonutils-go may
// re-serialise a message in another layout than the chain's (a body or
// state init inline instead of in a reference), which gives other bytes and
// another hash, on about 6 % of real mainnet transactions. External-in
// messages keep the normalised hash, which does not depend on the layout.
// It never panics on bad input.
func FromCell(wc int32, c *cell.Cell) (out *Transaction, err error) {
	if c == nil {
		return nil, errors.New("ton: transaction: nil cell")
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("ton: transaction: malformed (%v)", r)
		}
	}()
	var tx tlb.Transaction
	if err := tlb.Parse(&tx, c); err != nil {
		return nil, fmt.Errorf("ton: not a transaction: %w", err)
	}
	tx.Hash = c.Hash()
	if out, err = FromTLB(wc, &tx); err != nil {
		return nil, err
	}
	out.Hash, out.BOC = c.Hash(), c.ToBOC()
	in, outs, err := messageCells(c)
	if err != nil {
		return nil, fmt.Errorf("ton: transaction lt %d: %w", out.LT, err)
	}
	if (in != nil) != (out.In != nil) {
		return nil, fmt.Errorf("ton: transaction lt %d: inbound message presence disagrees with its parse", out.LT)
	}
	if in != nil {
		out.In.Cell = in
		if out.In.Kind != ExternalIn {
			out.In.Hash = in.Hash()
		}
	}
	if len(outs) != len(out.Out) {
		return nil, fmt.Errorf("ton: transaction lt %d: %d outbound message cells, %d parsed", out.LT, len(outs), len(out.Out))
	}
	for i, m := range outs {
		out.Out[i].Cell, out.Out[i].Hash = m, m.Hash()
	}
	return out, nil
}

// messageCells returns the inbound message cell (nil when none) and the
// outbound message cells, in the order FromTLB lists them, from the
// transaction's message reference: ^[ in_msg:(Maybe ^Message)
// out_msgs:(HashmapE 15 ^Message) ].
func messageCells(c *cell.Cell) (*cell.Cell, []*cell.Cell, error) {
	io, err := c.PeekRef(0)
	if err != nil {
		return nil, nil, fmt.Errorf("no message reference: %w", err)
	}
	s, err := io.BeginParse()
	if err != nil {
		return nil, nil, err
	}
	hasIn, err := s.LoadBoolBit()
	if err != nil {
		return nil, nil, err
	}
	var in *cell.Cell
	if hasIn {
		if in, err = s.LoadRefCell(); err != nil {
			return nil, nil, fmt.Errorf("inbound message: %w", err)
		}
	}
	dict, err := s.LoadDict(15)
	if err != nil {
		return nil, nil, fmt.Errorf("outbound messages: %w", err)
	}
	// The same dictionary, walked the same way, as FromTLB's list.
	kvs, err := dict.LoadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("outbound messages: %w", err)
	}
	outs := make([]*cell.Cell, 0, len(kvs))
	for i, kv := range kvs {
		m, err := kv.Value.LoadRefCell()
		if err != nil {
			return nil, nil, fmt.Errorf("outbound message %d: %w", i, err)
		}
		outs = append(outs, m)
	}
	return in, outs, nil
}
