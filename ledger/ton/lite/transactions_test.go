package lite

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/tl"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

func bigInt(v int64) *big.Int { return big.NewInt(v) }

// The wallet's four transactions in the fixture block, oldest first: an
// external order, then three incoming messages.
var walletLTs = []uint64{76734069000001, 76734069000011, 76734069000020, 76734069000021}

func TestTransactionsRealMainnetWallet(t *testing.T) {
	fx := loadFixture(t)
	list := fx[walletHex]
	if len(list) != 4 {
		t.Fatalf("fixture has %d wallet transactions, want 4", len(list))
	}
	ctx := context.Background()
	for _, ps := range []uint32{pageSize, 3, 1} {
		c, api := testChain(t, Mainnet)
		c.pageSize = ps
		addr := serveAccount(api, list)
		before := api.ls.count("list")
		got, err := c.Transactions(ctx, addr, list[0].tx.PrevTxLT, 0)
		if err != nil {
			t.Fatalf("page size %d: %v", ps, err)
		}
		if len(got) != 4 {
			t.Fatalf("page size %d: %d transactions, want 4", ps, len(got))
		}
		if pages, want := api.ls.count("list")-before, (4+int(ps)-1)/int(ps); pages != want {
			t.Errorf("page size %d: %d getTransactions, want %d", ps, pages, want)
		}
		for i, tx := range got {
			if tx.LT != walletLTs[i] {
				t.Errorf("tx %d: lt %d, want %d", i, tx.LT, walletLTs[i])
			}
			checkAgainstChainCell(t, tx, list[i].cell)
			if i > 0 && (!bytes.Equal(tx.PrevHash, got[i-1].Hash) || tx.PrevLT != got[i-1].LT) {
				t.Errorf("tx %d does not name tx %d as its previous one", i, i-1)
			}
			if !tx.Account.Equals(addr) {
				t.Errorf("tx %d: account %s, want %s", i, tx.Account, addr)
			}
		}
		first := got[0]
		if first.In == nil || first.In.Kind != ton.ExternalIn || len(first.Out) != 1 || !first.Success {
			t.Fatalf("first wallet tx: want a successful external order with one out message, got %+v", first)
		}
		ext := list[0].tx.IO.In.Msg.(*tlb.ExternalMessage)
		if !bytes.Equal(first.In.Hash, ext.NormalizedHash()) {
			t.Errorf("external-in hash %x is not the normalised hash %x", first.In.Hash, ext.NormalizedHash())
		}
		for i, tx := range got[1:] {
			if tx.In == nil || tx.In.Kind != ton.Internal || !tx.In.Dst.Equals(addr) || tx.In.Value.Sign() <= 0 {
				t.Errorf("incoming tx %d: want an internal message with value to the wallet, got %+v", i+1, tx.In)
			}
		}
	}
}

// checkAgainstChainCell compares a converted transaction with the cell the
// chain holds: hash, BOC and every message hash.
func checkAgainstChainCell(t *testing.T, tx *ton.Transaction, chainCell *cell.Cell) {
	t.Helper()
	if !bytes.Equal(tx.Hash, chainCell.Hash()) {
		t.Errorf("lt %d: hash %x, chain %x", tx.LT, tx.Hash, chainCell.Hash())
	}
	back, err := cell.FromBOC(tx.BOC)
	if err != nil || !bytes.Equal(back.Hash(), tx.Hash) {
		t.Errorf("lt %d: BOC does not hash to the transaction hash (%v)", tx.LT, err)
	}
	in, outs := chainMessageCells(t, chainCell)
	if in != nil && tx.In.Kind != ton.ExternalIn && !bytes.Equal(tx.In.Hash, in.Hash()) {
		t.Errorf("lt %d: inbound message hash %x, chain %x", tx.LT, tx.In.Hash, in.Hash())
	}
	if len(outs) != len(tx.Out) {
		t.Fatalf("lt %d: %d out messages, chain has %d", tx.LT, len(tx.Out), len(outs))
	}
	for i := range outs {
		if !bytes.Equal(tx.Out[i].Hash, outs[i].Hash()) {
			t.Errorf("lt %d: out message %d hash %x, chain %x", tx.LT, i, tx.Out[i].Hash, outs[i].Hash())
		}
	}
}

// chainMessageCells digs the message cells out of a transaction cell by
// hand: ref 0 is (Maybe ^in_msg, HashmapE 15 ^out_msg).
func chainMessageCells(t *testing.T, txCell *cell.Cell) (in *cell.Cell, outs []*cell.Cell) {
	t.Helper()
	s := txCell.MustPeekRef(0).MustBeginParse()
	if s.MustLoadBoolBit() {
		in = s.MustLoadRef().MustToCell()
	}
	d, err := s.LoadDict(15)
	if err != nil {
		t.Fatal(err)
	}
	kvs, err := d.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		outs = append(outs, kv.Value.MustLoadRef().MustToCell())
	}
	return in, outs
}

// TestTransactionsChainBytesNotReserialised: for the forwarder's real
// transactions tonutils-go's re-serialisation of the inbound message
// differs from the chain's cell; the chain's hashes and BOC must win.
func TestTransactionsChainBytesNotReserialised(t *testing.T) {
	fx := loadFixture(t)
	list := fx[forwarderHex]
	c, api := testChain(t, Mainnet)
	addr := serveAccount(api, list)
	got, err := c.Transactions(context.Background(), addr, list[0].tx.PrevTxLT, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(list) {
		t.Fatalf("%d transactions, want %d", len(got), len(list))
	}
	differs := 0
	for i, tx := range got {
		checkAgainstChainCell(t, tx, list[i].cell)
		re, err := tlb.ToCell(list[i].tx.IO.In.Msg)
		if err != nil {
			t.Fatal(err)
		}
		in, _ := chainMessageCells(t, list[i].cell)
		if !bytes.Equal(re.Hash(), in.Hash()) {
			differs++
		}
		if len(tx.Out) == 0 || tx.In.Kind != ton.Internal {
			t.Errorf("lt %d: want an internal message forwarded, got in %v and %d out", tx.LT, tx.In.Kind, len(tx.Out))
		}
	}
	if differs == 0 {
		t.Fatal("fixture no longer shows a re-serialisation difference: the test lost its point")
	}
}

func TestTransactionsRealComments(t *testing.T) {
	fx := loadFixture(t)
	ctx := context.Background()
	var spam, stars []fixtureTx
	for k, list := range fx {
		switch {
		case strings.HasPrefix(k, "cfae") && list[0].tx.LT == spamLT:
			spam = list
		case strings.HasPrefix(k, "dfec") && list[0].tx.LT == starsLT:
			stars = list
		}
	}
	if spam == nil || stars == nil {
		t.Fatal("fixture lacks the comment transactions")
	}

	c, api := testChain(t, Mainnet)
	addr := serveAccount(api, spam)
	got, err := c.Transactions(ctx, addr, spam[0].tx.PrevTxLT, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("spam: %v, %d transactions", err, len(got))
	}
	tx := got[0]
	if tx.Success || !tx.ComputeSkipped || tx.In.Comment != "TG: @LiveFeed – Fragment Tracker. Watch every Fragment.com action live." {
		t.Errorf("spam tx: success %v skipped %v comment %q; want an aborted transfer with its comment", tx.Success, tx.ComputeSkipped, tx.In.Comment)
	}
	checkAgainstChainCell(t, tx, spam[0].cell)

	addr = serveAccount(api, stars)
	got, err = c.Transactions(ctx, addr, stars[0].tx.PrevTxLT, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("stars: %v, %d transactions", err, len(got))
	}
	found := false
	for _, m := range got[0].Out {
		found = found || strings.HasPrefix(m.Comment, "100 Telegram Stars")
	}
	if !found || !got[0].Success {
		t.Errorf("stars tx: want a successful tx sending the comment, got %+v", got[0])
	}
	checkAgainstChainCell(t, got[0], stars[0].cell)
}

func TestTransactionsWindow(t *testing.T) {
	fx := loadFixture(t)
	list := fx[walletHex]
	ctx := context.Background()
	c, api := testChain(t, Mainnet)
	c.pageSize = 2
	addr := serveAccount(api, list)
	base := list[0].tx.PrevTxLT

	cases := []struct {
		name    string
		afterLT uint64
		limit   int
		want    []uint64
	}{
		{"limit keeps the oldest", base, 2, walletLTs[:2]},
		{"limit larger than history", base, 10, walletLTs},
		{"after a middle tx", walletLTs[1], 0, walletLTs[2:]},
		{"after a middle tx with limit", walletLTs[0], 1, walletLTs[1:2]},
		{"after the newest", walletLTs[3], 0, nil},
		{"after beyond the newest", walletLTs[3] + 100, 0, nil},
	}
	for _, tc := range cases {
		got, err := c.Transactions(ctx, addr, tc.afterLT, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var lts []uint64
		for _, tx := range got {
			lts = append(lts, tx.LT)
		}
		if len(lts) != len(tc.want) {
			t.Fatalf("%s: lts %v, want %v", tc.name, lts, tc.want)
		}
		for i := range lts {
			if lts[i] != tc.want[i] {
				t.Fatalf("%s: lts %v, want %v", tc.name, lts, tc.want)
			}
		}
	}

	before := api.ls.count("list")
	if got, err := c.Transactions(ctx, addr, walletLTs[3], 0); err != nil || len(got) != 0 || api.ls.count("list") != before {
		t.Errorf("nothing new: want no request and no transactions, got %d txs, %d requests, %v", len(got), api.ls.count("list")-before, err)
	}

	// Never-used account: nothing, no request.
	empty := addrOf(0x42)
	if got, err := c.Transactions(ctx, empty, 0, 0); err != nil || len(got) != 0 {
		t.Errorf("unused account: %d txs, %v", len(got), err)
	}
}

func TestTransactionsPrunedHistory(t *testing.T) {
	fx := loadFixture(t)
	list := fx[walletHex]
	c, api := testChain(t, Mainnet)
	addr := serveAccount(api, list)
	// From the beginning: the fake liteserver, like a pruned one, does
	// not have what precedes the fixture.
	_, err := c.Transactions(context.Background(), addr, 0, 0)
	if err == nil || !strings.Contains(err.Error(), "archive liteserver") || !strings.Contains(err.Error(), "lt not in db") {
		t.Fatalf("want the liteserver's error with a hint about archive liteservers, got %v", err)
	}
}

func TestTransactionsWrongData(t *testing.T) {
	fx := loadFixture(t)
	wallet, forwarder := fx[walletHex], fx[forwarderHex]
	ctx := context.Background()
	honest := newFakeLS()
	for _, ft := range wallet {
		honest.txs[hex.EncodeToString(ft.cell.Hash())] = ft.cell
	}

	cases := map[string]func(req tonapi.GetTransactions) tl.Serializable{
		"another account's transaction": func(tonapi.GetTransactions) tl.Serializable {
			return tonapi.TransactionList{Transactions: forwarder[3].cell.ToBOC()}
		},
		"a broken hash chain": func(tonapi.GetTransactions) tl.Serializable {
			roots := []*cell.Cell{wallet[3].cell, wallet[1].cell}
			return tonapi.TransactionList{Transactions: cell.ToBOCWithFlags(roots, false)}
		},
		"a forged transaction with the right lt and chain": func(req tonapi.GetTransactions) tl.Serializable {
			if uint64(req.LT) != wallet[3].tx.LT {
				return honest.listTxs(req)
			}
			forged := *wallet[3].tx // same lt, same previous tx, another time
			forged.Now++
			c, err := forged.ToCell()
			if err != nil {
				panic(err)
			}
			return tonapi.TransactionList{Transactions: c.ToBOC()}
		},
		"no transactions": func(tonapi.GetTransactions) tl.Serializable {
			return tonapi.TransactionList{}
		},
		"not a BOC": func(tonapi.GetTransactions) tl.Serializable {
			return tonapi.TransactionList{Transactions: []byte{1, 2, 3}}
		},
		"more than a page": func(tonapi.GetTransactions) tl.Serializable {
			roots := []*cell.Cell{wallet[3].cell, wallet[2].cell, wallet[1].cell}
			return tonapi.TransactionList{Transactions: cell.ToBOCWithFlags(roots, false)}
		},
		"an unexpected answer": func(tonapi.GetTransactions) tl.Serializable {
			return tonapi.SendMessageStatus{Status: 1}
		},
	}
	for name, list := range cases {
		c, api := testChain(t, Mainnet)
		c.pageSize = 2
		addr := serveAccount(api, wallet)
		api.ls.list = list
		got, err := c.Transactions(ctx, addr, wallet[0].tx.PrevTxLT, 0)
		if err == nil {
			t.Errorf("%s: accepted (%d transactions)", name, len(got))
			continue
		}
		if !strings.Contains(err.Error(), "lite: transactions of "+addr.String()) {
			t.Errorf("%s: error does not say what failed: %v", name, err)
		}
	}
}

func TestConvertTxMatchesFromTLB(t *testing.T) {
	// Apart from hashes and BOC, convertTx is ton.FromTLB's output.
	for _, list := range loadFixture(t) {
		for _, ft := range list {
			got, err := convertTx(0, rawTx{cell: ft.cell, tx: ft.tx})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ton.FromTLB(0, ft.tx)
			if err != nil {
				t.Fatal(err)
			}
			if got.LT != want.LT || got.Now != want.Now || got.Success != want.Success || got.ExitCode != want.ExitCode ||
				got.TotalFees.Cmp(want.TotalFees) != 0 || got.Bounced != want.Bounced || len(got.Out) != len(want.Out) {
				t.Errorf("lt %d: convertTx and FromTLB disagree beyond hashes", ft.tx.LT)
			}
			if hex.EncodeToString(got.Hash) != hex.EncodeToString(ft.cell.Hash()) {
				t.Errorf("lt %d: hash is not the chain cell's", ft.tx.LT)
			}
		}
	}
}
