package p2p

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// TestRelayedRequestFoundByDHT: a node that cannot be dialled (it listens
// nowhere, as behind NAT) reserves a slot on a relay and announces a
// /p2p-circuit address; a third node that has never met it finds that
// address in the DHT and gets an answer through the relay, over a limited
// connection.
func TestRelayedRequestFoundByDHT(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	relay := newTestNode(t, Config{Reachability: ReachabilityPublic, RelayService: true,
		Relay: RelayLimits{LimitDuration: time.Minute, LimitData: 1 << 20}})
	if err := relay.Start(ctx); err != nil {
		t.Fatal(err)
	}
	relayAddr := addrStrings(relay.Network)[0]
	nated := newTestNode(t, Config{ListenAddrs: []string{}, Reachability: ReachabilityPrivate, DHTMode: "client",
		AutoRelay: true, StaticRelays: []string{relayAddr}, Bootstrap: []string{relayAddr}})
	// A DHT client: the NATed node never learns of it, so the two meet only
	// when the dialer looks the NATed node up.
	dialer := newTestNode(t, Config{Bootstrap: []string{relayAddr}, DHTMode: "client"})
	proto := ProtocolID("test", "echo", "1")
	nated.HandleRequest(proto, func(_ context.Context, from peer.ID, req []byte) ([]byte, error) {
		return append([]byte("echo:"), req...), nil
	}, 64, 5*time.Second)
	for _, n := range []*testNode{nated, dialer} {
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pollUntil(ctx, t, "the NATed node announces a relay address", func() error {
		for _, a := range nated.Host().Addrs() {
			if isRelayAddr(a) {
				return nil
			}
		}
		return fmt.Errorf("addresses %v", nated.Host().Addrs())
	})
	pollUntil(ctx, t, "the dialer has the relay in its routing table", func() error {
		if dialer.RoutingTableSize() == 0 {
			return errors.New("empty routing table")
		}
		return nil
	})
	if got := dialer.Host().Peerstore().Addrs(nated.ID()); len(got) != 0 {
		t.Fatalf("the dialer already knows addresses of the NATed node: %v", got)
	}

	resp, err := dialer.Request(ctx, nated.ID(), proto, []byte("hi"), 64)
	if err != nil {
		t.Fatalf("request through the relay: %v", err)
	}
	if string(resp) != "echo:hi" {
		t.Fatalf("answer %q", resp)
	}
	var relayed bool
	for _, c := range dialer.Host().Network().ConnsToPeer(nated.ID()) {
		if _, err := c.RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT); err == nil {
			relayed = true
			if !c.Stat().Limited {
				t.Errorf("relayed connection %s is not limited, though the relay limits connections", c.RemoteMultiaddr())
			}
		}
	}
	if !relayed {
		t.Fatalf("no relayed connection to the NATed node: %v", connAddrs(dialer, nated.ID()))
	}
	if dialer.Connectedness(nated.ID()) != network.Limited {
		t.Errorf("connectedness %v, want limited (the NATed node has no direct address)", dialer.Connectedness(nated.ID()))
	}
}

func connAddrs(n *testNode, p peer.ID) string {
	var out []string
	for _, c := range n.Host().Network().ConnsToPeer(p) {
		out = append(out, c.RemoteMultiaddr().String())
	}
	return strings.Join(out, ", ")
}

func TestRelayConfigRejected(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Reachability: "maybe"}, "p2p.reachability"},
		{Config{Relay: RelayLimits{LimitDuration: time.Minute}}, "relay_limit"},
		{Config{Relay: RelayLimits{MaxCircuits: -1}}, "negative"},
		{Config{AutoRelay: true, StaticRelays: []string{"/ip4/203.0.113.7/tcp/4001"}}, "p2p.static_relays"},
		{Config{PublicOnly: true, AnnounceAddrs: []string{"/ip4/10.0.0.1/tcp/4001"}}, "p2p.announce"},
	}
	for _, tc := range cases {
		_, err := New(t.Context(), newKey(t), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}
