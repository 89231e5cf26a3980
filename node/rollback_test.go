package node_test

import (
	"context"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/ledger/anchor"
	"github.com/tonmesh/tonmesh/node"
)

// TestRefusesToStartRolledBack: a node whose store is restored from a copy
// older than its last anchor on the chain refuses to start, saying why.
func TestRefusesToStartRolledBack(t *testing.T) {
	c := harness.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := c.Homes[1]
	restart := func() (*node.Node, error) {
		cfg, err := h.LoadConfig()
		if err != nil {
			t.Fatal(err)
		}
		n, err := node.New(cfg, node.WithHome(h))
		if err != nil {
			return nil, err
		}
		if err := n.Start(ctx); err != nil {
			n.Stop(context.Background())
			return nil, err
		}
		return n, nil
	}
	settleAndAnchor := func(n *node.Node, tons int64) {
		t.Helper()
		l := n.Ledger()
		if err := l.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Faucet(ctx, big.NewInt(tons*1_000_000_000)); err != nil {
			t.Fatal(err)
		}
		// The deposit scanner journals the faucet's payment; anchor it.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := l.AnchorNow(ctx); err == nil {
				return
			} else if !errors.Is(err, anchor.ErrNothingToAnchor) || time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	settleAndAnchor(c.Nodes[1], 5)
	if err := c.Nodes[1].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	snapshot := t.TempDir() + "/store"
	if out, err := exec.Command("cp", "-a", h.StoreDir(), snapshot).CombinedOutput(); err != nil {
		t.Fatalf("snapshot: %v %s", err, out)
	}

	n, err := restart()
	if err != nil {
		t.Fatalf("restart on an intact store: %v", err)
	}
	settleAndAnchor(n, 3)
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	os.RemoveAll(h.StoreDir())
	if out, err := exec.Command("cp", "-a", snapshot, h.StoreDir()).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	_, err = restart()
	if !errors.Is(err, anchor.ErrRolledBack) {
		t.Fatalf("start on a rolled-back store = %v, want ErrRolledBack", err)
	}
	t.Logf("refused as expected: %v", err)
}
