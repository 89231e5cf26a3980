package wallet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
)

func tons(n int64) *big.Int { return big.NewInt(n * NanoPerTON) }

// env is an emulated chain with its store and the wallet space in it.
type env struct {
	dir   string
	store *ledger.Store
	chain *emu.Chain
	space *ledger.Space
}

func openEnv(t testing.TB, dir string) *env {
	t.Helper()
	store, err := ledger.Open(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	chain, err := emu.New(store)
	if err != nil {
		store.Close()
		t.Fatalf("open chain: %v", err)
	}
	space, err := store.Space(SpaceName)
	if err != nil {
		store.Close()
		t.Fatalf("wallet space: %v", err)
	}
	return &env{dir: dir, store: store, chain: chain, space: space}
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := openEnv(t, t.TempDir())
	t.Cleanup(func() { e.store.Close() })
	return e
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newWallet(t testing.TB, chain ton.Chain, space *ledger.Space, v identity.WalletVersion, opts ...Option) *Wallet {
	t.Helper()
	w, err := New(chain, newKey(t), v, space, opts...)
	if err != nil {
		t.Fatalf("new wallet: %v", err)
	}
	return w
}

func fund(t testing.TB, c *emu.Chain, to *address.Address, nano *big.Int) {
	t.Helper()
	if err := c.Faucet(context.Background(), to, nano); err != nil {
		t.Fatalf("faucet: %v", err)
	}
}

func account(t testing.TB, c ton.Chain, a *address.Address) *ton.AccountState {
	t.Helper()
	st, err := c.Account(context.Background(), a)
	if err != nil {
		t.Fatalf("account %s: %v", a, err)
	}
	return st
}

func history(t testing.TB, c ton.Chain, a *address.Address) []*ton.Transaction {
	t.Helper()
	txs, err := c.Transactions(context.Background(), a, 0, 0)
	if err != nil {
		t.Fatalf("transactions of %s: %v", a, err)
	}
	return txs
}

// incoming returns the transactions of txs whose inbound message is an
// internal one from src.
func incoming(txs []*ton.Transaction, src *address.Address) []*ton.Transaction {
	var out []*ton.Transaction
	for _, tx := range txs {
		if tx.In != nil && tx.In.Kind == ton.Internal && tx.In.Src != nil && tx.In.Src.Equals(src) {
			out = append(out, tx)
		}
	}
	return out
}
