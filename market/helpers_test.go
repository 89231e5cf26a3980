package market

import (
	"context"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger/journal"
	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/directory"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

const ton1 = 1_000_000_000

func tons(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(ton1)) }

// recLedger is the real ledger service, with the journal entries the
// market records kept for assertions.
type recLedger struct {
	*ledgersvc.Service
	mu      sync.Mutex
	entries []journal.Entry
}

func (l *recLedger) Record(ctx context.Context, e journal.Entry) error {
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
	return l.Service.Record(ctx, e)
}

func (l *recLedger) recorded() []journal.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]journal.Entry(nil), l.entries...)
}

// mnode is one bare peer with a real ledger service and a market service.
type mnode struct {
	peer   *peers.Peer
	ledger *recLedger
	svc    *Service
	addr   *address.Address // the wallet's address
	stop   func()           // stops the services, once
}

// mcluster is n bare peers; peer 0 hosts the emulated chain, runs the
// faucet and is the market's registry.
type mcluster struct {
	t     *testing.T
	nodes []*mnode
	coll  onchain.Collection
	host  *peers.Peer
}

func testMarketConfig(coll onchain.Collection, registry bool) Config {
	return Config{Collection: coll, Registry: registry, SettleInterval: time.Second}
}

func startCluster(t *testing.T, n int) *mcluster {
	t.Helper()
	ps := peers.Start(t, n)
	c := &mcluster{t: t, host: ps[0]}
	reg, err := ps[0].Identity.WalletAddress(identity.V5R1, identity.Emu)
	if err != nil {
		t.Fatal(err)
	}
	c.coll = onchain.Collection{Registry: reg, GlobalID: identity.Emu.GlobalID()}
	for i, p := range ps {
		c.nodes = append(c.nodes, c.startNode(p, i == 0))
	}
	// Every node finds every other's wallet in the directory.
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			waitFor(t, "directory entry", func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				got, err := directory.Lookup(ctx, a.peer.Net, b.addr)
				return err == nil && got == b.peer.Net.ID()
			})
		}
	}
	return c
}

// startNode runs ledger and market services on p until the test ends.
func (c *mcluster) startNode(p *peers.Peer, host bool) *mnode {
	t := c.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hostPeer := c.host
	if host {
		hostPeer = p
	}
	ls, err := p.StartLedger(ctx, hostPeer, nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	n := &mnode{peer: p, ledger: &recLedger{Service: ls}}
	if n.addr, err = p.Identity.WalletAddress(identity.V5R1, identity.Emu); err != nil {
		t.Fatal(err)
	}
	if n.svc, err = New(p.Store, p.Net, p.Identity, n.ledger, nil, testMarketConfig(c.coll, host), testLogger().With("node", p.Net.ID().ShortString())); err != nil {
		t.Fatal(err)
	}
	if err := n.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.stop = sync.OnceFunc(func() {
		n.svc.Stop()
		n.ledger.Stop()
	})
	t.Cleanup(n.stop)
	if err := directory.Register(p.Net); err != nil {
		t.Fatal(err)
	}
	for {
		if err := directory.Publish(ctx, p.Net, p.Identity, identity.V5R1, identity.Emu); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("publish the directory record: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

// restart stops n's services and peer, starts them again on the same store.
func (c *mcluster) restart(n *mnode) {
	n.stop()
	n.peer.Restart(c.t)
	fresh := c.startNode(n.peer, false)
	*n = *fresh
}

func (c *mcluster) chain() *emu.Chain {
	ch, err := c.nodes[0].ledger.Chain()
	if err != nil {
		c.t.Fatal(err)
	}
	return ch.(*emu.Chain)
}

func (c *mcluster) fund(n *mnode, amount *big.Int) {
	c.t.Helper()
	if err := c.chain().Faucet(context.Background(), n.addr, amount); err != nil {
		c.t.Fatal(err)
	}
}

func (c *mcluster) item(a onchain.Asset) *onchain.Item {
	c.t.Helper()
	it, err := onchain.ReadItem(context.Background(), c.chain(), c.coll, a)
	if err != nil {
		c.t.Fatal(err)
	}
	return it
}

// incoming returns the values of the internal messages addr received from
// src whose body starts with op.
func incoming(t *testing.T, chain ton.Chain, addr, src *address.Address, op uint32) []*big.Int {
	t.Helper()
	txs, err := chain.Transactions(context.Background(), addr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*big.Int
	for _, tx := range txs {
		if tx.In != nil && tx.In.Kind == ton.Internal && equalAddr(tx.In.Src, src) && opOf(tx.In.Body) == uint64(op) {
			out = append(out, tx.In.Value)
		}
	}
	return out
}

// testLogger discards logs unless MARKET_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("MARKET_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustAsset(t testing.TB, s string) onchain.Asset {
	t.Helper()
	a, err := onchain.ParseAsset(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fmtAddr renders a wallet address (testnet-flagged on emu) as the API does.
func fmtAddr(a *address.Address) string { return identity.FormatFriendly(a) }
