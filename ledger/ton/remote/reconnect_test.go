package remote

import (
	"context"
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p"
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestClientReconnects: the chain host goes away (its node stops) and
// comes back on the same address, as a restarted daemon does. Meanwhile
// the client's calls fail at once with an error that names the host; the
// first call after the host is back works, on the same Client, with no
// redial by the caller — however many calls failed while it was away.
func TestClientReconnects(t *testing.T) {
	ctx := t.Context()
	chain, err := emu.New(openStore(t))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	listen := "/ip4/127.0.0.1/tcp/" + strconv.Itoa(freePort(t))
	startHost := func() *p2p.Network {
		t.Helper()
		n, err := p2p.New(ctx, key, p2p.Config{ListenAddrs: []string{listen}})
		if err != nil {
			t.Fatalf("start the chain host: %v", err)
		}
		t.Cleanup(func() { _ = n.Close() })
		Serve(n, chain)
		return n
	}
	host := startHost()
	client := newNetwork(t)
	if err := client.Host().Connect(ctx, peer.AddrInfo{ID: host.ID(), Addrs: host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	rc, err := Dial(ctx, client, host.ID())
	if err != nil {
		t.Fatal(err)
	}
	space, err := openStore(t).Space(wallet.SpaceName)
	if err != nil {
		t.Fatal(err)
	}
	w := newWallet(t, rc, space)
	if _, err := rc.Account(ctx, w.Address()); err != nil {
		t.Fatalf("account with the host up: %v", err)
	}

	if err := host.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err := rc.Account(cctx, w.Address())
		late := cctx.Err() != nil
		cancel()
		if err == nil {
			t.Fatal("a call succeeded with the chain host gone")
		}
		if !strings.Contains(err.Error(), "the chain host "+host.ID().String()+" is not reachable") || late {
			t.Fatalf("call %d with the host gone: %v; want a prompt error naming the host", i, err)
		}
	}

	startHost()
	if _, err := rc.Account(ctx, w.Address()); err != nil {
		t.Fatalf("first call after the host came back: %v", err)
	}
	if _, err := rc.Head(ctx); err != nil {
		t.Fatalf("head after the host came back: %v", err)
	}
}
