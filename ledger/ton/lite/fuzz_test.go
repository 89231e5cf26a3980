package lite

import (
	"bytes"
	"context"
	"math/big"
	"testing"

	"github.com/xssnick/tonutils-go/tl"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
	"github.com/xssnick/tonutils-go/tvm/vm"

	"github.com/tonmesh/tonmesh/ledger/ton"
)

// FuzzParseGlobalConfig: a global config fetched from a URL is bytes from
// the network.
func FuzzParseGlobalConfig(f *testing.F) {
	f.Add(testGlobalConfig(f, mainnetZeroState, 1, 2))
	f.Add([]byte(`{"liteservers":[{"ip":1,"port":1,"id":{"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		gc, err := parseGlobalConfig(data)
		if err != nil {
			return
		}
		if len(gc.Liteservers) == 0 || len(gc.Validator.InitBlock.RootHash) != 32 || gc.Validator.InitBlock.Workchain != -1 {
			t.Fatalf("accepted a config Dial cannot use: %+v", gc)
		}
	})
}

// FuzzTransactionsPage: a liteserver's page of transactions is bytes from
// the network; whatever it sends, Transactions errs or returns
// transactions whose BOC hashes to their hash, oldest first.
func FuzzTransactionsPage(f *testing.F) {
	fx := loadFixture(f)
	wallet := fx[walletHex]
	newestFirst := []*cell.Cell{wallet[3].cell, wallet[2].cell, wallet[1].cell, wallet[0].cell}
	f.Add(cell.ToBOCWithFlags(newestFirst, false))
	f.Add(cell.ToBOCWithFlags(newestFirst[:2], false))
	f.Add(wallet[3].cell.ToBOC())
	f.Add(fx[forwarderHex][0].cell.ToBOC())
	f.Add([]byte{0xb5, 0xee, 0x9c, 0x72})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, api := testChain(t, Mainnet)
		addr := serveAccount(api, wallet)
		api.ls.list = func(tonapi.GetTransactions) tl.Serializable {
			return tonapi.TransactionList{Transactions: data}
		}
		got, err := c.Transactions(context.Background(), addr, wallet[0].tx.PrevTxLT, 0)
		if err != nil {
			return
		}
		for i, tx := range got {
			back, err := cell.FromBOC(tx.BOC)
			if err != nil || !bytes.Equal(back.Hash(), tx.Hash) {
				t.Fatalf("tx %d: BOC does not hash to its hash", i)
			}
			if i > 0 && tx.LT <= got[i-1].LT {
				t.Fatalf("not oldest first")
			}
		}
	})
}

// FuzzRunGetMethodResult: a get-method's result stack is bytes from the
// network; RunGetMethod errs or returns only the types ton.Chain promises.
func FuzzRunGetMethodResult(f *testing.F) {
	seed := tlb.NewStack()
	seed.Push(big.NewInt(-5))
	seed.Push([]any{cell.BeginCell().EndCell(), nil})
	seed.Push(cell.BeginCell().MustStoreUInt(3, 2).ToSlice())
	if c, err := seed.ToCell(); err == nil {
		f.Add(c.ToBOC())
	}
	f.Add(cell.BeginCell().MustStoreUInt(1, 24).EndCell().ToBOC())
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := cell.FromBOC(data)
		if err != nil {
			return
		}
		c, api := testChain(t, Mainnet)
		api.ls.run = func(req *tonapi.RunSmcMethod) tl.Serializable {
			return tonapi.RunMethodResult{Mode: req.Mode, ID: req.ID, ShardBlock: req.ID, Result: res}
		}
		out, err := c.RunGetMethod(context.Background(), addrOf(1), "fuzz")
		if err != nil {
			return
		}
		var check func(v any, depth int)
		check = func(v any, depth int) {
			switch x := v.(type) {
			case nil, *big.Int, *cell.Cell, *cell.Slice, *cell.Builder, vm.NaN:
			case []any:
				if depth > ton.MaxStackDepth {
					t.Fatal("tuples nested too deep")
				}
				for _, it := range x {
					check(it, depth+1)
				}
			default:
				t.Fatalf("result of type %T", v)
			}
		}
		for _, v := range out {
			check(v, 0)
		}
	})
}
