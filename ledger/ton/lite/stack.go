package lite

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
	"github.com/xssnick/tonutils-go/tvm/vm"
)

// Bounds on get-method stacks (arguments and results).
const (
	maxStackItems = 1024
	maxStackDepth = 16
	// maxTupleLen is the most values a TVM tuple holds.
	maxTupleLen = 255
)

// tvmIntOK reports whether v fits a TVM integer: -2^256 <= v < 2^256.
func tvmIntOK(v *big.Int) bool {
	limit := new(big.Int).Lsh(big.NewInt(1), 256)
	return v.Cmp(limit) < 0 && v.Cmp(new(big.Int).Neg(limit)) >= 0
}

// stackArgs checks get-method arguments (the types ton.Chain documents)
// and copies them into the values tonutils-go serialises. tonutils-go
// panics on values it cannot store (a nil pointer, an integer over 257
// bits), so every one is checked here. The order is kept: tonutils-go,
// like ton.Chain, takes the first argument as the deepest.
func stackArgs(args []any) ([]any, error) {
	count := 0
	out := make([]any, len(args))
	for i, a := range args {
		v, err := stackArg(a, 0, &count)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

func stackArg(a any, depth int, count *int) (any, error) {
	*count++
	if *count > maxStackItems {
		return nil, fmt.Errorf("more than %d stack values", maxStackItems)
	}
	if depth > maxStackDepth {
		return nil, fmt.Errorf("tuples nested deeper than %d", maxStackDepth)
	}
	switch v := a.(type) {
	case nil:
		return nil, nil
	case *big.Int:
		if v == nil {
			return nil, errors.New("nil *big.Int (pass nil itself for a null)")
		}
		if !tvmIntOK(v) {
			return nil, errors.New("integer out of the 257-bit TVM range")
		}
		return new(big.Int).Set(v), nil
	case int:
		return big.NewInt(int64(v)), nil
	case int32:
		return big.NewInt(int64(v)), nil
	case int64:
		return big.NewInt(v), nil
	case uint32:
		return new(big.Int).SetUint64(uint64(v)), nil
	case uint64:
		return new(big.Int).SetUint64(v), nil
	case *cell.Cell:
		if v == nil {
			return nil, errors.New("nil *cell.Cell")
		}
		return v, nil
	case *cell.Slice:
		if v == nil {
			return nil, errors.New("nil *cell.Slice")
		}
		return v.Copy(), nil
	case *cell.Builder:
		if v == nil {
			return nil, errors.New("nil *cell.Builder")
		}
		return v.Copy(), nil
	case *address.Address:
		if v == nil {
			return nil, errors.New("nil *address.Address")
		}
		b := cell.BeginCell()
		if err := b.StoreAddr(v); err != nil {
			return nil, fmt.Errorf("address %s: %w", v, err)
		}
		return b.ToSlice(), nil
	case []any:
		if len(v) > maxTupleLen {
			return nil, fmt.Errorf("a tuple of %d values: TVM tuples hold at most %d", len(v), maxTupleLen)
		}
		items := make([]any, len(v))
		for i, x := range v {
			iv, err := stackArg(x, depth+1, count)
			if err != nil {
				return nil, err
			}
			items[i] = iv
		}
		return items, nil
	default:
		return nil, fmt.Errorf("unsupported type %T: use *big.Int, an integer, *cell.Cell, *cell.Slice, *cell.Builder, *address.Address or []any", a)
	}
}

// stackResults converts the values tonutils-go decoded from a liteserver's
// result stack (first returned value first, as ton.Chain wants) into the
// types ton.Chain documents. A NaN comes back as vm.NaN, as the emulated
// chain returns it.
func stackResults(vals []any) ([]any, error) {
	count := 0
	out := make([]any, len(vals))
	for i, v := range vals {
		r, err := stackResult(v, 0, &count)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		out[i] = r
	}
	return out, nil
}

func stackResult(v any, depth int, count *int) (any, error) {
	*count++
	if *count > maxStackItems {
		return nil, fmt.Errorf("more than %d stack values", maxStackItems)
	}
	if depth > maxStackDepth {
		return nil, fmt.Errorf("tuples nested deeper than %d", maxStackDepth)
	}
	switch x := v.(type) {
	case nil, *big.Int, *cell.Cell, *cell.Slice, *cell.Builder:
		return x, nil
	case tlb.StackNaN:
		return vm.NaN{}, nil
	case []any:
		items := make([]any, len(x))
		for i, it := range x {
			r, err := stackResult(it, depth+1, count)
			if err != nil {
				return nil, err
			}
			items[i] = r
		}
		return items, nil
	default:
		return nil, fmt.Errorf("unexpected stack value of type %T", v)
	}
}
