package ton

import (
	"math/big"
	"testing"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

func TestStackArgs(t *testing.T) {
	limit := new(big.Int).Lsh(big.NewInt(1), 256)
	got, err := StackArgs([]any{7, uint64(9), new(big.Int).Neg(limit), []any{int32(1), nil}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].(*big.Int).Int64() != 7 || got[1].(*big.Int).Uint64() != 9 || got[3].([]any)[0].(*big.Int).Int64() != 1 || got[3].([]any)[1] != nil {
		t.Fatalf("normalised args = %v", got)
	}
	for name, a := range map[string]any{
		"nil *big.Int": (*big.Int)(nil), "2^256": limit, "nil cell": (*cell.Cell)(nil),
		"string": "x", "long tuple": make([]any, MaxTupleLen+1),
	} {
		if _, err := StackArgs([]any{a}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
