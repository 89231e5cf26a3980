package anchor

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// chainEnv is an emulated chain in its own store (it outlives the node's
// store, as a real chain would) and a funded v5r1 wallet on it.
type chainEnv struct {
	chain *emu.Chain
	w     *wallet.Wallet
}

func newChain(t *testing.T) *chainEnv {
	t.Helper()
	cs, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	chain, err := emu.New(cs)
	if err != nil {
		t.Fatal(err)
	}
	words, err := identity.NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.FromMnemonic(words)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.New(chain, id.WalletKey, identity.V5R1, nil, wallet.WithPollInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Faucet(context.Background(), w.Address(), big.NewInt(10_000_000_000)); err != nil {
		t.Fatal(err)
	}
	return &chainEnv{chain: chain, w: w}
}

// node is a node's store with its journal and anchorer.
type node struct {
	store *ledger.Store
	j     *journal.Journal
	a     *Anchorer
}

func openNode(t *testing.T, dir string, ce *chainEnv, w Wallet, opts ...Option) *node {
	t.Helper()
	s, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(s)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	sp, err := s.Space(SpaceName)
	if err != nil {
		t.Fatal(err)
	}
	if w == nil {
		w = ce.w
	}
	a, err := New(j, w, ce.chain, sp, opts...)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{store: s, j: j, a: a}
	t.Cleanup(n.close)
	return n
}

func (n *node) close() {
	if n.store == nil {
		return
	}
	n.j.Close()
	n.store.Close()
	n.store = nil
}

func appendN(t *testing.T, j *journal.Journal, prefix string, count int) {
	t.Helper()
	for i := range count {
		_, err := j.Append(context.Background(), journal.Entry{
			Kind: journal.KindJobPaid, Key: fmt.Sprintf("%s-%d", prefix, i),
			Amount: big.NewInt(int64(1000 + i)), Counterparty: "UQworker",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// copyDir copies a closed Pebble directory.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}
