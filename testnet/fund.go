package testnet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
)

// fund pays o.Fund TON from the faucet to every node whose wallet has never
// received anything, so each node has a balance at start (and a resumed
// testnet is not paid twice).
func fund(ctx context.Context, o Options, m *Manifest) error {
	if o.Fund == "" || o.Fund == "0" {
		return nil
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		c := ledgersvc.NewClient(apiutil.NewClient(n.API, n.Token))
		b, err := waitLedger(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if b.Balance.Nano == "0" && b.Deposits.Nano == "0" {
			if b, err = c.Faucet(ctx, o.Fund); err != nil {
				return fmt.Errorf("fund %s from the faucet: %w", n.Name, err)
			}
			fmt.Fprintf(o.Out, "funded %s with %s TON from the faucet\n", n.Name, o.Fund)
		}
		n.Balance = b.Balance.TON
	}
	return nil
}

// waitLedger polls the node's balance until its chain is reachable.
func waitLedger(ctx context.Context, c *ledgersvc.Client) (*ledgersvc.Balance, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		b, err := c.Balance(ctx)
		if err == nil {
			return b, nil
		}
		if !apiutil.IsStatus(err, http.StatusServiceUnavailable) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(errors.New("the emulated chain did not become reachable within a minute"), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
