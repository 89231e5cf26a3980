package p2p

import (
	"net"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestPublicAddr(t *testing.T) {
	const relay = "/p2p/12D3KooWAfPDpPRRRBrmqy9is2zjU5srQ4hKuZitiGmh4NTTpS2d/p2p-circuit"
	cases := []struct {
		addr   string
		public bool
	}{
		{"/ip4/203.0.113.7/tcp/4001", true},
		{"/ip4/8.8.8.8/udp/4001/quic-v1", true},
		{"/ip6/2001:db8::1/tcp/4001", true},
		{"/dns4/node.example.com/tcp/4001", true},
		{"/ip4/127.0.0.1/tcp/4001", false},
		{"/ip4/10.77.0.2/tcp/4001", false},
		{"/ip4/172.16.5.4/tcp/4001", false},
		{"/ip4/192.168.1.10/udp/4001/quic-v1", false},
		{"/ip4/100.64.1.1/tcp/4001", false},
		{"/ip4/169.254.3.3/tcp/4001", false},
		{"/ip4/0.0.0.0/tcp/4001", false},
		{"/ip4/224.0.0.251/udp/5353", false},
		{"/ip6/::1/tcp/4001", false},
		{"/ip6/fe80::1/tcp/4001", false},
		{"/ip6/fd00::5/tcp/4001", false},
		{"/ip6/::ffff:10.0.0.1/tcp/4001", false},
		{"/ip4/203.0.113.7/tcp/4001" + relay, true},
		{"/ip4/10.77.0.2/tcp/4001" + relay, false},
		{"/p2p-circuit", false},
	}
	for _, tc := range cases {
		a, err := ma.NewMultiaddr(tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if got := PublicAddr(a); got != tc.public {
			t.Errorf("PublicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
	if PublicAddr(nil) {
		t.Error("PublicAddr(nil) = true")
	}
}

func TestAddrsFactory(t *testing.T) {
	m := func(s string) ma.Multiaddr { return ma.StringCast(s) }
	const circuit = "/ip4/203.0.113.9/tcp/4001/p2p/12D3KooWAfPDpPRRRBrmqy9is2zjU5srQ4hKuZitiGmh4NTTpS2d/p2p-circuit"
	listen := []ma.Multiaddr{m("/ip4/127.0.0.1/tcp/4001"), m("/ip4/10.0.0.5/tcp/4001"), m("/ip4/198.51.100.4/tcp/4001"), m(circuit)}

	got := addrsFactory(nil, true)(listen)
	if want := []string{"/ip4/198.51.100.4/tcp/4001", circuit}; !sameAddrs(got, want) {
		t.Errorf("public only: %v, want %v", got, want)
	}
	if got := addrsFactory(nil, false)(listen); len(got) != len(listen) {
		t.Errorf("private allowed: %v, want all of %v", got, listen)
	}
	// Announce replaces listen addresses but keeps relay addresses.
	got = addrsFactory([]ma.Multiaddr{m("/ip4/203.0.113.7/tcp/4001")}, true)(listen)
	if want := []string{"/ip4/203.0.113.7/tcp/4001", circuit}; !sameAddrs(got, want) {
		t.Errorf("announce: %v, want %v", got, want)
	}
	if len(listen) != 4 || listen[0].String() != "/ip4/127.0.0.1/tcp/4001" {
		t.Errorf("the factory changed its input: %v", listen)
	}
}

func sameAddrs(got []ma.Multiaddr, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].String() != want[i] {
			return false
		}
	}
	return true
}

func TestColocationWhitelistIsLoopbackOnly(t *testing.T) {
	params := peerScoreParams()
	for _, ip := range []string{"127.0.0.1", "127.9.9.9", "::1"} {
		if !whitelisted(params.IPColocationFactorWhitelist, ip) {
			t.Errorf("%s is not exempt from the IP-colocation penalty", ip)
		}
	}
	// Real addresses, private ones included, count: many peers on one real
	// IP are what the penalty is for.
	for _, ip := range []string{"10.77.0.2", "192.168.1.1", "203.0.113.7", "2001:db8::1", "fe80::1"} {
		if whitelisted(params.IPColocationFactorWhitelist, ip) {
			t.Errorf("%s is exempt from the IP-colocation penalty", ip)
		}
	}
	if params.IPColocationFactorWeight >= 0 || params.IPColocationFactorThreshold < 1 {
		t.Errorf("IP colocation is not penalised: weight %v threshold %d", params.IPColocationFactorWeight, params.IPColocationFactorThreshold)
	}
}

func whitelisted(nets []*net.IPNet, ip string) bool {
	for _, n := range nets {
		if n.Contains(net.ParseIP(ip)) {
			return true
		}
	}
	return false
}
