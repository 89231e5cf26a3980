package emu

import (
	"context"
	"fmt"
	"math/big"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm"
	"github.com/xssnick/tonutils-go/tvm/cell"
	"github.com/xssnick/tonutils-go/tvm/tuple"
	"github.com/xssnick/tonutils-go/tvm/vm"
)

// getMethodGas is the gas limit of a get-method run, as liteservers use.
const getMethodGas = 1_000_000

// RunGetMethod implements ton.Chain. The method runs on a snapshot of the
// account; execution happens outside the chain's lock.
func (c *Chain) RunGetMethod(ctx context.Context, addr *address.Address, method string, args ...any) ([]any, error) {
	res, err := c.RunGetMethodResult(ctx, addr, method, args...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 && res.ExitCode != 1 {
		return nil, &ton.ErrGetMethod{Method: method, ExitCode: res.ExitCode}
	}
	return res.Stack, nil
}

// RunGetMethodResult implements ton.GetMethodRunner: a method that fails
// is a result with its exit code and the gas it used.
func (c *Chain) RunGetMethodResult(ctx context.Context, addr *address.Address, method string, args ...any) (*ton.GetMethodResult, error) {
	st, err := c.Account(ctx, addr)
	if err != nil {
		return nil, err
	}
	if st.Status != ton.StatusActive || st.Code == nil {
		return nil, fmt.Errorf("%w: %s is %s", ton.ErrNotActive, addr, st.Status)
	}
	vals, err := ton.StackArgs(args)
	if err != nil {
		return nil, fmt.Errorf("emu: get-method %q: %w", method, err)
	}
	stack := vm.NewStack()
	for i, v := range vals {
		if err := stack.PushAny(tvmValue(v)); err != nil {
			return nil, fmt.Errorf("emu: get-method %q argument %d: %w", method, i, err)
		}
	}
	if err := stack.PushInt(new(big.Int).SetUint64(tlb.MethodNameHash(method))); err != nil {
		return nil, fmt.Errorf("emu: get-method %q: %w", method, err)
	}
	c7, err := c.getMethodC7(addr, st)
	if err != nil {
		return nil, err
	}
	// The TVM attaches gas traces to the cells it runs, so concurrent
	// get-methods on one account must not share the cached cells.
	code, err := cell.FromBOC(st.Code.ToBOC())
	if err != nil {
		return nil, fmt.Errorf("emu: copy code of %s: %w", addr, err)
	}
	data, err := cell.FromBOC(st.Data.ToBOC())
	if err != nil {
		return nil, fmt.Errorf("emu: copy data of %s: %w", addr, err)
	}
	res, err := tvm.NewTVM().ExecuteGetMethod(code, data, c7, vm.GasWithLimit(getMethodGas), stack, tvm.ExecutionConfig{Config: c.cfg})
	if err != nil && res == nil {
		return nil, fmt.Errorf("emu: get-method %q on %s: %w", method, addr, err)
	}
	out := &ton.GetMethodResult{ExitCode: res.ExitCode, GasUsed: res.GasUsed, Stack: []any{}}
	if res.ExitCode != 0 && res.ExitCode != 1 {
		return out, nil
	}
	for i := res.Stack.Len() - 1; i >= 0; i-- { // bottom first
		v, err := res.Stack.Get(i)
		if err != nil {
			return nil, fmt.Errorf("emu: get-method %q result: %w", method, err)
		}
		out.Stack = append(out.Stack, goValue(v))
	}
	return out, nil
}

// getMethodC7 builds the smart-contract context a liteserver gives a
// get-method: the block's time and config, the account's address, balance
// and code.
func (c *Chain) getMethodC7(addr *address.Address, st *ton.AccountState) (tuple.Tuple, error) {
	now := c.now()
	block, err := c.cfg.NewBlockContext(tvm.BlockOptions{Now: uint32(now.Unix()), GlobalID: c.globalID})
	if err != nil {
		return tuple.Tuple{}, fmt.Errorf("emu: get-method context: %w", err)
	}
	var unpacked any
	if u, ok := block.UnpackedConfig(); ok {
		unpacked = u
	}
	c.mu.Lock()
	lt := c.meta.lt
	c.mu.Unlock()
	inner := []any{
		big.NewInt(0x076ef1ea), // magic
		big.NewInt(0),          // actions
		big.NewInt(0),          // msgs_sent
		big.NewInt(now.Unix()), // unixtime
		new(big.Int).SetUint64(lt),
		new(big.Int).SetUint64(lt),
		big.NewInt(0), // rand seed
		tuple.NewTupleValue(new(big.Int).Set(st.Balance), nil),
		cell.BeginCell().MustStoreAddr(addr).ToSlice(),
		c.cfg.Root(),
		st.Code,
		tuple.NewTupleValue(big.NewInt(0), nil), // incoming value
		big.NewInt(0),                           // storage fees
		nil,                                     // prev blocks
		unpacked,
		nil, // due payment
		nil, // precompiled gas usage
		tuple.NewTupleValue(big.NewInt(0), big.NewInt(0), // in_msg_params (none)
			cell.BeginCell().MustStoreUInt(0, 2).ToSlice(),
			big.NewInt(0), big.NewInt(0), big.NewInt(0), big.NewInt(0), big.NewInt(0), nil, nil),
	}
	return tuple.NewTupleValue(tuple.NewTupleOwned(inner)), nil
}

// tvmValue turns a value checked by ton.StackArgs into what the TVM's
// stack holds: tuples become TVM tuples.
func tvmValue(v any) any {
	items, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(items))
	for i, x := range items {
		out[i] = tvmValue(x)
	}
	return tuple.NewTupleOwned(out)
}

// goValue converts a TVM stack value into the types ton.Chain promises.
func goValue(v any) any {
	switch x := v.(type) {
	case tuple.Tuple:
		items := make([]any, x.Len())
		for i := range items {
			item, _ := x.Index(i)
			items[i] = goValue(item)
		}
		return items
	case *tuple.Tuple:
		if x == nil {
			return nil
		}
		return goValue(*x)
	default:
		return v
	}
}
