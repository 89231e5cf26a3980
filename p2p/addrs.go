package p2p

import (
	"net/netip"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Address filtering. A node on the public internet must not tell the world
// (identify, the DHT) to dial it at 127.0.0.1, 192.168.1.10 or fe80::1: those
// addresses mean another machine to everyone who reads them, so a peer that
// dials them wastes a dial at best and reaches a stranger's service at
// worst. With Config.PublicOnly the node announces, and its DHT keeps and
// hands out, only addresses that can be public.

// cgnat is the shared address space of carrier-grade NAT (RFC 6598): private
// in practice, though netip does not call it so.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicIP reports whether ip can be reached from the internet: not
// loopback, private (RFC 1918, fc00::/7), carrier-grade NAT, link-local,
// multicast or unspecified. Documentation ranges (203.0.113.0/24, ...) count
// as public so that examples and tests can use them.
func publicIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsLoopback(), ip.IsPrivate(), ip.IsUnspecified(),
		ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return false
	case ip.Is4() && cgnat.Contains(ip):
		return false
	}
	return true
}

// PublicAddr reports whether a may be announced to the public network. A
// relay address (…/p2p/<relay>/p2p-circuit) is judged by the relay's own
// transport address before /p2p-circuit; a DNS address counts as public (the
// name is the operator's statement); an address without an IP or DNS part
// (e.g. a bare /p2p-circuit) is not.
func PublicAddr(a ma.Multiaddr) bool {
	if a == nil {
		return false
	}
	// Everything before /p2p-circuit: the whole address when it is direct.
	transport, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Code() == ma.P_CIRCUIT })
	if len(transport) == 0 {
		return false
	}
	switch transport[0].Code() {
	case ma.P_DNS, ma.P_DNS4, ma.P_DNS6, ma.P_DNSADDR:
		return true
	}
	ip, err := manet.ToIP(transport)
	if err != nil {
		return false
	}
	addr, ok := netip.AddrFromSlice(ip)
	return ok && publicIP(addr)
}

// FilterPublic returns the addresses of in that PublicAddr accepts, in
// order. It never modifies in.
func FilterPublic(in []ma.Multiaddr) []ma.Multiaddr {
	out := make([]ma.Multiaddr, 0, len(in))
	for _, a := range in {
		if PublicAddr(a) {
			out = append(out, a)
		}
	}
	return out
}

// isRelayAddr reports whether a goes through a circuit relay.
func isRelayAddr(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// addrsFactory decides what the host announces. Announce addresses, when
// configured, replace the listen addresses (a public address forwarded to
// this machine), but the relay addresses that AutoRelay adds are kept: a
// node behind NAT needs them to be reachable at all. With publicOnly the
// result is filtered by PublicAddr.
func addrsFactory(announce []ma.Multiaddr, publicOnly bool) func([]ma.Multiaddr) []ma.Multiaddr {
	return func(addrs []ma.Multiaddr) []ma.Multiaddr {
		if len(announce) > 0 {
			out := append([]ma.Multiaddr(nil), announce...)
			for _, a := range addrs {
				if isRelayAddr(a) {
					out = append(out, a)
				}
			}
			addrs = out
		}
		if publicOnly {
			return FilterPublic(addrs)
		}
		return addrs
	}
}
