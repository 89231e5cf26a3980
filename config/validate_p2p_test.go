package config

import "testing"

func TestValidateRelayAndAddresses(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"reachability", func(c *Config) { c.P2P.Reachability = "nat" }, []string{`"p2p.reachability"`, "auto, public or private"}},
		{"relay behind nat", func(c *Config) { c.P2P.Reachability = ReachabilityPrivate }, []string{`"p2p.relay_service"`, "relay_service = false"}},
		{"reservations", func(c *Config) { c.P2P.RelayMaxReservations = 0 }, []string{`"p2p.relay_max_reservations"`, "1 to 100000"}},
		{"circuits", func(c *Config) { c.P2P.RelayMaxCircuits = 5000 }, []string{`"p2p.relay_max_circuits"`, "1 to 1024"}},
		{"limit duration", func(c *Config) { c.P2P.RelayLimitDuration = "forever" }, []string{`"p2p.relay_limit_duration"`, "not a duration"}},
		{"limit duration tiny", func(c *Config) { c.P2P.RelayLimitDuration = "10ms" }, []string{`"p2p.relay_limit_duration"`, "1s to 24h"}},
		{"limit half off", func(c *Config) { c.P2P.RelayLimitDuration = "0s" }, []string{`"p2p.relay_limit_duration"`, "set both"}},
		{"limit kb", func(c *Config) { c.P2P.RelayLimitKB = -1 }, []string{`"p2p.relay_limit_kb"`, "out of range"}},
		{"static relay without id", func(c *Config) { c.P2P.StaticRelays = []string{"/ip4/203.0.113.7/tcp/4001"} },
			[]string{`"p2p.static_relays"`, "/p2p/<peer id>"}},
		{"static relays unused", func(c *Config) {
			c.P2P.AutoRelay, c.P2P.StaticRelays = false, []string{"/ip4/203.0.113.7/tcp/4001/p2p/" + peerB}
		}, []string{`"p2p.static_relays"`, "auto_relay = true"}},
		{"private announce", func(c *Config) { c.P2P.Announce = []string{"/ip4/192.168.1.10/tcp/4001"} },
			[]string{`"p2p.announce"`, "not a public address", "announce_private = true"}},
		{"loopback announce", func(c *Config) { c.P2P.Announce = []string{"/ip6/::1/tcp/4001"} }, []string{`"p2p.announce"`, "not a public address"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDefault(t, ProfileServer)
			tc.mutate(c)
			wantErr(t, c.Validate(), tc.want...)
		})
	}
}

func TestValidateRelayAccepts(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"unlimited relay", func(c *Config) { c.P2P.RelayLimitDuration, c.P2P.RelayLimitKB = "0s", 0 }},
		{"nated node", func(c *Config) {
			c.P2P.Reachability, c.P2P.RelayService, c.P2P.DHTMode = ReachabilityPrivate, false, DHTModeAuto
			c.P2P.StaticRelays = []string{"/ip4/203.0.113.7/udp/4001/quic-v1/p2p/" + peerB}
		}},
		{"private announce allowed on a LAN", func(c *Config) {
			c.P2P.AnnouncePrivate, c.P2P.Announce = true, []string{"/ip4/10.77.0.2/tcp/4001"}
		}},
		{"public server", func(c *Config) { c.P2P.Reachability = ReachabilityPublic }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDefault(t, ProfileServer)
			tc.mutate(c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestRelayLimits(t *testing.T) {
	c := mustDefault(t, ProfileServer)
	d, data := c.P2P.RelayLimits()
	if d.String() != "2m0s" || data != 1024<<10 {
		t.Errorf("RelayLimits() = %v, %d; want 2m, 1 MiB", d, data)
	}
}
