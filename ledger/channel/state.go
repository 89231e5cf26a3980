package channel

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/big"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// State is a deployed channel as the chain holds it now.
type State struct {
	Params
	// Deposited is the total credited by top-ups; Redeemed the total paid
	// to the payee. Both nanoTON.
	Deposited, Redeemed *big.Int
	// ClosingAt is when the payer closed the channel; zero while open.
	ClosingAt time.Time
	// Balance is the contract's balance: Deposited - Redeemed plus the fee
	// reserve, less fees spent.
	Balance *big.Int
}

// Closing reports whether the payer has started the close timeout.
func (s *State) Closing() bool { return !s.ClosingAt.IsZero() }

// Deadline is the end of the close timeout; zero while open.
func (s *State) Deadline() time.Time {
	if !s.Closing() {
		return time.Time{}
	}
	return s.ClosingAt.Add(s.Timeout)
}

// ReadState reads channel ch through its get_channel_data get-method. A
// channel not deployed (or already finalized) fails with ton.ErrNotActive.
func ReadState(ctx context.Context, chain ton.Chain, ch *address.Address) (*State, error) {
	acct, err := chain.Account(ctx, ch)
	if err != nil {
		return nil, fmt.Errorf("channel: read account %s: %w", ch, err)
	}
	res, err := chain.RunGetMethod(ctx, ch, "get_channel_data")
	if err != nil {
		return nil, fmt.Errorf("channel: read state of %s: %w", ch, err)
	}
	if len(res) != 9 {
		return nil, fmt.Errorf("channel: %s returned %d values from get_channel_data, want 9: is it a channel?", ch, len(res))
	}
	payer, err1 := addrOf(res[0])
	payee, err2 := addrOf(res[1])
	ints := make([]*big.Int, 7)
	for i := range ints {
		v, ok := res[2+i].(*big.Int)
		if !ok {
			return nil, fmt.Errorf("channel: %s: get_channel_data value %d is %T, want an integer", ch, 2+i, res[2+i])
		}
		ints[i] = v
	}
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("channel: %s: bad addresses in get_channel_data: %v %v", ch, err1, err2)
	}
	key := make([]byte, ed25519.PublicKeySize)
	ints[0].FillBytes(key)
	st := &State{
		Params: Params{
			Payer:    payer,
			Payee:    payee,
			PayerKey: key,
			GlobalID: int32(ints[1].Int64()),
			ID:       ints[2].Uint64(),
			Timeout:  time.Duration(ints[3].Int64()) * time.Second,
		},
		Deposited: ints[4],
		Redeemed:  ints[5],
		Balance:   acct.Balance,
	}
	if at := ints[6].Int64(); at != 0 {
		st.ClosingAt = time.Unix(at, 0)
	}
	return st, nil
}

func addrOf(v any) (*address.Address, error) {
	s, ok := v.(*cell.Slice)
	if !ok {
		return nil, fmt.Errorf("got %T, want a slice", v)
	}
	return s.Copy().LoadAddr()
}
