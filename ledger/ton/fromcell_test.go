package ton

import (
	"bytes"
	"os"
	"testing"

	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// mainnetTxs loads the real mainnet transactions the lite package keeps as
// its fixture (see ledger/ton/lite/fixture_test.go).
func mainnetTxs(t *testing.T) []*cell.Cell {
	t.Helper()
	raw, err := os.ReadFile("lite/testdata/mainnet_txs.boc")
	if err != nil {
		t.Fatal(err)
	}
	roots, err := cell.FromBOCMultiRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	return roots
}

// TestFromCellKeepsChainHashes: every message hash FromCell gives is the
// hash of the cell the chain holds, also for the messages whose
// re-serialisation by tonutils-go differs (there must be some in the
// fixture, or the test proves nothing).
func TestFromCellKeepsChainHashes(t *testing.T) {
	reserialisedDiffers := 0
	for _, c := range mainnetTxs(t) {
		tx, err := FromCell(0, c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tx.Hash, c.Hash()) || !bytes.Equal(tx.BOC, c.ToBOC()) {
			t.Errorf("lt %d: hash or BOC not the chain's", tx.LT)
		}
		in, outs, err := messageCells(c)
		if err != nil {
			t.Fatal(err)
		}
		if in != nil {
			if tx.In.Cell == nil || !bytes.Equal(tx.In.Cell.Hash(), in.Hash()) {
				t.Errorf("lt %d: inbound message cell is not the chain's", tx.LT)
			}
			if tx.In.Kind != ExternalIn && !bytes.Equal(tx.In.Hash, in.Hash()) {
				t.Errorf("lt %d: inbound hash %x, chain %x", tx.LT, tx.In.Hash, in.Hash())
			}
			var parsed tlb.Message
			if err := tlb.Parse(&parsed, in); err != nil {
				t.Fatal(err)
			}
			if re, err := tlb.ToCell(parsed.Msg); err == nil && !bytes.Equal(re.Hash(), in.Hash()) {
				reserialisedDiffers++
			}
		}
		for i, m := range outs {
			if !bytes.Equal(tx.Out[i].Hash, m.Hash()) || tx.Out[i].Cell != m {
				t.Errorf("lt %d out %d: hash %x, chain %x", tx.LT, i, tx.Out[i].Hash, m.Hash())
			}
		}
		if tx.StorageFee == nil || tx.StorageFee.Cmp(tx.TotalFees) > 0 {
			t.Errorf("lt %d: storage fee %v of total %v", tx.LT, tx.StorageFee, tx.TotalFees)
		}
	}
	if reserialisedDiffers == 0 {
		t.Fatal("no fixture message re-serialises differently: the test lost its point")
	}
}

func TestFromCellRefusesGarbage(t *testing.T) {
	for _, c := range []*cell.Cell{nil, cell.BeginCell().EndCell(), cell.BeginCell().MustStoreUInt(7, 4).EndCell()} {
		if _, err := FromCell(0, c); err == nil {
			t.Errorf("FromCell(%v) accepted it", c)
		}
	}
}
