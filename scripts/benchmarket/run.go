package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

const oneTON = 1_000_000_000

// benchLedger is the market's Ledger on the bench's shared chain: the
// node's own wallet and no journal.
type benchLedger struct {
	w     *wallet.Wallet
	chain ton.Chain
}

func (l *benchLedger) Wallet() (*wallet.Wallet, error)             { return l.w, nil }
func (l *benchLedger) Chain() (ton.Chain, error)                   { return l.chain, nil }
func (l *benchLedger) Record(context.Context, journal.Entry) error { return nil }

// gate is the chain the nodes see: the emulated chain, whose external
// messages are dropped once closed. During the measure the nodes' bid
// relays reach nothing, so the chain's serial execution stays out of the
// propagation figures; the auction they validate against is real.
type gate struct {
	ton.Chain
	closed atomic.Bool
}

func (g *gate) SendExternal(ctx context.Context, boc []byte) ([]byte, error) {
	if g.closed.Load() {
		return nil, ton.ErrRejected
	}
	return g.Chain.SendExternal(ctx, boc)
}

// accepts collects, per order hash, when each node accepted it.
type accepts struct {
	mu    sync.Mutex
	nodes int
	at    map[string][]time.Time
	done  map[string]chan struct{}
}

func (a *accepts) expect(hash string) chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := make(chan struct{})
	a.done[hash] = ch
	return ch
}

func (a *accepts) seen(hash string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at[hash] = append(a.at[hash], at)
	if len(a.at[hash]) == a.nodes {
		if ch := a.done[hash]; ch != nil {
			close(ch)
		}
	}
}

func (a *accepts) times(hash string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at[hash]...)
}

type bidder struct {
	key    ed25519.PublicKey
	order  *wallet.Order
	hash   string
	amount *big.Int
}

func run(ctx context.Context, c config, prog *benchutil.Progress) (*Result, error) {
	dir := c.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-market-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	chainStore, err := ledger.Open(filepath.Join(dir, "chain"))
	if err != nil {
		return nil, err
	}
	defer chainStore.Close()
	chain, err := emu.New(chainStore)
	if err != nil {
		return nil, fmt.Errorf("start the emulated chain: %w", err)
	}
	g := &gate{Chain: chain}

	ps, err := peers.Launch(ctx, dir, c.Nodes)
	defer func() {
		for _, p := range ps {
			p.Stop()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("start %d peers: %w", c.Nodes, err)
	}
	prog.Printf("%d peers up", c.Nodes)
	reg, err := ps[0].Identity.WalletAddress(identity.V5R1, identity.Emu)
	if err != nil {
		return nil, err
	}
	coll := onchain.Collection{Registry: reg, GlobalID: chain.GlobalID()}
	log := slog.New(slog.DiscardHandler)
	acc := &accepts{nodes: c.Nodes, at: map[string][]time.Time{}, done: map[string]chan struct{}{}}
	svcs := make([]*market.Service, c.Nodes)
	for i, p := range ps {
		w, err := wallet.New(g, p.Identity.WalletKey, identity.V5R1, nil)
		if err != nil {
			return nil, err
		}
		s, err := market.New(p.Store, p.Net, p.Identity, &benchLedger{w: w, chain: g}, nil,
			market.Config{Collection: coll, Registry: i == 0, SettleInterval: time.Hour}, log)
		if err != nil {
			return nil, err
		}
		if err := s.Start(ctx); err != nil {
			return nil, err
		}
		defer s.Stop()
		s.OnBid(func(b market.AcceptedBid) { acc.seen(hex.EncodeToString(b.OrderHash), time.Now()) })
		svcs[i] = s
	}

	// One real auction: the registry mints to node 1, node 1 lists it.
	seller, err := ps[1].Identity.WalletAddress(identity.V5R1, identity.Emu)
	if err != nil {
		return nil, err
	}
	if err := chain.Faucet(ctx, reg, big.NewInt(10*oneTON)); err != nil {
		return nil, err
	}
	if err := chain.Faucet(ctx, seller, big.NewInt(10*oneTON)); err != nil {
		return nil, err
	}
	asset, _ := onchain.ParseAsset("@bench_auction")
	if _, err := svcs[0].Mint(ctx, asset, seller); err != nil {
		return nil, fmt.Errorf("mint: %w", err)
	}
	minBid := big.NewInt(10 * oneTON)
	params := onchain.AuctionParams{MinBid: minBid, StepPercent: uint8(c.Step), Duration: time.Hour, Extension: 10 * time.Minute}
	if _, err := svcs[1].StartAuction(ctx, asset, params); err != nil {
		return nil, fmt.Errorf("start the auction: %w", err)
	}
	if err := waitListing(ctx, svcs, asset); err != nil {
		return nil, err
	}
	prog.Printf("auction listed on every node")

	bidders, err := makeBidders(ctx, chain, coll, asset, minBid, minBid, c)
	if err != nil {
		return nil, err
	}
	prog.Printf("%d bid orders signed by %d funded wallets", len(bidders), len(bidders))
	g.closed.Store(true)

	if c.CPUProfile != "" {
		stopProfile, err := benchutil.StartCPUProfile(c.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer stopProfile()
	}
	res := &Result{Machine: benchutil.ThisMachine(), Nodes: c.Nodes, Bids: c.Bids}
	var toAll, toEach []time.Duration
	failed := 0
	for k, b := range bidders {
		done := acc.expect(b.hash)
		t0 := time.Now()
		if err := svcs[k%c.Nodes].PublishBid(ctx, asset, b.order.BOC, b.key, identity.V5R1); err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("bid %d refused at its publisher: %v", k, err))
			failed++
			continue
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			res.Failures = append(res.Failures, fmt.Sprintf("bid %d reached %d of %d nodes within 10 s", k, len(acc.times(b.hash)), c.Nodes))
			failed++
			continue
		}
		var last time.Duration
		for _, at := range acc.times(b.hash) {
			d := at.Sub(t0)
			toEach = append(toEach, d)
			last = max(last, d)
		}
		toAll = append(toAll, last)
	}
	res.ToAll = benchutil.Summarize(toAll, failed)
	res.ToEach = benchutil.Summarize(toEach, 0)
	prog.Printf("propagation measured")

	var sum float64
	res.ValidateMinPerS = -1
	for _, s := range svcs {
		st := s.Stats()
		res.Rejected += st.BidsRejected
		if st.BidValidation <= 0 {
			continue
		}
		perS := float64(st.BidsAccepted+st.BidsRejected) / st.BidValidation.Seconds()
		sum += perS
		if res.ValidateMinPerS < 0 || perS < res.ValidateMinPerS {
			res.ValidateMinPerS = perS
		}
	}
	res.ValidatePerS = float64(int(sum / float64(c.Nodes)))
	res.ValidateMinPerS = float64(int(res.ValidateMinPerS))

	alone, err := validateAlone(ctx, svcs, chain, coll, asset, minBid, bidders[len(bidders)-1].amount, c)
	if err != nil {
		return nil, err
	}
	res.AlonePerS = alone
	prog.Printf("one node alone validated %d more bids", c.Bids)
	res.Ed25519PerS = float64(int(verifyRate(ed25519.Verify, time.Second)))
	res.EdverifyPerS = float64(int(verifyRate(edverify.Verify, time.Second)))
	res.FastVerifiesPerBidAlone = benchutil.Ratio(res.EdverifyPerS, res.AlonePerS)
	res.VerifiesPerBid = benchutil.Ratio(res.Ed25519PerS, res.ValidatePerS)
	res.VerifiesPerBidAlone = benchutil.Ratio(res.Ed25519PerS, res.AlonePerS)
	return res, nil
}

// validateAlone measures one node's validator with the machine to itself,
// as the raw verifies are measured: the other nodes leave the topic, and
// node 0 publishes (so validates, in line) c.Bids fresh bids, each the
// minimum next bid after the one before, starting after last. It returns
// node 0's bids validated per second of validator time.
func validateAlone(ctx context.Context, svcs []*market.Service, chain *emu.Chain, coll onchain.Collection, asset onchain.Asset, minBid, last *big.Int, c config) (float64, error) {
	for _, s := range svcs[1:] {
		s.Stop()
	}
	start := onchain.NextMinBid(last, uint8(c.Step), minBid, true)
	more, err := makeBidders(ctx, chain, coll, asset, minBid, start, c)
	if err != nil {
		return 0, err
	}
	before := svcs[0].Stats()
	for k, b := range more {
		if err := svcs[0].PublishBid(ctx, asset, b.order.BOC, b.key, identity.V5R1); err != nil {
			return 0, fmt.Errorf("one node alone: bid %d refused: %w", k, err)
		}
	}
	after := svcs[0].Stats()
	n := after.BidsAccepted + after.BidsRejected - before.BidsAccepted - before.BidsRejected
	d := after.BidValidation - before.BidValidation
	if d <= 0 {
		return 0, errors.New("one node alone: no validator time recorded")
	}
	return float64(int(float64(n) / d.Seconds())), nil
}

// waitListing waits until every node shows the auction.
func waitListing(ctx context.Context, svcs []*market.Service, asset onchain.Asset) error {
	deadline := time.Now().Add(30 * time.Second)
	for i, s := range svcs {
		for {
			if _, ok := s.Auction(asset); ok {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("node %d did not see the listing within 30 s", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// makeBidders funds one wallet per bid and signs its order: bid 0 is first,
// bid k the minimum next bid after bid k-1, so that each one leads when it
// arrives.
func makeBidders(ctx context.Context, chain *emu.Chain, coll onchain.Collection, asset onchain.Asset, minBid, first *big.Int, c config) ([]bidder, error) {
	item, err := coll.ItemAddress(asset)
	if err != nil {
		return nil, err
	}
	out := make([]bidder, 0, c.Bids)
	amount := new(big.Int).Set(first)
	for k := range c.Bids {
		if k > 0 {
			amount = onchain.NextMinBid(amount, uint8(c.Step), minBid, true)
		}
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		key := ed25519.NewKeyFromSeed(seed)
		w, err := wallet.New(chain, key, identity.V5R1, nil)
		if err != nil {
			return nil, err
		}
		if err := chain.Faucet(ctx, w.Address(), new(big.Int).Add(amount, big.NewInt(oneTON))); err != nil {
			return nil, fmt.Errorf("fund bidder %d: %w", k, err)
		}
		o, err := w.SignOrder(ctx, item, onchain.BidValue(amount), onchain.BidBody(uint64(k)), true, nil)
		if err != nil {
			return nil, fmt.Errorf("sign bid %d: %w", k, err)
		}
		ext, err := ton.ParseExternal(o.BOC)
		if err != nil {
			return nil, err
		}
		out = append(out, bidder{key: key.Public().(ed25519.PublicKey), order: o, hash: hex.EncodeToString(ext.Hash), amount: new(big.Int).Set(amount)})
	}
	if len(out) == 0 {
		return nil, errors.New("no bids")
	}
	return out, nil
}

// verifyRate is single-goroutine verifications per second by verify.
func verifyRate(verify func(ed25519.PublicKey, []byte, []byte) bool, d time.Duration) float64 {
	seed := make([]byte, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	msg := make([]byte, 32)
	sig := ed25519.Sign(key, msg)
	pub := key.Public().(ed25519.PublicKey)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		for range 100 {
			_ = verify(pub, msg, sig)
		}
		n += 100
	}
	return float64(n) / time.Since(start).Seconds()
}
