package emu

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"math/big"
	"testing"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
)

const nanoPerTON = 1_000_000_000

func tons(n int64) *big.Int { return big.NewInt(n * nanoPerTON) }

// openChain opens (or reopens) the chain kept in dir.
func openChain(t testing.TB, dir string) (*Chain, *ledger.Store) {
	t.Helper()
	store, err := ledger.Open(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	c, err := New(store)
	if err != nil {
		store.Close()
		t.Fatalf("new chain: %v", err)
	}
	return c, store
}

// testWallet is a user's v5r1 wallet driven through tonutils-go's wallet
// package, its seqno read from the chain.
type testWallet struct {
	key  ed25519.PrivateKey
	w    *wallet.Wallet
	addr *address.Address
}

func newTestWallet(t testing.TB) *testWallet {
	t.Helper()
	words, err := identity.NewMnemonic()
	if err != nil {
		t.Fatalf("mnemonic: %v", err)
	}
	id, err := identity.FromMnemonic(words)
	if err != nil {
		t.Fatalf("identity: %v", err)
	}
	addr, err := id.WalletAddress(identity.V5R1, identity.Emu)
	if err != nil {
		t.Fatalf("wallet address: %v", err)
	}
	w, err := wallet.FromPrivateKeyWithOptions(id.WalletKey, wallet.ConfigV5R1Final{NetworkGlobalID: DefaultGlobalID, Workchain: 0})
	if err != nil {
		t.Fatalf("wallet: %v", err)
	}
	if !bytes.Equal(w.WalletAddress().Data(), addr.Data()) {
		t.Fatalf("tonutils wallet address %s differs from identity's %s", w.WalletAddress(), addr)
	}
	return &testWallet{key: id.WalletKey, w: w, addr: addr}
}

// order builds a signed external message sending nano to dst with a text
// comment; it carries the state init while the wallet is not active.
func (tw *testWallet) order(t testing.TB, c ton.Chain, dst *address.Address, nano *big.Int, bounce bool, comment string) []byte {
	t.Helper()
	ctx := context.Background()
	st, err := c.Account(ctx, tw.addr)
	if err != nil {
		t.Fatalf("account: %v", err)
	}
	var seqno uint32
	if st.Status == ton.StatusActive {
		res, err := c.RunGetMethod(ctx, tw.addr, "seqno")
		if err != nil {
			t.Fatalf("seqno: %v", err)
		}
		seqno = uint32(res[0].(*big.Int).Uint64())
	}
	return tw.orderAt(t, dst, nano, bounce, comment, seqno, st.Status != ton.StatusActive)
}

// orderAt is order with an explicit seqno and state-init choice.
func (tw *testWallet) orderAt(t testing.TB, dst *address.Address, nano *big.Int, bounce bool, comment string, seqno uint32, withInit bool) []byte {
	t.Helper()
	spec := tw.w.GetSpec().(*wallet.SpecV5R1Final)
	spec.SetSeqnoFetcher(func(context.Context, uint32) (uint32, error) { return seqno, nil })
	body, err := wallet.CreateCommentCell(comment)
	if err != nil {
		t.Fatalf("comment: %v", err)
	}
	msg := &wallet.Message{Mode: 3, InternalMessage: &tlb.InternalMessage{
		IHRDisabled: true, Bounce: bounce, DstAddr: dst, Amount: tlb.FromNanoTON(nano), Body: body,
	}}
	ext, err := tw.w.PrepareExternalMessageForMany(context.Background(), withInit, []*wallet.Message{msg})
	if err != nil {
		t.Fatalf("prepare external: %v", err)
	}
	cl, err := tlb.ToCell(ext)
	if err != nil {
		t.Fatalf("serialise external: %v", err)
	}
	return cl.ToBOC()
}

func balance(t testing.TB, c ton.Chain, addr *address.Address) *big.Int {
	t.Helper()
	st, err := c.Account(context.Background(), addr)
	if err != nil {
		t.Fatalf("account %s: %v", addr, err)
	}
	return st.Balance
}

func history(t testing.TB, c ton.Chain, addr *address.Address) []*ton.Transaction {
	t.Helper()
	txs, err := c.Transactions(context.Background(), addr, 0, 0)
	if err != nil {
		t.Fatalf("transactions of %s: %v", addr, err)
	}
	return txs
}

func seqno(t testing.TB, c ton.Chain, addr *address.Address) uint64 {
	t.Helper()
	res, err := c.RunGetMethod(context.Background(), addr, "seqno")
	if err != nil {
		t.Fatalf("seqno of %s: %v", addr, err)
	}
	if len(res) != 1 {
		t.Fatalf("seqno returned %d values", len(res))
	}
	return res[0].(*big.Int).Uint64()
}

// findByIn returns the transaction of txs whose inbound message has hash h.
func findByIn(txs []*ton.Transaction, h []byte) *ton.Transaction {
	for _, tx := range txs {
		if tx.In != nil && bytes.Equal(tx.In.Hash, h) {
			return tx
		}
	}
	return nil
}

func sumFwd(tx *ton.Transaction) *big.Int {
	s := new(big.Int)
	for _, m := range tx.Out {
		s.Add(s, m.FwdFee)
	}
	return s
}
