package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tonmesh/tonmesh/internal/fsutil"
)

// Write validates c and writes it to path as a commented TOML file: a header
// saying what the file is and how environment overrides work, then every
// section and key, each key under a comment that explains it and its allowed
// values. The file is replaced atomically (temporary file in the same
// directory, fsync, rename, fsync of the directory) with mode 0600; the
// directory is created (0700) if missing. Load(path) then returns a Config
// equal to c. An invalid c is refused, so Write never produces a file that
// Load rejects.
func (c *Config) Write(path string) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config: refusing to write an invalid configuration to %s:\n%w", path, err)
	}
	data, err := c.render()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("config: writing %s: %w (check that the directory is writable)", path, err)
	}
	return nil
}

// render produces the file's text.
func (c *Config) render() ([]byte, error) {
	var b strings.Builder
	writeHeader(&b, c.Node.Profile)
	for _, s := range c.sections() {
		fmt.Fprintf(&b, "\n[%s]\n", s.name)
		writeComment(&b, sectionDoc(s.name))
		for _, f := range s.fields {
			doc := keyDoc(f.key)
			if doc == "" {
				return nil, fmt.Errorf("config: key %q has no documentation: add it to keyDoc in config/write.go", f.key)
			}
			value, err := tomlValue(f.v)
			if err != nil {
				return nil, fmt.Errorf("config: key %q: %w", f.key, err)
			}
			b.WriteString("\n")
			writeComment(&b, doc+"\nEnvironment: "+f.env)
			fmt.Fprintf(&b, "%s = %s\n", f.name, value)
		}
	}
	return []byte(b.String()), nil
}

func writeHeader(b *strings.Builder, profile string) {
	writeComment(b, `tonmesh node configuration (`+FileName+`).

This file configures one tonmesh node. It was written for the "`+profile+`" profile;
a key missing from it takes that profile's default (see node.profile). A key
that tonmesh does not know is an error, so a misspelt key is never ignored.

Environment overrides: every key can be overridden by a variable named
TONMESH_<SECTION>_<KEY> in upper case, and the variable wins over this file:
  TONMESH_LOG_LEVEL=debug
  TONMESH_P2P_MDNS=true
  TONMESH_P2P_CONN_HIGH=200
  TONMESH_P2P_LISTEN=/ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/udp/4001/quic-v1
Lists are comma-separated; booleans are true or false. TONMESH_HOME, TONMESH_API
and TONMESH_TOKEN are read by the tonmesh command and are not keys of this file.`)
}

// writeComment writes text as comment lines, one "# " per line.
func writeComment(b *strings.Builder, text string) {
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" {
			b.WriteString("#\n")
			continue
		}
		b.WriteString("# " + line + "\n")
	}
}

// sectionDoc says what a table configures.
func sectionDoc(name string) string {
	switch name {
	case "node":
		return "Who this node is, for humans."
	case "p2p":
		return "libp2p networking: addresses, discovery and connection limits."
	case "api":
		return "The local HTTP API used by the tonmesh command and by applications\n(bearer token in the node's home)."
	case "ton":
		return "The TON chain on which payments and ownership settle."
	case "chat":
		return "End-to-end encrypted chat, and the mailboxes this node keeps for\nothers' offline recipients."
	case "vault":
		return "Identity documents (tonmesh passport): how this node's documents are\nsplit across peers, and how much it stores for others."
	case "compute":
		return "Confidential AI inference: the roles this node plays and, as a worker,\nwhat it serves at what price. Every node is a client (OpenAI API on /v1)."
	case "market":
		return "Usernames and +888 numbers: auctions, fixed-price numbers, login codes."
	case "log":
		return "How the node logs (log/slog)."
	}
	return ""
}

// keyDoc explains a key and its allowed values. Every key must have one; a
// test walks all keys.
func keyDoc(key string) string {
	switch key {
	case "node.name":
		return "Human label shown in testnet tables and logs; 1 to 64 printable characters."
	case "node.profile":
		return "Profile used by `tonmesh init`: testnet or server. Keys missing from this\nfile take this profile's defaults."
	case "p2p.listen":
		return "Multiaddrs to listen on, at least one; port 0 picks a free port.\nExamples: /ip4/0.0.0.0/tcp/4001, /ip4/0.0.0.0/udp/4001/quic-v1, /ip6/::/tcp/4001."
	case "p2p.announce":
		return "Multiaddrs to announce to peers instead of the listen addresses, e.g. a\npublic address behind port forwarding: /ip4/203.0.113.7/tcp/4001. Optional."
	case "p2p.bootstrap":
		return "Peers to connect to at start: multiaddrs ending in /p2p/<peer id>,\ne.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…. Optional."
	case "p2p.dht_mode":
		return "Kademlia DHT mode: server (answer queries; needs reachable addresses),\nclient (query only, behind NAT) or auto (decide by reachability)."
	case "p2p.mdns":
		return "Discover peers on the local network with mDNS: true or false. It sends\nmulticast beyond loopback, so it is off by default."
	case "p2p.conn_low":
		return "Connection manager low water mark: trimming stops at this many\nconnections. 0 or more, less than conn_high."
	case "p2p.conn_high":
		return "Connection manager high water mark: above this many connections the\nnode trims down to conn_low. Greater than conn_low."
	case "p2p.announce_private":
		return "Announce loopback, private (10/8, 192.168/16, fc00::/7…) and link-local\naddresses to peers and keep such addresses of others in the DHT: true on a\nLAN, a local testnet or a namespace testnet; false on the internet, where\nthey mean another machine to whoever reads them."
	case "p2p.reachability":
		return "Whether others can dial this node: auto (AutoNAT asks peers to dial\nback; needs public addresses), public (a server with an open port) or\nprivate (behind NAT: use relays at once, DHT client in dht_mode auto)."
	case "p2p.relay_service":
		return "Serve circuit relay v2: peers behind NAT reserve a slot here and are\nreached through this node. Needs a reachable node. true or false."
	case "p2p.relay_max_reservations":
		return "Relay service: peers holding a slot at once, 1 to 100000."
	case "p2p.relay_max_circuits":
		return "Relay service: relayed connections per peer at once, 1 to 1024."
	case "p2p.relay_limit_duration":
		return "Relay service: each relayed connection is cut after this long, as a\nduration (2m, 10m); hole punching usually replaces it sooner. 0s together\nwith relay_limit_kb = 0 relays without limit."
	case "p2p.relay_limit_kb":
		return "Relay service: each relayed connection is cut after this many KiB in\neither direction; 0 together with relay_limit_duration = \"0s\": no limit."
	case "p2p.auto_relay":
		return "When this node is not publicly reachable, reserve slots on relays and\nannounce /p2p-circuit addresses through them: true or false."
	case "p2p.static_relays":
		return "Relays for auto_relay, multiaddrs ending in /p2p/<peer id>. Empty: any\nrelay-serving peer this node is connected to."
	case "p2p.hole_punching":
		return "Turn relayed connections into direct ones through both NATs (DCUtR):\ntrue or false."
	case "api.listen":
		return "host:port of the HTTP API; port 0 picks a free one. The host must be\nloopback (127.0.0.1, ::1 or localhost) unless allow_remote is true."
	case "api.allow_remote":
		return "Allow api.listen on a non-loopback address, exposing the API (still\ntoken-protected) to the network: true or false."
	case "ton.network":
		return "Chain to use: emu (in-process emulated chain, for testnets and tests),\ntestnet or mainnet (TON liteservers)."
	case "ton.wallet_version":
		return "Wallet contract derived from the mnemonic: v5r1 or v4r2."
	case "ton.emu_host":
		return "Host the emulated chain and its faucet in this node and serve it to\npeers (network = emu; the first node of a testnet): true or false."
	case "ton.emu_peer":
		return "Peer ID of the node hosting the emulated chain (network = emu, emu_host\nfalse). Empty: the peer of the first p2p.bootstrap address."
	case "ton.faucet_max_ton":
		return "Largest faucet payout, in whole TON, that an emu host grants per request.\n0 turns the faucet off."
	case "ton.global_config":
		return "Path or http(s) URL of the TON global config JSON listing liteservers\n(network = mainnet or testnet), e.g. https://ton.org/global-config.json.\nEmpty: the ledger stays off on those networks."
	case "ton.anchor_interval":
		return "How often the settlements journal is anchored to TON, as a duration\n(10m, 1h); 0s turns anchoring off."
	case "chat.refuse_plain_deposits":
		return "As a mailbox holder for others, take only sealed-sender deposits (the\nsender hidden, paid by proof of work) and refuse plain ones, which name\ntheir sender and cost nothing to sign with a fresh key. Nodes of older\nversions send plain deposits only. true or false."
	case "vault.shards_k":
		return "Shards that restore one document element; any shards_k of shards_n do.\n1 or more, less than shards_n."
	case "vault.shards_n":
		return "Shards written per element, each to a different peer: the vault survives\nthe loss of shards_n - shards_k holders. At most 32."
	case "vault.quota_mb":
		return "MiB of disk this node lends to other owners' encrypted shards; shards over\nit are refused. 0 holds nothing for others."
	case "vault.audit_interval":
		return "How often this node challenges the holders of its shards and repairs\nmissing ones, as a duration (10m, 1h)."
	case "vault.replace_after":
		return "How long a holder may fail every audit before its shard is rebuilt on\nanother peer, even with enough shards left (6h). A shorter time replaces\nrestarting peers too; a longer one waits for them."
	case "compute.roles":
		return "Roles besides client: worker (serve models, earn TON), proxy (route\nand bill requests for a commission). Example: [\"worker\"]."
	case "compute.backend":
		return "Worker engine: llama2c (built-in CPU runner for llama2.c checkpoints) or\nopenai (any OpenAI-compatible server: vLLM, SGLang, llama.cpp, Ollama)."
	case "compute.openai_url":
		return "Worker with backend = openai: base URL of the server, e.g.\nhttp://127.0.0.1:8000 (the node calls <url>/v1/...)."
	case "compute.openai_key":
		return "Worker with backend = openai: the server's API key, if it wants one.\nPrefer the environment variable to writing it here."
	case "compute.model_dir":
		return "Worker with backend = llama2c: folder holding a llama2.c checkpoint\n(*.bin) and its tokenizer (tok*.bin). Empty: look for stories260K in\n../shared/models, else serve a random-weight demo model."
	case "compute.price_prompt":
		return "Worker: price in nanoTON per million prompt tokens (0 or more)."
	case "compute.price_completion":
		return "Worker: price in nanoTON per million completion tokens (0 or more)."
	case "compute.concurrency":
		return "Worker: how many requests run at once, 1 to 1024."
	case "compute.attestation":
		return "Worker: the TEE that proves the worker's key: none (no TEE; clients\nrefuse it unless they allow unattested workers), tdx or sev-snp."
	case "compute.allow_unattested":
		return "Client: accept workers attested as none (testnets only); their answers\nare marked not confidential. true or false."
	case "compute.commission_percent":
		return "Proxy: percent of each job's price it keeps, 0 to 50."
	case "compute.max_price":
		return "Client: default price cap in nanoTON per million completion tokens\n(proxy commission included); 0 means no cap. Requests may set their own."
	case "compute.channel_deposit_ton":
		return "Whole TON deposited in each payment channel compute opens\n(client to proxy, proxy to worker), 1 to 1000000."
	case "market.registry":
		return "Wallet address of the network's registry, which mints usernames and\nnumbers and receives fees. A node whose wallet is this address is the\nregistry. Empty: the node hosting the emulated chain (ton.emu_host) is\nthe registry; on other nodes the market stays off."
	case "market.fee_percent":
		return "Network fee on auction proceeds, percent (1 to 50). Used by the registry\nwhen it deploys the collection."
	case "market.number_price_ton":
		return "Fixed price of a random +888 number in whole TON. Used by the registry\nwhen it deploys the collection."
	case "market.code_ttl":
		return "How long a login code stays valid, as a duration (1m to 1h)."
	case "log.level":
		return "Least severe level logged: debug, info, warn or error."
	case "log.format":
		return "Log line format: text (human-readable) or json."
	}
	return ""
}

// tomlValue renders v as a TOML value.
func tomlValue(v reflect.Value) (string, error) {
	switch v.Kind() {
	case reflect.String:
		return tomlString(v.String()), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Slice:
		items, ok := v.Interface().([]string)
		if !ok {
			return "", fmt.Errorf("cannot write a value of type %s", v.Type())
		}
		switch len(items) {
		case 0:
			return "[]", nil
		case 1:
			return "[" + tomlString(items[0]) + "]", nil
		}
		var b strings.Builder
		b.WriteString("[\n")
		for _, s := range items {
			b.WriteString("  " + tomlString(s) + ",\n")
		}
		b.WriteString("]")
		return b.String(), nil
	}
	return "", fmt.Errorf("cannot write a value of type %s", v.Type())
}

// tomlString quotes s as a TOML basic string. s must be valid UTF-8 (Validate
// ensures it); an invalid byte would be written as U+FFFD.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else if r == utf8.RuneError {
				b.WriteString(`\uFFFD`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
