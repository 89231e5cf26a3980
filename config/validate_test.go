package config

import (
	"strings"
	"testing"
)

const (
	peerA = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"
	peerB = "12D3KooWAfPDpPRRRBrmqy9is2zjU5srQ4hKuZitiGmh4NTTpS2d"
)

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings of the error; the first is always the key
	}{
		{"empty name", func(c *Config) { c.Node.Name = "  " }, []string{`"node.name"`, "must not be empty"}},
		{"long name", func(c *Config) { c.Node.Name = strings.Repeat("n", 65) }, []string{`"node.name"`, "64"}},
		{"control in name", func(c *Config) { c.Node.Name = "a\x1bb" }, []string{`"node.name"`, "control"}},
		{"bad utf8 name", func(c *Config) { c.Node.Name = "a\xffb" }, []string{`"node.name"`, "UTF-8"}},
		{"profile", func(c *Config) { c.Node.Profile = "desktop" }, []string{`"node.profile"`, "testnet or server"}},
		{"no listen", func(c *Config) { c.P2P.Listen = nil }, []string{`"p2p.listen"`, "at least one"}},
		{"listen not multiaddr", func(c *Config) { c.P2P.Listen = []string{"tcp/abc"} },
			[]string{`config: key "p2p.listen": "tcp/abc" is not a multiaddr (example: /ip4/0.0.0.0/tcp/4001)`}},
		{"listen bad port", func(c *Config) { c.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/http"} }, []string{`"p2p.listen"`, `"http"`}},
		{"listen with peer id", func(c *Config) { c.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/1/p2p/" + peerA} }, []string{`"p2p.listen"`, "/p2p/"}},
		{"listen twice", func(c *Config) { c.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/1", "/ip4/0.0.0.0/tcp/1"} }, []string{`"p2p.listen"`, "twice"}},
		{"announce", func(c *Config) { c.P2P.Announce = []string{"203.0.113.7:4001"} }, []string{`"p2p.announce"`, "not a multiaddr"}},
		{"bootstrap not multiaddr", func(c *Config) { c.P2P.Bootstrap = []string{"/ip4/1.2.3.4/tcp/1/p2p/nope"} }, []string{`"p2p.bootstrap"`, "not a multiaddr"}},
		{"bootstrap without peer id", func(c *Config) { c.P2P.Bootstrap = []string{"/ip4/1.2.3.4/tcp/4001"} }, []string{`"p2p.bootstrap"`, "/p2p/<peer id>"}},
		{"bootstrap peer id only", func(c *Config) { c.P2P.Bootstrap = []string{"/p2p/" + peerA} }, []string{`"p2p.bootstrap"`, "/p2p/<peer id>"}},
		{"bootstrap peer id not last", func(c *Config) {
			c.P2P.Bootstrap = []string{"/ip4/1.2.3.4/tcp/4001/p2p/" + peerA + "/p2p-circuit"}
		}, []string{`"p2p.bootstrap"`, "ending in /p2p/"}},
		{"dht mode", func(c *Config) { c.P2P.DHTMode = "full" }, []string{`"p2p.dht_mode"`, "server, client or auto"}},
		{"conn low negative", func(c *Config) { c.P2P.ConnLow = -1 }, []string{`"p2p.conn_low"`, "negative"}},
		{"conn low equal high", func(c *Config) { c.P2P.ConnLow, c.P2P.ConnHigh = 50, 50 }, []string{`"p2p.conn_high"`, "p2p.conn_low"}},
		{"conn low above high", func(c *Config) { c.P2P.ConnLow, c.P2P.ConnHigh = 500, 400 }, []string{`"p2p.conn_high"`, "greater than"}},
		{"api not host:port", func(c *Config) { c.API.Listen = "127.0.0.1" }, []string{`"api.listen"`, "host:port", "missing port"}},
		{"api bad port", func(c *Config) { c.API.Listen = "127.0.0.1:http" }, []string{`"api.listen"`, "0 to 65535"}},
		{"api port too big", func(c *Config) { c.API.Listen = "127.0.0.1:65536" }, []string{`"api.listen"`, "0 to 65535"}},
		{"api remote", func(c *Config) { c.API.Listen = "0.0.0.0:5080" }, []string{`"api.listen"`, "loopback", "api.allow_remote"}},
		{"api empty host", func(c *Config) { c.API.Listen = ":5080" }, []string{`"api.listen"`, "loopback"}},
		{"api hostname", func(c *Config) { c.API.Listen = "example.com:5080" }, []string{`"api.listen"`, "loopback"}},
		{"api bad host with allow_remote", func(c *Config) { c.API.Listen, c.API.AllowRemote = "bad_host!:5080", true }, []string{`"api.listen"`, "neither"}},
		{"ton network", func(c *Config) { c.TON.Network = "devnet" }, []string{`"ton.network"`, "emu, testnet or mainnet"}},
		{"wallet", func(c *Config) { c.TON.WalletVersion = "v3r2" }, []string{`"ton.wallet_version"`, "v5r1 or v4r2"}},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, []string{`"log.level"`, "debug, info, warn or error"}},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{`"log.format"`, "text or json"}},
		{"shards k >= n", func(c *Config) { c.Vault.ShardsK = 6 }, []string{`"vault.shards_k"`, "less than vault.shards_n"}},
		{"shards n", func(c *Config) { c.Vault.ShardsN = 40 }, []string{`"vault.shards_n"`, "2 to 32"}},
		{"audit interval", func(c *Config) { c.Vault.AuditInterval = "soon" }, []string{`"vault.audit_interval"`, "not a duration"}},
		{"compute role", func(c *Config) { c.Compute.Roles = []string{"miner"} }, []string{`"compute.roles"`, "worker or proxy"}},
		{"compute role twice", func(c *Config) { c.Compute.Roles = []string{"proxy", "proxy"} }, []string{`"compute.roles"`, "twice"}},
		{"openai url", func(c *Config) { c.Compute.Roles, c.Compute.Backend = []string{"worker"}, "openai" }, []string{`"compute.openai_url"`, "http(s) URL"}},
		{"attestation", func(c *Config) { c.Compute.Attestation = "sgx" }, []string{`"compute.attestation"`, "none, tdx or sev-snp"}},
		{"commission", func(c *Config) { c.Compute.CommissionPercent = 80 }, []string{`"compute.commission_percent"`, "0 to 50"}},
		{"registry", func(c *Config) { c.Market.Registry = "alice" }, []string{`"market.registry"`, "not a TON address"}},
		{"code ttl", func(c *Config) { c.Market.CodeTTL = "2h" }, []string{`"market.code_ttl"`, "1m0s to 1h0m0s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDefault(t, ProfileServer)
			tc.mutate(c)
			wantErr(t, c.Validate(), tc.want...)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"loopback v4 range", func(c *Config) { c.API.Listen = "127.3.2.1:80" }},
		{"loopback v6", func(c *Config) { c.API.Listen = "[::1]:0" }},
		{"localhost", func(c *Config) { c.API.Listen = "localhost:5080" }},
		{"remote allowed", func(c *Config) { c.API.Listen, c.API.AllowRemote = "0.0.0.0:5080", true }},
		{"remote all interfaces", func(c *Config) { c.API.Listen, c.API.AllowRemote = ":5080", true }},
		{"remote hostname", func(c *Config) { c.API.Listen, c.API.AllowRemote = "node.example.com:5080", true }},
		{"bootstrap", func(c *Config) {
			c.P2P.Bootstrap = []string{
				"/dnsaddr/bootstrap.libp2p.io/p2p/" + peerA,
				"/ip4/203.0.113.7/udp/4001/quic-v1/p2p/" + peerB,
			}
		}},
		{"announce", func(c *Config) {
			c.P2P.Announce = []string{"/ip4/203.0.113.7/tcp/4001", "/dns4/node.example.com/tcp/4001"}
		}},
		{"conn low zero", func(c *Config) { c.P2P.ConnLow, c.P2P.ConnHigh = 0, 1 }},
		{"client mode", func(c *Config) { c.P2P.DHTMode = DHTModeClient }},
		{"unicode name", func(c *Config) { c.Node.Name = "Ноде \"№1\" \\ 🚀" }},
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

func TestValidateReportsEveryProblem(t *testing.T) {
	c := mustDefault(t, ProfileTestnet)
	c.Log.Level = "loud"
	c.TON.Network = "moon"
	c.P2P.Listen = []string{"nope", "/ip4/127.0.0.1/tcp/0"}
	err := c.Validate()
	wantErr(t, err, `"log.level"`, `"ton.network"`, `"p2p.listen": "nope"`)
	if n := strings.Count(err.Error(), "config: key"); n != 3 {
		t.Errorf("got %d problems, want 3:\n%v", n, err)
	}
}

func TestValidateTON(t *testing.T) {
	cases := []struct {
		edit func(*Config)
		key  string
	}{
		{func(c *Config) { c.TON.EmuHost = true; c.TON.Network = NetworkMainnet }, "ton.emu_host"},
		{func(c *Config) { c.TON.EmuPeer = "not-a-peer" }, "ton.emu_peer"},
		{func(c *Config) { c.TON.FaucetMaxTON = -1 }, "ton.faucet_max_ton"},
		{func(c *Config) { c.TON.AnchorInterval = "10" }, "ton.anchor_interval"},
		{func(c *Config) { c.TON.AnchorInterval = "5ms" }, "ton.anchor_interval"},
	}
	for _, tc := range cases {
		c, _ := Default(ProfileTestnet)
		tc.edit(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), `"`+tc.key+`"`) {
			t.Errorf("%s: Validate() = %v, want an error naming the key", tc.key, err)
		}
	}
	c, _ := Default(ProfileTestnet)
	c.TON.EmuHost, c.TON.AnchorInterval = true, "0s"
	if err := c.Validate(); err != nil {
		t.Errorf("emu host with anchoring off: %v", err)
	}
}
