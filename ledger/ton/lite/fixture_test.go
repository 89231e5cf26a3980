package lite

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"

	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// fixturePath holds real mainnet transactions: every transaction of two
// accounts in basechain block 0:8000000000000000:71398501 (a wallet that
// sent an external order, then received three messages; a contract that
// received and forwarded four messages), plus two single transactions of
// that block: an aborted transfer with a text comment to an account that
// does not exist, and a transaction sending a text comment. They were cut
// from tonutils-go v1.18.0's tlb/testdata/block_0_8000000000000000_71398501.boc
// (block root hash 244d0a2f…c241) by TestWriteFixture.
const fixturePath = "testdata/mainnet_txs.boc"

// fixtureBlockEnv names the block BOC TestWriteFixture cuts the fixture
// from; the test is skipped when it is unset.
const fixtureBlockEnv = "TONMESH_LITE_FIXTURE_BLOCK"

// The fixture's accounts (hex of the 256-bit address in workchain 0) and
// the logical times of the two single transactions.
const (
	walletHex    = "cee275c941f48642c51c72ca25b8cc458a927d22201d1c9f7908947a0d46171d"
	forwarderHex = "88dac67cceadb9cae6faac7118f05c0fa95df36c2a92e686ac39d96310d0a387"
	spamLT       = 76734069000002 // account cfaede53…
	starsLT      = 76734069000001 // account dfec1432…
)

// TestWriteFixture regenerates fixturePath from the block named by
// $TONMESH_LITE_FIXTURE_BLOCK.
func TestWriteFixture(t *testing.T) {
	path := os.Getenv(fixtureBlockEnv)
	if path == "" {
		t.Skipf("set %s to tonutils-go's tlb/testdata/block_0_8000000000000000_71398501.boc to regenerate %s", fixtureBlockEnv, fixturePath)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := cell.FromBOC(raw)
	if err != nil {
		t.Fatal(err)
	}
	var blk tlb.Block
	if err := tlb.LoadFromCell(&blk, root.MustBeginParse()); err != nil {
		t.Fatal(err)
	}
	wallet, _ := hex.DecodeString(walletHex)
	forwarder, _ := hex.DecodeString(forwarderHex)
	var roots []*cell.Cell
	for _, c := range blockTransactionCells(t, &blk) {
		var tx tlb.Transaction
		if err := tlb.Parse(&tx, c); err != nil {
			t.Fatal(err)
		}
		keep := bytes.Equal(tx.AccountAddr, wallet) || bytes.Equal(tx.AccountAddr, forwarder) ||
			tx.LT == spamLT && tx.AccountAddr[0] == 0xcf && tx.AccountAddr[1] == 0xae ||
			tx.LT == starsLT && tx.AccountAddr[0] == 0xdf && tx.AccountAddr[1] == 0xec
		if keep {
			roots = append(roots, c)
		}
	}
	if len(roots) != 10 {
		t.Fatalf("picked %d transactions, want 10", len(roots))
	}
	if err := os.WriteFile(fixturePath, cell.ToBOCWithFlags(roots, false), 0o644); err != nil {
		t.Fatal(err)
	}
}

// blockTransactionCells returns the cells of every transaction in blk, as
// the block holds them (ShardAccountBlocks: HashmapAugE 256 AccountBlock
// CurrencyCollection; each AccountBlock's transactions: HashmapAug 64
// ^Transaction CurrencyCollection).
func blockTransactionCells(t *testing.T, blk *tlb.Block) []*cell.Cell {
	t.Helper()
	s := blk.Extra.ShardAccountBlocks.MustBeginParse()
	if !s.MustLoadBoolBit() {
		return nil
	}
	accounts, err := s.MustLoadRef().MustToCell().AsDict(256).LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []*cell.Cell
	for _, kv := range accounts {
		var extra tlb.CurrencyCollection
		if err := tlb.LoadFromCell(&extra, kv.Value); err != nil {
			t.Fatal(err)
		}
		var ab tlb.AccountBlock
		if err := tlb.LoadFromCell(&ab, kv.Value); err != nil {
			t.Fatal(err)
		}
		txs, err := ab.Transactions.AsCell().AsDict(64).LoadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, tkv := range txs {
			if err := tlb.LoadFromCell(&extra, tkv.Value); err != nil {
				t.Fatal(err)
			}
			out = append(out, tkv.Value.MustLoadRef().MustToCell())
		}
	}
	return out
}
