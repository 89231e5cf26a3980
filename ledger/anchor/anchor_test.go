package anchor

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

func TestAnchorProveAndVerify(t *testing.T) {
	ce := newChain(t)
	n := openNode(t, t.TempDir(), ce, nil)
	ctx := context.Background()
	if _, err := n.a.AnchorNow(ctx); !errors.Is(err, ErrNothingToAnchor) {
		t.Fatalf("anchoring an empty journal: %v", err)
	}
	appendN(t, n.j, "a", 13)
	before, err := ce.w.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	an, err := n.a.AnchorNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The message's value comes back to the wallet: an anchor costs fees
	// only (a deploy and a transfer are well under 0.02 TON).
	after, _ := ce.w.Balance(ctx)
	if spent := new(big.Int).Sub(before, after); spent.Sign() <= 0 || spent.Cmp(big.NewInt(20_000_000)) > 0 {
		t.Fatalf("anchoring spent %s nanoTON, want fees only (0 < spent <= 0.02 TON)", spent)
	}
	if an.Status != StatusConfirmed || an.FromSeq != 0 || an.ToSeq != 13 || an.TxLT == 0 || len(an.MsgHash) != 32 {
		t.Fatalf("first anchor: %+v", an)
	}
	// The commitment is on chain, in the wallet's transaction, to itself.
	txs, err := ce.chain.Transactions(ctx, ce.w.Address(), an.TxLT-1, 1)
	if err != nil || len(txs) != 1 || !bytes.Equal(txs[0].Hash, an.TxHash) {
		t.Fatalf("anchor transaction: %v, %v", txs, err)
	}
	b, err := ParseBody(txs[0].Out[0].Body)
	if err != nil || !b.Equal(an.Body()) || !txs[0].Out[0].Dst.Equals(ce.w.Address()) {
		t.Fatalf("on-chain body %+v (%v), want %+v to the wallet itself", b, err, an.Body())
	}
	if _, err := n.a.AnchorNow(ctx); !errors.Is(err, ErrNothingToAnchor) {
		t.Fatalf("second anchor with nothing new: %v", err)
	}

	appendN(t, n.j, "b", 5)
	an2, err := n.a.AnchorNow(ctx)
	if err != nil || an2.FromSeq != 13 || an2.ToSeq != 18 || an2.ID != 2 {
		t.Fatalf("second anchor: %+v, %v", an2, err)
	}
	for seq := uint64(1); seq <= 18; seq++ {
		p, err := n.a.Prove(seq)
		if err != nil {
			t.Fatalf("prove %d: %v", seq, err)
		}
		if err := n.a.VerifyInclusion(ctx, p); err != nil {
			t.Fatalf("verify %d: %v", seq, err)
		}
	}
	appendN(t, n.j, "c", 1)
	if _, err := n.a.Prove(19); !errors.Is(err, ErrNotAnchored) {
		t.Fatalf("prove of an unanchored record: %v", err)
	}
	list, err := n.a.List()
	if err != nil || len(list) != 2 || list[0].Status != StatusConfirmed || list[1].Status != StatusConfirmed {
		t.Fatalf("List = %v, %v", list, err)
	}
}

func TestTamperedProofsFail(t *testing.T) {
	ce := newChain(t)
	n := openNode(t, t.TempDir(), ce, nil)
	ctx := context.Background()
	appendN(t, n.j, "a", 9)
	if _, err := n.a.AnchorNow(ctx); err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func(p *InclusionProof){
		"amount changed":  func(p *InclusionProof) { p.Record.Amount = big.NewInt(1) },
		"record rehashed": func(p *InclusionProof) { p.Record.Amount = big.NewInt(1); p.Record.Hash = p.Record.ComputeHash() },
		"path changed":    func(p *InclusionProof) { p.Path[0][0] ^= 1 },
		"other index":     func(p *InclusionProof) { p.Index++ },
		"root and path forged": func(p *InclusionProof) {
			// A consistent proof for a forged record against a forged root:
			// only the chain can tell.
			p.Record.Amount = big.NewInt(1)
			p.Record.Hash = p.Record.ComputeHash()
			hashes, _ := n.j.Hashes(0, 9)
			hashes[p.Index] = p.Record.Hash
			p.Path, _ = journal.Proof(hashes, p.Index)
			p.Root = journal.MerkleRoot(hashes)
			p.Anchor.Root = p.Root
		},
		"other transaction": func(p *InclusionProof) { p.Anchor.TxLT-- },
	} {
		t.Run(name, func(t *testing.T) {
			p, err := n.a.Prove(4)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.a.VerifyInclusion(ctx, p); err != nil {
				t.Fatalf("untampered proof fails: %v", err)
			}
			tamper(p)
			if err := n.a.VerifyInclusion(ctx, p); err == nil {
				t.Fatal("tampered proof verified")
			}
		})
	}
}

// TestRollbackDetected snapshots the node's store (closed) after a first
// anchor, anchors more, then puts the snapshot back: the chain, kept in its
// own store, remembers the later anchor, and Reconcile refuses.
func TestRollbackDetected(t *testing.T) {
	ce := newChain(t)
	ctx := context.Background()
	dir, snap := t.TempDir(), t.TempDir()

	n := openNode(t, dir, ce, nil)
	appendN(t, n.j, "a", 5)
	if _, err := n.a.AnchorNow(ctx); err != nil {
		t.Fatal(err)
	}
	n.close()
	copyDir(t, dir, snap)

	n = openNode(t, dir, ce, nil)
	if err := n.a.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile of an intact store: %v", err)
	}
	appendN(t, n.j, "b", 5)
	if _, err := n.a.AnchorNow(ctx); err != nil {
		t.Fatal(err)
	}
	n.close()

	for _, rewrite := range []bool{false, true} {
		restored := t.TempDir()
		copyDir(t, snap, restored)
		n = openNode(t, restored, ce, nil)
		if rewrite {
			// The restored journal is written past the anchored seq with
			// other entries: the head hash at seq 10 differs.
			appendN(t, n.j, "other", 7)
		}
		err := n.a.Reconcile(ctx)
		if !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "restore the latest backup") {
			t.Fatalf("rewrite=%v: Reconcile = %v, want ErrRolledBack saying what to do", rewrite, err)
		}
		if rewrite != strings.Contains(err.Error(), "head hash") {
			t.Fatalf("rewrite=%v: error does not say what happened: %v", rewrite, err)
		}
		if _, err := n.a.AnchorNow(ctx); !errors.Is(err, ErrRolledBack) {
			t.Fatalf("AnchorNow on a rolled-back store: %v", err)
		}
		if err := n.a.Run(ctx); !errors.Is(err, ErrRolledBack) {
			t.Fatalf("Run on a rolled-back store: %v", err)
		}
		n.close()
	}

	// The current store still reconciles.
	n = openNode(t, dir, ce, nil)
	if err := n.a.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile of the real store: %v", err)
	}
}

// flakyWallet sends (or not) and then reports a failure, as a crash or a
// lost connection after submitting would.
type flakyWallet struct {
	Wallet
	send bool
}

var errLost = errors.New("connection lost")

func (f *flakyWallet) SendPayload(ctx context.Context, to *address.Address, amount *big.Int, body *cell.Cell, bounce bool, init *tlb.StateInit) (*wallet.Receipt, error) {
	if f.send {
		if _, err := f.Wallet.SendPayload(ctx, to, amount, body, bounce, init); err != nil {
			return nil, err
		}
	}
	return nil, errLost
}

func TestPendingAnchorsSettle(t *testing.T) {
	ce := newChain(t)
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	// Sent, but the node did not learn it: Reconcile at the next start
	// finds the transaction and confirms the anchor.
	n := openNode(t, dir, ce, &flakyWallet{Wallet: ce.w, send: true})
	appendN(t, n.j, "a", 4)
	if _, err := n.a.AnchorNow(ctx); !errors.Is(err, errLost) {
		t.Fatalf("AnchorNow with a lost answer: %v", err)
	}
	if l, _ := n.a.List(); len(l) != 1 || l[0].Status != StatusPending {
		t.Fatalf("anchor after a lost answer: %+v", l)
	}
	n.close()
	n = openNode(t, dir, ce, nil, WithClock(clock))
	if err := n.a.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := n.a.List(); len(l) != 1 || l[0].Status != StatusConfirmed || l[0].TxLT == 0 {
		t.Fatalf("pending anchor after Reconcile: %+v", l[0])
	}
	n.close()

	// Never sent: pending until stale, then abandoned and re-anchored.
	n = openNode(t, dir, ce, &flakyWallet{Wallet: ce.w}, WithClock(clock))
	appendN(t, n.j, "b", 3)
	if _, err := n.a.AnchorNow(ctx); !errors.Is(err, errLost) {
		t.Fatalf("AnchorNow that never sent: %v", err)
	}
	n.close()
	n = openNode(t, dir, ce, nil, WithClock(clock))
	if _, err := n.a.AnchorNow(ctx); !errors.Is(err, ErrPending) {
		t.Fatalf("AnchorNow with a fresh pending anchor: %v", err)
	}
	mu.Lock()
	now = now.Add(DefaultStaleAfter + time.Second)
	mu.Unlock()
	an, err := n.a.AnchorNow(ctx)
	if err != nil || an.FromSeq != 4 || an.ToSeq != 7 || an.Status != StatusConfirmed {
		t.Fatalf("anchor after abandoning: %+v, %v", an, err)
	}
	l, _ := n.a.List()
	if len(l) != 3 || l[1].Status != StatusAbandoned {
		t.Fatalf("anchors: %+v", l)
	}
	for seq := uint64(1); seq <= 7; seq++ {
		p, err := n.a.Prove(seq)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.a.VerifyInclusion(ctx, p); err != nil {
			t.Fatalf("verify %d: %v", seq, err)
		}
	}
}

func TestInsufficientBalanceWritesNothing(t *testing.T) {
	ce := newChain(t)
	n := openNode(t, t.TempDir(), ce, nil, WithAmount(big.NewInt(1_000_000_000_000)))
	appendN(t, n.j, "a", 2)
	if _, err := n.a.AnchorNow(context.Background()); !errors.Is(err, wallet.ErrInsufficientBalance) {
		t.Fatalf("anchor beyond the balance: %v", err)
	}
	if l, _ := n.a.List(); len(l) != 0 {
		t.Fatalf("an unsent anchor was kept: %+v", l)
	}
}

func TestRunAnchorsPeriodically(t *testing.T) {
	ce := newChain(t)
	n := openNode(t, t.TempDir(), ce, nil, WithInterval(10*time.Millisecond), WithMaxRecords(4))
	// All ten records are there before Run starts, so that its anchors do
	// not depend on how appends and ticks interleave.
	appendN(t, n.j, "a", 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.a.Run(ctx) }()
	// Run must end before the store closes, even when the test fails.
	stop := sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := n.a.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(l) > 0 && l[len(l)-1].ToSeq == 10 && l[len(l)-1].Status == StatusConfirmed {
			// WithMaxRecords(4): 10 records take three anchors.
			if len(l) != 3 || l[0].ToSeq != 4 || l[1].ToSeq != 8 {
				t.Fatalf("anchors: %+v", l)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not anchor all records: %+v", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
}

func TestBodyRoundTrip(t *testing.T) {
	b := &Body{FromSeq: 3, ToSeq: 9, Root: bytes.Repeat([]byte{1}, 32), Head: bytes.Repeat([]byte{2}, 32)}
	c, err := b.Cell()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseBody(c)
	if err != nil || !got.Equal(b) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if s, _ := c.BeginParse(); s.MustLoadUInt(32) != 0x616e6368 {
		t.Fatal("body does not start with op 'anch'")
	}
	if _, err := (&Body{FromSeq: 9, ToSeq: 9, Root: b.Root, Head: b.Head}).Cell(); err == nil {
		t.Fatal("empty range accepted")
	}
	comment := cell.BeginCell().MustStoreUInt(0, 32).MustStoreStringSnake("hi").EndCell()
	if _, err := ParseBody(comment); !errors.Is(err, ErrNotAnchorBody) {
		t.Fatalf("comment parsed as anchor: %v", err)
	}
	short := cell.BeginCell().MustStoreUInt(uint64(Op), 32).MustStoreUInt(1, 64).EndCell()
	if _, err := ParseBody(short); err == nil {
		t.Fatal("short body accepted")
	}
}
