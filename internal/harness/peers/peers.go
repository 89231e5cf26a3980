// Package peers starts bare tonmesh peers for the tests and benchmarks of
// one service: a real libp2p network on 127.0.0.1, a real Pebble store and a
// real identity per peer, without node/. A service package whose tests need
// its own instance (node would start one too, and a store space or DHT
// namespace can be taken only once) builds it on these. Start closes
// everything through t.Cleanup; Launch leaves closing to the caller (Stop),
// for benchmark mains that have no testing.TB.
package peers

import (
	"context"
	"errors"
	"fmt"
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
// one has min(n-1, 2) DHT peers. Everything is closed at the end of the test.
func Start(t testing.TB, n int) []*Peer {
	t.Helper()
	ps, err := Launch(context.Background(), t.TempDir(), n)
	for _, p := range ps {
		t.Cleanup(p.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// Launch starts n peers under dir, each bootstrapped to the first, and waits
// until every one has min(n-1, 2) DHT peers. On error the peers it started
// are returned too, for the caller to Stop.
func Launch(ctx context.Context, dir string, n int) ([]*Peer, error) {
	var ps []*Peer
	var boot []string
	for i := range n {
		words, err := identity.NewMnemonic()
		if err != nil {
			return ps, err
		}
		id, err := identity.FromMnemonic(words)
		if err != nil {
			return ps, err
		}
		p := &Peer{Identity: id, dir: filepath.Join(dir, "peer"+strconv.Itoa(i+1)), bootstrap: boot}
		if err := p.open(ctx); err != nil {
			return ps, err
		}
		if i == 0 {
			boot = []string{p.Net.Addrs()[0].String()}
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.waitDHT(ctx, min(n-1, 2)); err != nil {
			return ps, err
		}
	}
	return ps, nil
}

// Join starts one more peer bootstrapped to first, with identity id (a new
// random identity when nil), for tests that need a late or restored peer,
// and waits for a DHT peer. It is closed at the end of the test.
func Join(t testing.TB, first *Peer, id *identity.Identity) *Peer {
	t.Helper()
	if id == nil {
		words, err := identity.NewMnemonic()
		if err == nil {
			id, err = identity.FromMnemonic(words)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p := &Peer{Identity: id, dir: filepath.Join(t.TempDir(), "joined"), bootstrap: []string{first.Net.Addrs()[0].String()}}
	if err := p.open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	if err := p.waitDHT(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *Peer) open(ctx context.Context) error {
	st, err := ledger.Open(p.dir)
	if err != nil {
		return err
	}
	net, err := p2p.New(ctx, p.Identity.PeerKey, p2p.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:   p.bootstrap,
	})
	if err != nil {
		st.Close()
		return err
	}
	if err := net.Start(context.Background()); err != nil {
		return errors.Join(err, net.Close(), st.Close())
	}
	p.Store, p.Net = st, net
	p.once = sync.Once{}
	return nil
}

func (p *Peer) waitDHT(ctx context.Context, want int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Net.WaitDHTPeers(ctx, want); err != nil {
		return fmt.Errorf("peer %s: %d DHT peers, want %d: %w", p.Net.ID(), p.Net.RoutingTableSize(), want, err)
	}
	return nil
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
	if err := p.open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	if err := p.waitDHT(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}
