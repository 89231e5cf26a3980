package lite

import (
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
	"github.com/xssnick/tonutils-go/tvm/vm"

	"github.com/tonmesh/tonmesh/ledger/ton"
)

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
	if *count > ton.MaxStackItems {
		return nil, fmt.Errorf("more than %d stack values", ton.MaxStackItems)
	}
	if depth > ton.MaxStackDepth {
		return nil, fmt.Errorf("tuples nested deeper than %d", ton.MaxStackDepth)
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
