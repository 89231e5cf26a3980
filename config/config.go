package config

import (
	"fmt"
	"strings"
)

// Profiles name a set of defaults; `tonmesh init --profile` picks one.
const (
	// ProfileTestnet suits a node of a local multi-node testnet: loopback
	// only, ephemeral ports, emulated chain.
	ProfileTestnet = "testnet"
	// ProfileServer suits a public node: fixed ports on all interfaces,
	// TON mainnet.
	ProfileServer = "server"
)

// FileName is the name of the configuration file inside a node's home.
const FileName = "config.toml"

// Allowed values of the enumerated keys.
const (
	DHTModeServer = "server" // p2p.dht_mode: answer DHT queries
	DHTModeClient = "client" // p2p.dht_mode: query only (behind NAT)
	DHTModeAuto   = "auto"   // p2p.dht_mode: switch on reachability

	ReachabilityAuto    = "auto"    // p2p.reachability: AutoNAT decides
	ReachabilityPublic  = "public"  // p2p.reachability: dialable at its addresses
	ReachabilityPrivate = "private" // p2p.reachability: behind NAT or a firewall

	NetworkEmu     = "emu"     // ton.network: in-process emulated chain
	NetworkTestnet = "testnet" // ton.network: TON testnet via liteservers
	NetworkMainnet = "mainnet" // ton.network: TON mainnet via liteservers

	WalletV5R1 = "v5r1" // ton.wallet_version
	WalletV4R2 = "v4r2" // ton.wallet_version

	LogFormatText = "text" // log.format
	LogFormatJSON = "json" // log.format

	RoleWorker = "worker" // compute.roles: run inference for others
	RoleProxy  = "proxy"  // compute.roles: route and bill requests

	BackendLlama2c = "llama2c" // compute.backend: the built-in CPU runner
	BackendOpenAI  = "openai"  // compute.backend: an OpenAI-compatible server

	AttestNone   = "none"    // compute.attestation: no TEE (dev networks)
	AttestTDX    = "tdx"     // compute.attestation: Intel TDX
	AttestSEVSNP = "sev-snp" // compute.attestation: AMD SEV-SNP
)

// The allowed values of each enumerated key, in the order error messages list
// them. Functions rather than variables: the package keeps no globals.
func profiles() []string { return []string{ProfileTestnet, ProfileServer} }
func dhtModes() []string { return []string{DHTModeServer, DHTModeClient, DHTModeAuto} }
func reachabilities() []string {
	return []string{ReachabilityAuto, ReachabilityPublic, ReachabilityPrivate}
}
func networks() []string       { return []string{NetworkEmu, NetworkTestnet, NetworkMainnet} }
func walletVersions() []string { return []string{WalletV5R1, WalletV4R2} }
func logLevels() []string      { return []string{"debug", "info", "warn", "error"} }
func logFormats() []string     { return []string{LogFormatText, LogFormatJSON} }
func computeRoles() []string   { return []string{RoleWorker, RoleProxy} }
func backends() []string       { return []string{BackendLlama2c, BackendOpenAI} }
func attestations() []string   { return []string{AttestNone, AttestTDX, AttestSEVSNP} }

// Config is the whole configuration of one node. The toml tags are the file's
// section and key names; environment variable names derive from them.
type Config struct {
	Node    NodeConfig    `toml:"node"`
	P2P     P2PConfig     `toml:"p2p"`
	API     APIConfig     `toml:"api"`
	TON     TONConfig     `toml:"ton"`
	Chat    ChatConfig    `toml:"chat"`
	Vault   VaultConfig   `toml:"vault"`
	Compute ComputeConfig `toml:"compute"`
	Market  MarketConfig  `toml:"market"`
	Log     LogConfig     `toml:"log"`
}

// NodeConfig identifies the node to humans.
type NodeConfig struct {
	Name    string `toml:"name"`    // human label shown in testnet tables and logs; default "tonmesh"
	Profile string `toml:"profile"` // testnet | server (informational; what init used)
}

// P2PConfig configures the libp2p host and its discovery.
type P2PConfig struct {
	Listen    []string `toml:"listen"`    // multiaddrs
	Announce  []string `toml:"announce"`  // multiaddrs, optional
	Bootstrap []string `toml:"bootstrap"` // multiaddrs that must end in /p2p/<peer id>
	DHTMode   string   `toml:"dht_mode"`  // server | client | auto
	MDNS      bool     `toml:"mdns"`
	ConnLow   int      `toml:"conn_low"`
	ConnHigh  int      `toml:"conn_high"`

	// AnnouncePrivate lets the node announce loopback, private and
	// link-local addresses (and keep others' in its DHT): right on a LAN,
	// a local testnet or a namespace testnet, wrong on the internet.
	AnnouncePrivate bool   `toml:"announce_private"`
	Reachability    string `toml:"reachability"` // auto | public | private

	RelayService         bool   `toml:"relay_service"`          // serve circuit relay v2 to NATed peers
	RelayMaxReservations int    `toml:"relay_max_reservations"` // peers holding a relay slot at once
	RelayMaxCircuits     int    `toml:"relay_max_circuits"`     // relayed connections per peer at once
	RelayLimitDuration   string `toml:"relay_limit_duration"`   // Go duration per relayed connection; "0s" with relay_limit_kb 0: none
	RelayLimitKB         int    `toml:"relay_limit_kb"`         // KiB per direction per relayed connection

	AutoRelay    bool     `toml:"auto_relay"`    // reserve relay slots when not publicly reachable
	StaticRelays []string `toml:"static_relays"` // relays to use, multiaddrs ending in /p2p/<peer id>
	HolePunching bool     `toml:"hole_punching"` // DCUtR: turn relayed connections into direct ones
}

// APIConfig configures the local HTTP API.
type APIConfig struct {
	// Listen is host:port; port 0 picks a free one. The host must be a
	// loopback address (127.0.0.0/8, ::1, localhost) unless AllowRemote.
	Listen      string `toml:"listen"`
	AllowRemote bool   `toml:"allow_remote"`
}

// TONConfig selects the chain and the wallet contract.
type TONConfig struct {
	Network        string `toml:"network"`         // emu | testnet | mainnet
	WalletVersion  string `toml:"wallet_version"`  // v5r1 | v4r2
	EmuHost        bool   `toml:"emu_host"`        // host the emulated chain (network = emu)
	EmuPeer        string `toml:"emu_peer"`        // peer ID of the emulated chain's host; "" = first bootstrap peer
	FaucetMaxTON   int    `toml:"faucet_max_ton"`  // largest faucet payout the emu host grants per request
	AnchorInterval string `toml:"anchor_interval"` // Go duration between anchors of the journal; "0s" turns anchoring off
	GlobalConfig   string `toml:"global_config"`   // path or URL of the TON global config (network = mainnet | testnet)
}

// ChatConfig configures this node's chat service, as a mailbox holder for
// others too.
type ChatConfig struct {
	RefusePlainDeposits bool `toml:"refuse_plain_deposits"` // mailbox holder: take sealed-sender deposits only
}

// VaultConfig configures identity-document storage: how this node's
// documents are split and how much it holds for others.
type VaultConfig struct {
	ShardsK       int    `toml:"shards_k"`       // shards needed to restore an element
	ShardsN       int    `toml:"shards_n"`       // shards written per element, each to a different peer
	QuotaMB       int    `toml:"quota_mb"`       // space this node lends to other owners' shards
	AuditInterval string `toml:"audit_interval"` // Go duration between audits of this node's shards
	ReplaceAfter  string `toml:"replace_after"`  // Go duration a holder may stay unanswering before its shard is rebuilt elsewhere
}

// ComputeConfig configures confidential inference: the roles this node
// plays and, for a worker, what it serves at what price.
type ComputeConfig struct {
	Roles             []string `toml:"roles"`               // worker, proxy (every node is a client)
	Backend           string   `toml:"backend"`             // worker: llama2c | openai
	OpenAIURL         string   `toml:"openai_url"`          // worker, backend = openai: base URL of the server
	OpenAIKey         string   `toml:"openai_key"`          // worker, backend = openai: its API key, if any
	ModelDir          string   `toml:"model_dir"`           // worker, backend = llama2c: checkpoint folder
	PricePrompt       int64    `toml:"price_prompt"`        // worker: nanoTON per million prompt tokens
	PriceCompletion   int64    `toml:"price_completion"`    // worker: nanoTON per million completion tokens
	Concurrency       int      `toml:"concurrency"`         // worker: jobs at once
	Attestation       string   `toml:"attestation"`         // worker: none | tdx | sev-snp
	AllowUnattested   bool     `toml:"allow_unattested"`    // client: accept workers without a TEE
	CommissionPercent int      `toml:"commission_percent"`  // proxy: its share of each job
	MaxPrice          int64    `toml:"max_price"`           // client: default cap, nanoTON per million tokens; 0 = none
	ChannelDepositTON int      `toml:"channel_deposit_ton"` // deposit of each payment channel compute opens
}

// MarketConfig configures the username and number market.
type MarketConfig struct {
	Registry       string `toml:"registry"`         // wallet address of the network's registry (mints assets)
	FeePercent     int    `toml:"fee_percent"`      // network fee on auction proceeds (set by the registry)
	NumberPriceTON int    `toml:"number_price_ton"` // fixed price of a random +888 number (set by the registry)
	CodeTTL        string `toml:"code_ttl"`         // Go duration a login code stays valid
}

// LogConfig configures the slog handler.
type LogConfig struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // text | json
}

// Default returns a fresh Config holding the defaults of profile. An unknown
// profile is an error that lists the allowed ones.
func Default(profile string) (*Config, error) {
	c := &Config{
		Node: NodeConfig{Name: "tonmesh", Profile: profile},
		P2P: P2PConfig{DHTMode: DHTModeServer, MDNS: false, Reachability: ReachabilityAuto,
			RelayMaxReservations: 128, RelayMaxCircuits: 16, RelayLimitDuration: "2m", RelayLimitKB: 1024},
		TON:   TONConfig{WalletVersion: WalletV5R1, FaucetMaxTON: 100, AnchorInterval: "10m"},
		Vault: VaultConfig{ShardsK: 4, ShardsN: 6, QuotaMB: 1024, AuditInterval: "10m", ReplaceAfter: "6h"},
		Compute: ComputeConfig{Backend: BackendLlama2c, PricePrompt: 20_000_000, PriceCompletion: 20_000_000,
			Concurrency: 4, Attestation: AttestNone, CommissionPercent: 5, ChannelDepositTON: 10},
		Market: MarketConfig{FeePercent: 5, NumberPriceTON: 9, CodeTTL: "5m"},
		Log:    LogConfig{Level: "info", Format: LogFormatText},
	}
	switch profile {
	case ProfileTestnet:
		c.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
		c.P2P.ConnLow, c.P2P.ConnHigh = 20, 100
		c.P2P.AnnouncePrivate = true // loopback addresses are all there is
		c.API.Listen = "127.0.0.1:0"
		c.TON.Network = NetworkEmu
		c.TON.AnchorInterval = "1m"
		c.Vault.AuditInterval = "1m"
		c.Vault.ReplaceAfter = "10m"
		c.Compute.AllowUnattested = true
	case ProfileServer:
		c.P2P.Listen = []string{
			"/ip4/0.0.0.0/tcp/4001",
			"/ip4/0.0.0.0/udp/4001/quic-v1",
			"/ip6/::/tcp/4001",
			"/ip6/::/udp/4001/quic-v1",
		}
		c.P2P.ConnLow, c.P2P.ConnHigh = 100, 400
		// A public node: DHT server once AutoNAT confirms it is reachable,
		// relay for NATed peers; behind NAT it uses relays and hole punching.
		c.P2P.DHTMode = DHTModeAuto
		c.P2P.RelayService, c.P2P.AutoRelay, c.P2P.HolePunching = true, true, true
		c.API.Listen = "127.0.0.1:5080"
		c.TON.Network = NetworkMainnet
	default:
		return nil, fmt.Errorf("config: unknown profile %q (allowed: %s)", profile, oneOf(profiles()))
	}
	return c, nil
}

// oneOf renders allowed values for an error message: "a, b or c".
func oneOf(allowed []string) string {
	switch len(allowed) {
	case 0:
		return ""
	case 1:
		return allowed[0]
	}
	return strings.Join(allowed[:len(allowed)-1], ", ") + " or " + allowed[len(allowed)-1]
}
