package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
)

// sendAmount is what each timed send transfers: 0.01 TON.
const sendAmount = wallet.NanoPerTON / 100

// SendResult is the wallet send -> confirmed latency on the emulated chain.
type SendResult struct {
	Wallet    string `json:"wallet"`
	AmountTON string `json:"amount_ton"`
	// DeployMS is the first send, which also deploys the wallet; it is not
	// among the timed sends.
	DeployMS float64 `json:"first_send_deploys_ms"`
	benchutil.Latency
}

// measureSend opens an emulated chain on a temporary store, funds a v5r1
// wallet from the faucet, deploys it with a first send, then times n sends
// of sendAmount to another address, each from the call to wallet.Send
// until it returns (the chain shows the wallet's transaction).
func measureSend(ctx context.Context, base string, n int) (*SendResult, error) {
	s, err := openTempStore(base, "chain")
	if err != nil {
		return nil, err
	}
	defer s.close()
	chain, err := emu.New(s.Store)
	if err != nil {
		return nil, fmt.Errorf("open the emulated chain: %w", err)
	}
	w, err := newBenchWallet(chain)
	if err != nil {
		return nil, err
	}
	other, err := newBenchWallet(chain)
	if err != nil {
		return nil, err
	}
	to := other.Address()
	amount := big.NewInt(sendAmount)
	// Enough for every send, its fees (well under 0.01 TON) and the reserve.
	fund := new(big.Int).Mul(big.NewInt(int64(n+1)), big.NewInt(2*sendAmount))
	fund.Add(fund, big.NewInt(wallet.NanoPerTON))
	if err := chain.Faucet(ctx, w.Address(), fund); err != nil {
		return nil, fmt.Errorf("fund the wallet from the faucet: %w", err)
	}

	start := time.Now()
	r, err := w.Send(ctx, to, amount, "")
	if err != nil {
		return nil, fmt.Errorf("first send (deploys the wallet): %w", err)
	}
	if !r.Deployed {
		return nil, fmt.Errorf("first send did not deploy the wallet")
	}
	res := &SendResult{Wallet: string(w.Version()), AmountTON: wallet.FormatTON(amount), DeployMS: benchutil.Millis(time.Since(start))}

	lat := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		r, err := w.Send(ctx, to, amount, "")
		took := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("send %d of %d: %w", i+1, n, err)
		}
		if want := uint32(i + 1); r.Seqno != want || len(r.Sent) != 1 {
			return nil, fmt.Errorf("send %d of %d: receipt has seqno %d and %d messages, want seqno %d and one message", i+1, n, r.Seqno, len(r.Sent), want)
		}
		lat = append(lat, took)
	}
	if err := checkArrived(ctx, chain, to, amount, n+1); err != nil {
		return nil, err
	}
	res.Latency = benchutil.Summarize(lat, 0)
	return res, nil
}

func newBenchWallet(chain *emu.Chain) (*wallet.Wallet, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	w, err := wallet.New(chain, key, identity.V5R1, nil)
	if err != nil {
		return nil, fmt.Errorf("open a wallet: %w", err)
	}
	return w, nil
}

// checkArrived checks the destination holds what count sends of amount
// delivered, less at most a small storage fee.
func checkArrived(ctx context.Context, chain *emu.Chain, to *address.Address, amount *big.Int, count int) error {
	st, err := chain.Account(ctx, to)
	if err != nil {
		return fmt.Errorf("read the destination: %w", err)
	}
	want := new(big.Int).Mul(amount, big.NewInt(int64(count)))
	slack := new(big.Int).Div(want, big.NewInt(100))
	if st.Balance.Cmp(want) > 0 || new(big.Int).Sub(want, st.Balance).Cmp(slack) > 0 {
		return fmt.Errorf("the destination holds %s TON after %d sends of %s TON", wallet.FormatTON(st.Balance), count, wallet.FormatTON(amount))
	}
	return nil
}
