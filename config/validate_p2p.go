package config

import (
	"time"

	"github.com/tonmesh/tonmesh/p2p"
)

// maxRelayLimitKB bounds p2p.relay_limit_kb (1 GiB per relayed connection).
const maxRelayLimitKB = 1 << 20

// validateRelay checks reachability, relaying and hole punching, and that a
// node that must not announce private addresses is not told to.
func (c *Config) validateRelay(bad reporter) {
	p := &c.P2P
	checkEnum(bad, "p2p.reachability", p.Reachability, reachabilities())
	if p.RelayService && p.Reachability == ReachabilityPrivate {
		bad("p2p.relay_service", "true needs a reachable node, but p2p.reachability is %q (set relay_service = false, or reachability = auto or public)", p.Reachability)
	}
	if p.RelayMaxReservations < 1 || p.RelayMaxReservations > 100_000 {
		bad("p2p.relay_max_reservations", "%d is out of range (use 1 to 100000)", p.RelayMaxReservations)
	}
	if p.RelayMaxCircuits < 1 || p.RelayMaxCircuits > 1024 {
		bad("p2p.relay_max_circuits", "%d is out of range (use 1 to 1024)", p.RelayMaxCircuits)
	}
	d, err := time.ParseDuration(p.RelayLimitDuration)
	if err != nil || d < 0 || (d > 0 && d < time.Second) || d > 24*time.Hour {
		bad("p2p.relay_limit_duration", "%q is not a duration from 1s to 24h (examples: 2m, 10m; 0s with relay_limit_kb = 0 relays without limit)", p.RelayLimitDuration)
	} else if (d == 0) != (p.RelayLimitKB == 0) {
		bad("p2p.relay_limit_duration", "%q and p2p.relay_limit_kb = %d: set both (a limited relay) or both to zero (0s and 0: no limit)", p.RelayLimitDuration, p.RelayLimitKB)
	}
	if p.RelayLimitKB < 0 || p.RelayLimitKB > maxRelayLimitKB {
		bad("p2p.relay_limit_kb", "%d is out of range (use 0 to %d KiB)", p.RelayLimitKB, maxRelayLimitKB)
	}
	checkPeerAddrs(bad, "p2p.static_relays", p.StaticRelays)
	if len(p.StaticRelays) > 0 && !p.AutoRelay {
		bad("p2p.static_relays", "is set but p2p.auto_relay is false, so the relays would never be used (set auto_relay = true or remove them)")
	}
	if p.AnnouncePrivate {
		return
	}
	for _, s := range p.Announce {
		m, err := parseMultiaddr(s)
		if err == nil && !p2p.PublicAddr(m) {
			bad("p2p.announce", "%q is not a public address, and p2p.announce_private is false (remove it, or set announce_private = true on a LAN or test network)", s)
		}
	}
}

// RelayLimits returns the relay's per-connection limits (validated keys).
func (p *P2PConfig) RelayLimits() (time.Duration, int64) {
	d, _ := time.ParseDuration(p.RelayLimitDuration)
	return d, int64(p.RelayLimitKB) << 10
}
