package peers

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// StartLedger runs a ledger service on p, on the emulated chain that host
// hosts (p itself when p == host, with a faucet of up to a million TON),
// waits until it reaches the chain and, when fund is not nil, pays fund
// nanoTON from the faucet to p's wallet. The caller stops the service.
func (p *Peer) StartLedger(ctx context.Context, host *Peer, fund *big.Int, log *slog.Logger) (*ledgersvc.Service, error) {
	cfg := ledgersvc.Config{Network: identity.Emu, DepositPoll: time.Hour}
	if p == host {
		cfg.EmuHost, cfg.FaucetMax = true, new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1_000_000_000))
	} else {
		cfg.EmuPeer = host.Net.ID()
	}
	svc, err := ledgersvc.New(p.Store, p.Net, p.Identity, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := svc.Start(ctx); err != nil {
		return nil, err
	}
	if err := svc.WaitReady(ctx); err != nil {
		svc.Stop()
		return nil, fmt.Errorf("peer %s: ledger: %w", p.Net.ID(), err)
	}
	if fund != nil {
		if err := svc.Faucet(ctx, fund); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("peer %s: fund from the faucet: %w", p.Net.ID(), err)
		}
	}
	return svc, nil
}
