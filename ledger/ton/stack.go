package ton

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Bounds on get-method stacks (arguments and results).
const (
	MaxStackItems = 1024
	MaxStackDepth = 16
	// MaxTupleLen is the most values a TVM tuple holds.
	MaxTupleLen = 255
)

// TVMIntOK reports whether v fits a TVM integer: -2^256 <= v < 2^256.
func TVMIntOK(v *big.Int) bool {
	limit := new(big.Int).Lsh(big.NewInt(1), 256)
	return v.Cmp(limit) < 0 && v.Cmp(new(big.Int).Neg(limit)) >= 0
}

// StackArgs checks get-method arguments (the types Chain.RunGetMethod
// documents) and copies them into normalised values: *big.Int, *cell.Cell,
// *cell.Slice, *cell.Builder, nil, and []any for tuples. tonutils-go panics
// on values it cannot store (a nil pointer, an integer over 257 bits), so
// every implementation of Chain checks its arguments here. The order is
// kept: the first argument is the deepest on the stack.
func StackArgs(args []any) ([]any, error) {
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
	if *count > MaxStackItems {
		return nil, fmt.Errorf("more than %d stack values", MaxStackItems)
	}
	if depth > MaxStackDepth {
		return nil, fmt.Errorf("tuples nested deeper than %d", MaxStackDepth)
	}
	switch v := a.(type) {
	case nil:
		return nil, nil
	case *big.Int:
		if v == nil {
			return nil, errors.New("nil *big.Int (pass nil itself for a null)")
		}
		if !TVMIntOK(v) {
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
		if len(v) > MaxTupleLen {
			return nil, fmt.Errorf("a tuple of %d values: TVM tuples hold at most %d", len(v), MaxTupleLen)
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
