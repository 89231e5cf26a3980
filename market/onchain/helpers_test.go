package onchain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"math/big"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu/emutest"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

const nanoPerTON = 1_000_000_000

func tons(n int64) *big.Int { return big.NewInt(n * nanoPerTON) }

func nano(n int64) *big.Int { return big.NewInt(n) }

func add(xs ...*big.Int) *big.Int {
	s := new(big.Int)
	for _, x := range xs {
		s.Add(s, x)
	}
	return s
}

func sub(x, y *big.Int) *big.Int { return new(big.Int).Sub(x, y) }

// harness is an emulated chain with a clock the test moves, a registry
// wallet and the deployed collection.
type harness struct {
	*emutest.Env
	registry *wallet.Wallet
	coll     Collection
	collAddr *address.Address
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{Env: emutest.New(t)}
	h.registry = h.newWallet(t, tons(1000), identity.V5R1)
	h.coll = Collection{Registry: h.registry.Address(), GlobalID: h.Chain.GlobalID()}
	init, err := h.coll.StateInit()
	if err != nil {
		t.Fatal(err)
	}
	if h.collAddr, err = h.coll.Address(); err != nil {
		t.Fatal(err)
	}
	r, err := h.registry.SendPayload(context.Background(), h.collAddr, tons(1), nil, false, init)
	if err != nil {
		t.Fatalf("deploy collection: %v", err)
	}
	if tx := h.Follow(t, r.Sent[0]); !tx.Success {
		t.Fatalf("collection deploy failed: exit %d", tx.ExitCode)
	}
	return h
}

// newWallet is a real tonmesh wallet on the emulated chain, funded by the
// faucet.
func (h *harness) newWallet(t testing.TB, fund *big.Int, v identity.WalletVersion) *wallet.Wallet {
	t.Helper()
	w, _ := h.newWalletKey(t, fund, v)
	return w
}

// newWalletKey is newWallet that also returns the wallet's key.
func (h *harness) newWalletKey(t testing.TB, fund *big.Int, v identity.WalletVersion) (*wallet.Wallet, ed25519.PrivateKey) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.New(h.Chain, key, v, nil, wallet.WithClock(h.Now), wallet.WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Chain.Faucet(context.Background(), w.Address(), fund); err != nil {
		t.Fatal(err)
	}
	return w, key
}

// send has w send value with body to to (bounceable) and returns the
// cascade of transactions it caused, the wallet's first.
func (h *harness) send(t testing.TB, w *wallet.Wallet, to *address.Address, value *big.Int, body *cell.Cell) []*ton.Transaction {
	t.Helper()
	return h.sendInit(t, w, to, value, body, nil)
}

// sendInit is send with a state init.
func (h *harness) sendInit(t testing.TB, w *wallet.Wallet, to *address.Address, value *big.Int, body *cell.Cell, init *tlb.StateInit) []*ton.Transaction {
	t.Helper()
	r, err := w.SendPayload(context.Background(), to, value, body, true, init)
	if err != nil {
		t.Fatalf("send from %s: %v", w.Address(), err)
	}
	txs := h.History(t, w.Address())
	var first *ton.Transaction
	for _, tx := range txs {
		if tx.LT == r.TxLT {
			first = tx
		}
	}
	if first == nil {
		t.Fatalf("wallet transaction lt %d not found", r.TxLT)
	}
	return h.Cascade(t, first)
}

func (h *harness) readItem(t testing.TB, a Asset) *Item {
	t.Helper()
	it, err := ReadItem(context.Background(), h.Chain, h.coll, a)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func (h *harness) itemAddr(t testing.TB, a Asset) *address.Address {
	t.Helper()
	addr, err := h.coll.ItemAddress(a)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// at is the transaction of txs that ran on addr (the first one).
func at(t testing.TB, txs []*ton.Transaction, addr *address.Address) *ton.Transaction {
	t.Helper()
	for _, tx := range txs {
		if sameAddr(tx.Account, addr) {
			return tx
		}
	}
	t.Fatalf("no transaction on %s in the cascade", addr.StringRaw())
	return nil
}

// sentTo are the messages with op the transactions of txs sent to addr.
func sentTo(txs []*ton.Transaction, addr *address.Address, op uint32) []*ton.Message {
	var out []*ton.Message
	for _, tx := range txs {
		for _, m := range tx.Out {
			if m.Dst != nil && sameAddr(m.Dst, addr) && emutest.OpOf(m.Body) == op {
				out = append(out, m)
			}
		}
	}
	return out
}

func sameAddr(a, b *address.Address) bool {
	return a != nil && b != nil && a.Workchain() == b.Workchain() && bytes.Equal(a.Data(), b.Data())
}

// spent is what tx cost its account beyond the value it sent: fees of the
// transaction and of the messages it sent.
func spent(tx *ton.Transaction) *big.Int {
	s := new(big.Int).Set(tx.TotalFees)
	for _, m := range tx.Out {
		s.Add(s, m.FwdFee)
	}
	return s
}

// mint has the registry mint a to owner and returns the cascade.
func (h *harness) mint(t testing.TB, a Asset, owner *address.Address) []*ton.Transaction {
	t.Helper()
	txs := h.send(t, h.registry, h.collAddr, big.NewInt(MintGas), MintBody(1, a, owner))
	if it := h.readItem(t, a); !it.Minted || !sameAddr(it.Owner, owner) {
		t.Fatalf("mint of %s: minted %v owner %v, want %s", a, it.Minted, it.Owner, owner)
	}
	return txs
}

// refused checks that the transaction on addr in txs failed with code and
// bounced the value back to from.
func refused(t testing.TB, txs []*ton.Transaction, addr, from *address.Address, code ExitCode) {
	t.Helper()
	tx := at(t, txs, addr)
	if tx.Success || ExitCode(tx.ExitCode) != code {
		t.Fatalf("%s answered success=%v exit %d, want refusal %s", addr.StringRaw(), tx.Success, tx.ExitCode, code)
	}
	if !tx.Bounced || len(tx.Out) != 1 || !tx.Out[0].Bounced || !sameAddr(tx.Out[0].Dst, from) {
		t.Fatalf("refusal %s did not bounce the value back to the sender", code)
	}
}

func mustAsset(t testing.TB, s string) Asset {
	t.Helper()
	a, err := ParseAsset(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
