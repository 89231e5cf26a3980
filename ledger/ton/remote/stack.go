package remote

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// maxTVMInt bounds TVM integers: 257-bit signed.
var maxTVMInt = new(big.Int).Lsh(big.NewInt(1), 256)

// toValues encodes get-method arguments or results (the types ton.Chain
// documents) for the wire.
func toValues(items []any) ([]value, error) {
	count := 0
	out := make([]value, 0, len(items))
	for i, it := range items {
		v, err := toValue(it, 0, &count)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func toValue(a any, depth int, count *int) (value, error) {
	*count++
	if *count > maxStackItems {
		return value{}, fmt.Errorf("more than %d stack values", maxStackItems)
	}
	if depth > maxStackDepth {
		return value{}, fmt.Errorf("tuples nested deeper than %d", maxStackDepth)
	}
	switch v := a.(type) {
	case nil:
		return value{T: "null"}, nil
	case *big.Int:
		if v == nil {
			return value{T: "null"}, nil
		}
		return value{T: "int", N: v.String()}, nil
	case int:
		return value{T: "int", N: big.NewInt(int64(v)).String()}, nil
	case int32:
		return value{T: "int", N: big.NewInt(int64(v)).String()}, nil
	case int64:
		return value{T: "int", N: big.NewInt(v).String()}, nil
	case uint32:
		return value{T: "int", N: new(big.Int).SetUint64(uint64(v)).String()}, nil
	case uint64:
		return value{T: "int", N: new(big.Int).SetUint64(v).String()}, nil
	case *cell.Cell:
		return value{T: "cell", BOC: v.ToBOC()}, nil
	case *cell.Slice:
		c, err := v.Copy().ToCell()
		if err != nil {
			return value{}, fmt.Errorf("slice: %w", err)
		}
		return value{T: "slice", BOC: c.ToBOC()}, nil
	case *cell.Builder:
		return value{T: "builder", BOC: v.EndCell().ToBOC()}, nil
	case *address.Address:
		c := cell.BeginCell().MustStoreAddr(v).EndCell()
		return value{T: "slice", BOC: c.ToBOC()}, nil
	case []any:
		items := make([]value, 0, len(v))
		for _, x := range v {
			iv, err := toValue(x, depth+1, count)
			if err != nil {
				return value{}, err
			}
			items = append(items, iv)
		}
		return value{T: "tuple", Items: items}, nil
	default:
		return value{}, fmt.Errorf("unsupported type %T: use *big.Int, an integer, *cell.Cell, *cell.Slice, *cell.Builder, *address.Address or []any", a)
	}
}

// fromValues decodes wire values (from the network) into the Go types
// ton.Chain documents, checking every limit.
func fromValues(vs []value) ([]any, error) {
	count := 0
	out := make([]any, 0, len(vs))
	for i := range vs {
		v, err := fromValue(&vs[i], 0, &count)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func fromValue(v *value, depth int, count *int) (any, error) {
	*count++
	if *count > maxStackItems {
		return nil, fmt.Errorf("more than %d stack values", maxStackItems)
	}
	if depth > maxStackDepth {
		return nil, fmt.Errorf("tuples nested deeper than %d", maxStackDepth)
	}
	if v.T != "int" && v.N != "" || v.T != "tuple" && v.Items != nil {
		return nil, fmt.Errorf("%q value with fields of another type", v.T)
	}
	isCell := v.T == "cell" || v.T == "slice" || v.T == "builder"
	if !isCell && v.BOC != nil {
		return nil, fmt.Errorf("%q value with a BOC", v.T)
	}
	switch v.T {
	case "null":
		return nil, nil
	case "int":
		if len(v.N) == 0 || len(v.N) > maxIntDigits {
			return nil, fmt.Errorf("int %q: want 1 to %d digits", v.N, maxIntDigits)
		}
		n, ok := new(big.Int).SetString(v.N, 10)
		if !ok {
			return nil, fmt.Errorf("int %q is not a decimal integer", v.N)
		}
		if n.CmpAbs(maxTVMInt) >= 0 {
			return nil, errors.New("int out of the 257-bit TVM range")
		}
		return n, nil
	case "cell", "slice", "builder":
		c, err := parseBOC(v.BOC, maxCellBOC)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.T, err)
		}
		switch v.T {
		case "slice":
			s, err := c.BeginParse()
			if err != nil {
				return nil, fmt.Errorf("slice: %w", err)
			}
			return s, nil
		case "builder":
			return c.ToBuilder(), nil
		}
		return c, nil
	case "tuple":
		items := make([]any, 0, len(v.Items))
		for i := range v.Items {
			x, err := fromValue(&v.Items[i], depth+1, count)
			if err != nil {
				return nil, err
			}
			items = append(items, x)
		}
		return items, nil
	default:
		return nil, fmt.Errorf("unknown value type %q", v.T)
	}
}
