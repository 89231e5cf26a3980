// Package peers starts bare tonmesh peers for the tests of one service: a
// real libp2p network on 127.0.0.1, a real Pebble store and a real identity
// per peer, without node/. A service package whose tests need its own
// instance (node would start one too, and a store space or DHT namespace can
// be taken only once) builds it on these. Everything is closed by t.Cleanup.
package peers

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Peer is one running bare peer.
type Peer struct {
	Identity *identity.Identity
	Store    *ledger.Store
	Net      *p2p.Network

	dir       string
	bootstrap []string
	once      sync.Once
}

// Start starts n peers, each bootstrapped to the first, and waits until every
// one has min(n-1, 2) DHT peers.
func Start(t testing.TB, n int) []*Peer {
	t.Helper()
	dir := t.TempDir()
	var ps []*Peer
	var boot []string
	for i := range n {
		words, err := identity.NewMnemonic()
		if err != nil {
			t.Fatal(err)
		}
		id, err := identity.FromMnemonic(words)
		if err != nil {
			t.Fatal(err)
		}
		p := &Peer{Identity: id, dir: filepath.Join(dir, "peer"+strconv.Itoa(i+1)), bootstrap: boot}
		p.open(t)
		if i == 0 {
			boot = []string{p.Net.Addrs()[0].String()}
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.waitDHT(t, min(n-1, 2))
	}
	return ps
}

func (p *Peer) open(t testing.TB) {
	t.Helper()
	st, err := ledger.Open(p.dir)
	if err != nil {
		t.Fatal(err)
	}
	net, err := p2p.New(context.Background(), p.Identity.PeerKey, p2p.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:   p.bootstrap,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	if err := net.Start(context.Background()); err != nil {
		net.Close()
		st.Close()
		t.Fatal(err)
	}
	p.Store, p.Net = st, net
	p.once = sync.Once{}
	t.Cleanup(p.Stop)
}

func (p *Peer) waitDHT(t testing.TB, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Net.WaitDHTPeers(ctx, want); err != nil {
		t.Fatalf("peer %s: %d DHT peers, want %d: %v", p.Net.ID(), p.Net.RoutingTableSize(), want, err)
	}
}

// Stop closes the peer's network and store; stop its services first.
func (p *Peer) Stop() {
	p.once.Do(func() {
		p.Net.Close()
		p.Store.Close()
	})
}

// Restart stops the peer and starts it again on the same store and
// identity, as a restarted daemon would be, and waits for a DHT peer.
func (p *Peer) Restart(t testing.TB) {
	t.Helper()
	p.Stop()
	p.open(t)
	p.waitDHT(t, 1)
}
