package lite

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tl"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// rawTx is a transaction as the liteserver sent it, and parsed.
type rawTx struct {
	cell *cell.Cell
	tx   *tlb.Transaction
}

// Transactions implements ton.Chain. It starts at the last transaction of
// the proven account state and walks back along the previous-transaction
// hashes, a page at a time, down to afterLT, keeping the oldest limit
// transactions. A liteserver keeps only recent history unless it is an
// archive node: reading far back can fail, and the error says so.
func (c *Chain) Transactions(ctx context.Context, addr *address.Address, afterLT uint64, limit int) (out []*ton.Transaction, err error) {
	st, err := c.Account(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer guard("transactions of "+addr.String(), &err)
	var kept []rawTx // newest first
	lt, hash := st.LastTxLT, st.LastTxHash
	for lt > afterLT {
		page, err := c.page(ctx, addr, lt, hash)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if r.tx.LT != lt {
				// The hash chain already implies it; this also guarantees
				// that the walk goes strictly down.
				return nil, fmt.Errorf("lite: transactions of %s: the liteserver sent lt %d for lt %d", addr, r.tx.LT, lt)
			}
			if r.tx.LT <= afterLT {
				lt = 0
				break
			}
			kept = append(kept, r)
			if limit > 0 && len(kept) > limit {
				kept = kept[1:] // drop the newest: the oldest limit are wanted
			}
			lt, hash = r.tx.PrevTxLT, r.tx.PrevTxHash
		}
	}
	out = make([]*ton.Transaction, 0, len(kept))
	for i := len(kept) - 1; i >= 0; i-- {
		tx, err := convertTx(addr.Workchain(), kept[i])
		if err != nil {
			return nil, fmt.Errorf("lite: transaction lt %d of %s: %w", kept[i].tx.LT, addr, err)
		}
		out = append(out, tx)
	}
	return out, nil
}

// page asks for the transactions of addr ending at (lt, hash), newest
// first, and checks that they are that transaction and its predecessors:
// each one's hash is the hash its successor names.
func (c *Chain) page(ctx context.Context, addr *address.Address, lt uint64, hash []byte) ([]rawTx, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lite: transactions of %s: %w", addr, err)
	}
	var resp tl.Serializable
	err := c.api.Client().QueryLiteserver(ctx, tonapi.GetTransactions{
		Limit:  int32(c.pageSize),
		AccID:  &tonapi.AccountID{Workchain: addr.Workchain(), ID: addr.Data()},
		LT:     int64(lt),
		TxHash: hash,
	}, &resp)
	if err != nil {
		return nil, fmt.Errorf("lite: transactions of %s up to lt %d: %w", addr, lt, err)
	}
	var list tonapi.TransactionList
	switch t := resp.(type) {
	case tonapi.TransactionList:
		list = t
	case tonapi.LSError:
		return nil, fmt.Errorf("lite: transactions of %s up to lt %d: %w%s", addr, lt, t, historyHint(t))
	default:
		return nil, fmt.Errorf("lite: transactions of %s up to lt %d: unexpected answer %T", addr, lt, resp)
	}
	roots, err := cell.FromBOCMultiRoot(list.Transactions)
	if err != nil {
		return nil, fmt.Errorf("lite: transactions of %s up to lt %d: bad BOC from the liteserver: %w", addr, lt, err)
	}
	if len(roots) == 0 || len(roots) > int(c.pageSize) {
		return nil, fmt.Errorf("lite: transactions of %s up to lt %d: the liteserver sent %d transactions for a page of %d", addr, lt, len(roots), c.pageSize)
	}
	out := make([]rawTx, 0, len(roots))
	want := hash
	for i, root := range roots {
		if !bytes.Equal(root.Hash(), want) {
			return nil, fmt.Errorf("lite: transactions of %s up to lt %d: transaction %d of the page has hash %x, the chain of hashes says %x: the liteserver sent wrong data", addr, lt, i, root.Hash(), want)
		}
		var tx tlb.Transaction
		if err := tlb.Parse(&tx, root); err != nil {
			return nil, fmt.Errorf("lite: transaction %x of %s: %w", want, addr, err)
		}
		tx.Hash = root.Hash()
		if tx.PrevTxLT >= tx.LT {
			return nil, fmt.Errorf("lite: transaction %x of %s: previous lt %d is not below its lt %d", want, addr, tx.PrevTxLT, tx.LT)
		}
		out = append(out, rawTx{cell: root, tx: &tx})
		if tx.PrevTxLT == 0 {
			break // the account's first transaction
		}
		want = tx.PrevTxHash
	}
	return out, nil
}

// historyHint explains the error pruned liteservers give for old history.
func historyHint(e tonapi.LSError) string {
	if e.Code == -400 || strings.Contains(e.Text, "not in db") {
		return "; this liteserver no longer keeps that part of the account's history: " +
			"list an archive liteserver in ton.global_config, or read the account's transactions more often"
	}
	return ""
}

// convertTx converts with the shared ton.FromCell, which takes the
// transaction's hash and BOC, and the cells and hashes of its messages,
// from the cell the liteserver sent rather than from a re-serialisation.
func convertTx(wc int32, r rawTx) (*ton.Transaction, error) {
	return ton.FromCell(wc, r.cell)
}
