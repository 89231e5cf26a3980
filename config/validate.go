package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/xssnick/tonutils-go/address"
)

// maxNameRunes bounds node.name so that it fits a table column and a log line.
const maxNameRunes = 64

// Validate checks every key and returns all problems at once (errors.Join),
// each naming its key and saying what is allowed; nil means c is usable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: key %q: "+format, append([]any{key}, args...)...))
	}
	for _, f := range c.fields() {
		checkUTF8(f, bad)
	}

	c.validateNode(bad)
	c.validateP2P(bad)
	c.validateAPI(bad)
	checkEnum(bad, "ton.network", c.TON.Network, networks())
	checkEnum(bad, "ton.wallet_version", c.TON.WalletVersion, walletVersions())
	c.validateTON(bad)
	c.validateVault(bad)
	c.validateCompute(bad)
	c.validateMarket(bad)
	checkEnum(bad, "log.level", c.Log.Level, logLevels())
	checkEnum(bad, "log.format", c.Log.Format, logFormats())
	return errors.Join(errs...)
}

// reporter records one problem with one key.
type reporter func(key, format string, args ...any)

// checkUTF8 rejects strings that a TOML file cannot hold.
func checkUTF8(f field, bad reporter) {
	switch f.v.Kind() {
	case reflect.String:
		if !utf8.ValidString(f.v.String()) {
			bad(f.key, "%q is not valid UTF-8", f.v.String())
		}
	case reflect.Slice:
		if s, ok := f.v.Interface().([]string); ok {
			for _, item := range s {
				if !utf8.ValidString(item) {
					bad(f.key, "%q is not valid UTF-8", item)
				}
			}
		}
	}
}

func checkEnum(bad reporter, key, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		bad(key, "%q is not allowed (use %s)", value, oneOf(allowed))
	}
}

func (c *Config) validateNode(bad reporter) {
	name := c.Node.Name
	switch {
	case strings.TrimSpace(name) == "":
		bad("node.name", "must not be empty (example: \"alice\")")
	case utf8.RuneCountInString(name) > maxNameRunes:
		bad("node.name", "%q is longer than %d characters", name, maxNameRunes)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		bad("node.name", "%q contains control characters (use printable text)", name)
	}
	checkEnum(bad, "node.profile", c.Node.Profile, profiles())
}

func (c *Config) validateP2P(bad reporter) {
	p := &c.P2P
	if len(p.Listen) == 0 {
		bad("p2p.listen", "needs at least one multiaddr (example: /ip4/0.0.0.0/tcp/4001)")
	}
	checkAddrs(bad, "p2p.listen", p.Listen)
	checkAddrs(bad, "p2p.announce", p.Announce)
	checkPeerAddrs(bad, "p2p.bootstrap", p.Bootstrap)
	checkEnum(bad, "p2p.dht_mode", p.DHTMode, dhtModes())
	c.validateRelay(bad)
	if p.ConnLow < 0 {
		bad("p2p.conn_low", "%d is negative (use 0 or more)", p.ConnLow)
	}
	if p.ConnHigh <= p.ConnLow {
		bad("p2p.conn_high", "%d must be greater than p2p.conn_low (%d)", p.ConnHigh, p.ConnLow)
	}
}

// checkPeerAddrs checks addresses of other peers: transport multiaddrs
// ending in /p2p/<peer id>.
func checkPeerAddrs(bad reporter, key string, addrs []string) {
	for _, s := range addrs {
		m, err := parseMultiaddr(s)
		if err != nil {
			bad(key, "%q is not a multiaddr (example: /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…): %v", s, err)
			continue
		}
		if len(m) < 2 || m[len(m)-1].Code() != ma.P_P2P {
			bad(key, "%q must be a transport address ending in /p2p/<peer id> (example: /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…)", s)
		}
	}
}

// checkAddrs checks listen and announce addresses: each a multiaddr without a
// peer id (libp2p appends the node's own), and no duplicates.
func checkAddrs(bad reporter, key string, addrs []string) {
	seen := make(map[string]bool)
	for _, s := range addrs {
		m, err := parseMultiaddr(s)
		if err != nil {
			bad(key, "%q is not a multiaddr (example: /ip4/0.0.0.0/tcp/4001): %v", s, err)
			continue
		}
		if _, err := m.ValueForProtocol(ma.P_P2P); err == nil {
			bad(key, "%q must not contain /p2p/ (the node adds its own peer id)", s)
		}
		if seen[m.String()] {
			bad(key, "%q is listed twice", s)
		}
		seen[m.String()] = true
	}
}

// parseMultiaddr parses s and trims go-multiaddr's echo of the input from its
// error, since messages here already quote the value.
func parseMultiaddr(s string) (ma.Multiaddr, error) {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, "\": "); ok && strings.HasPrefix(msg, "failed to parse multiaddr") {
			msg = rest
		}
		return nil, errors.New(msg)
	}
	return m, nil
}

func (c *Config) validateAPI(bad reporter) {
	const key = "api.listen"
	host, port, err := splitHostPort(c.API.Listen)
	if err != nil {
		bad(key, "%q is not host:port (example: 127.0.0.1:5080): %v", c.API.Listen, err)
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port != strconv.FormatUint(n, 10) {
		bad(key, "%q: port %q is not a number from 0 to 65535 (0 picks a free port)", c.API.Listen, port)
	}
	if isLoopback(host) {
		return
	}
	if !c.API.AllowRemote {
		bad(key, "%q is not a loopback address (use 127.0.0.1, ::1 or localhost, or set api.allow_remote = true to expose the API to the network)", c.API.Listen)
		return
	}
	if host == "" {
		return // all interfaces, allowed by allow_remote
	}
	if _, err := netip.ParseAddr(host); err != nil && !isHostname(host) {
		bad(key, "%q: host %q is neither an IP address nor a host name", c.API.Listen, host)
	}
}

// splitHostPort is net.SplitHostPort with the error trimmed to its reason,
// since messages here already quote the value.
func splitHostPort(s string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(s)
	if ae, ok := errors.AsType[*net.AddrError](err); ok {
		return "", "", errors.New(ae.Err)
	}
	return host, port, err
}

// isLoopback reports whether host names the loopback interface: localhost,
// 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// isHostname reports whether s is a syntactically valid DNS name.
func isHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (c *Config) validateTON(bad reporter) {
	t := c.TON
	if t.EmuHost && t.Network != NetworkEmu {
		bad("ton.emu_host", "true needs ton.network = %q (it is %q)", NetworkEmu, t.Network)
	}
	if t.EmuPeer != "" {
		if _, err := peer.Decode(t.EmuPeer); err != nil {
			bad("ton.emu_peer", "%q is not a peer ID (example: 12D3KooW…; leave empty to use the first bootstrap peer)", t.EmuPeer)
		}
	}
	if t.FaucetMaxTON < 0 || t.FaucetMaxTON > 1_000_000 {
		bad("ton.faucet_max_ton", "%d is out of range (use 0 to 1000000 TON)", t.FaucetMaxTON)
	}
	d, err := time.ParseDuration(t.AnchorInterval)
	if err != nil || d < 0 || (d > 0 && d < time.Second) {
		bad("ton.anchor_interval", "%q is not a duration of at least 1s (examples: 10m, 1h; 0s turns anchoring off)", t.AnchorInterval)
	}
}

func checkDuration(bad reporter, key, value string, least, most time.Duration, examples string) {
	d, err := time.ParseDuration(value)
	if err != nil || d < least || d > most {
		bad(key, "%q is not a duration from %s to %s (examples: %s)", value, least, most, examples)
	}
}

func (c *Config) validateVault(bad reporter) {
	v := c.Vault
	if v.ShardsN < 2 || v.ShardsN > 32 {
		bad("vault.shards_n", "%d is out of range (use 2 to 32)", v.ShardsN)
	}
	if v.ShardsK < 1 || v.ShardsK >= v.ShardsN {
		bad("vault.shards_k", "%d must be at least 1 and less than vault.shards_n (%d)", v.ShardsK, v.ShardsN)
	}
	if v.QuotaMB < 0 {
		bad("vault.quota_mb", "%d is negative (use 0 or more)", v.QuotaMB)
	}
	checkDuration(bad, "vault.audit_interval", v.AuditInterval, time.Second, 30*24*time.Hour, "10m, 1h")
	checkDuration(bad, "vault.replace_after", v.ReplaceAfter, time.Second, 90*24*time.Hour, "6h, 2d is 48h")
}

func (c *Config) validateCompute(bad reporter) {
	m := c.Compute
	seen := map[string]bool{}
	for _, r := range m.Roles {
		checkEnum(bad, "compute.roles", r, computeRoles())
		if seen[r] {
			bad("compute.roles", "%q is listed twice", r)
		}
		seen[r] = true
	}
	checkEnum(bad, "compute.backend", m.Backend, backends())
	if seen[RoleWorker] && m.Backend == BackendOpenAI {
		if u, err := url.Parse(m.OpenAIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("compute.openai_url", "%q is not an http(s) URL (example: http://127.0.0.1:8000); a worker with backend = openai needs it", m.OpenAIURL)
		}
	}
	if m.PricePrompt < 0 {
		bad("compute.price_prompt", "%d is negative", m.PricePrompt)
	}
	if m.PriceCompletion < 0 {
		bad("compute.price_completion", "%d is negative", m.PriceCompletion)
	}
	if m.Concurrency < 1 || m.Concurrency > 1024 {
		bad("compute.concurrency", "%d is out of range (use 1 to 1024)", m.Concurrency)
	}
	checkEnum(bad, "compute.attestation", m.Attestation, attestations())
	if m.CommissionPercent < 0 || m.CommissionPercent > 50 {
		bad("compute.commission_percent", "%d is out of range (use 0 to 50)", m.CommissionPercent)
	}
	if m.MaxPrice < 0 {
		bad("compute.max_price", "%d is negative (use 0 for no cap)", m.MaxPrice)
	}
	if m.ChannelDepositTON < 1 || m.ChannelDepositTON > 1_000_000 {
		bad("compute.channel_deposit_ton", "%d is out of range (use 1 to 1000000)", m.ChannelDepositTON)
	}
}

func (c *Config) validateMarket(bad reporter) {
	m := c.Market
	if m.Registry != "" {
		if _, err := address.ParseAddr(m.Registry); err != nil {
			if _, rerr := address.ParseRawAddr(m.Registry); rerr != nil {
				bad("market.registry", "%q is not a TON address (friendly EQ…/UQ…/0Q… or raw 0:…)", m.Registry)
			}
		}
	}
	if m.FeePercent < 1 || m.FeePercent > 50 {
		bad("market.fee_percent", "%d is out of range (use 1 to 50)", m.FeePercent)
	}
	if m.NumberPriceTON < 1 || m.NumberPriceTON > 1_000_000 {
		bad("market.number_price_ton", "%d is out of range (use 1 to 1000000)", m.NumberPriceTON)
	}
	checkDuration(bad, "market.code_ttl", m.CodeTTL, time.Minute, time.Hour, "5m, 10m")
}
