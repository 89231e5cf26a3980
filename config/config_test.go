package config

import (
	"reflect"
	"testing"
)

func TestDefaultsValidate(t *testing.T) {
	for _, p := range []string{ProfileTestnet, ProfileServer} {
		c := mustDefault(t, p)
		if err := c.Validate(); err != nil {
			t.Errorf("Default(%q) does not validate: %v", p, err)
		}
		if c.Node.Profile != p || c.Node.Name != "tonmesh" {
			t.Errorf("Default(%q).Node = %+v", p, c.Node)
		}
	}
}

func TestDefaultTestnet(t *testing.T) {
	want := &Config{
		Node: NodeConfig{Name: "tonmesh", Profile: ProfileTestnet},
		P2P: P2PConfig{
			Listen:  []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"},
			DHTMode: "server", ConnLow: 20, ConnHigh: 100, AnnouncePrivate: true, Reachability: "auto",
			RelayMaxReservations: 128, RelayMaxCircuits: 16, RelayLimitDuration: "2m", RelayLimitKB: 1024,
		},
		API:   APIConfig{Listen: "127.0.0.1:0"},
		TON:   TONConfig{Network: "emu", WalletVersion: "v5r1", FaucetMaxTON: 100, AnchorInterval: "1m"},
		Vault: VaultConfig{ShardsK: 4, ShardsN: 6, QuotaMB: 1024, AuditInterval: "1m", ReplaceAfter: "10m"},
		Compute: ComputeConfig{Backend: "llama2c", PricePrompt: 20_000_000, PriceCompletion: 20_000_000, Concurrency: 4,
			Attestation: "none", AllowUnattested: true, CommissionPercent: 5, ChannelDepositTON: 10},
		Market: MarketConfig{FeePercent: 5, NumberPriceTON: 9, CodeTTL: "5m"},
		Log:    LogConfig{Level: "info", Format: "text"},
	}
	if got := mustDefault(t, ProfileTestnet); !reflect.DeepEqual(got, want) {
		t.Errorf("Default(testnet) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultServer(t *testing.T) {
	want := &Config{
		Node: NodeConfig{Name: "tonmesh", Profile: ProfileServer},
		P2P: P2PConfig{
			Listen: []string{
				"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1",
				"/ip6/::/tcp/4001", "/ip6/::/udp/4001/quic-v1",
			},
			DHTMode: "auto", ConnLow: 100, ConnHigh: 400, Reachability: "auto",
			RelayService: true, RelayMaxReservations: 128, RelayMaxCircuits: 16, RelayLimitDuration: "2m", RelayLimitKB: 1024,
			AutoRelay: true, HolePunching: true,
		},
		API:   APIConfig{Listen: "127.0.0.1:5080"},
		TON:   TONConfig{Network: "mainnet", WalletVersion: "v5r1", FaucetMaxTON: 100, AnchorInterval: "10m"},
		Vault: VaultConfig{ShardsK: 4, ShardsN: 6, QuotaMB: 1024, AuditInterval: "10m", ReplaceAfter: "6h"},
		Compute: ComputeConfig{Backend: "llama2c", PricePrompt: 20_000_000, PriceCompletion: 20_000_000, Concurrency: 4,
			Attestation: "none", CommissionPercent: 5, ChannelDepositTON: 10},
		Market: MarketConfig{FeePercent: 5, NumberPriceTON: 9, CodeTTL: "5m"},
		Log:    LogConfig{Level: "info", Format: "text"},
	}
	if got := mustDefault(t, ProfileServer); !reflect.DeepEqual(got, want) {
		t.Errorf("Default(server) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultUnknownProfile(t *testing.T) {
	c, err := Default("laptop")
	if c != nil {
		t.Errorf("Default(laptop) returned a config")
	}
	wantErr(t, err, `"laptop"`, ProfileTestnet, ProfileServer)
}

func TestDefaultReturnsFreshValues(t *testing.T) {
	a := mustDefault(t, ProfileServer)
	a.P2P.Listen[0] = "/ip4/10.0.0.1/tcp/1"
	if b := mustDefault(t, ProfileServer); b.P2P.Listen[0] != "/ip4/0.0.0.0/tcp/4001" {
		t.Errorf("changing one Default changed the next: %q", b.P2P.Listen[0])
	}
}
