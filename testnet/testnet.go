package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/internal/fsutil"
	"github.com/tonmesh/tonmesh/node"
)

// ManifestFile is written into the testnet directory once the network is ready.
const ManifestFile = "testnet.json"

// Options configure Run.
type Options struct {
	Dir      string        // testnet directory; a new temporary one when empty
	Nodes    int           // number of nodes (default 5)
	BasePort int           // node i listens on BasePort+2i (p2p TCP and QUIC) and BasePort+2i+1 (API); 0 picks free ports
	Binary   string        // tonmesh executable that runs the daemons (default: this executable)
	Ready    time.Duration // how long to wait for the network (default 90 s)
	Fund     string        // TON the faucet pays each new node's wallet ("0": none)
	Out      io.Writer     // progress and the final table (default: discard)
	Log      *slog.Logger
	// OnReady is called once the network is ready (after testnet.json is written).
	OnReady func(*Manifest)
}

// Manifest describes a running testnet; testnet.json holds its Nodes, a
// JSON list.
type Manifest struct {
	Dir   string
	Nodes []NodeInfo
}

// NodeInfo describes one running node of the testnet.
type NodeInfo struct {
	Name      string `json:"name"`
	Home      string `json:"home"`
	API       string `json:"api"`
	Web       string `json:"web"`     // the web app (API + /ui/); `tonmesh --home HOME ui` logs in
	TONAPI    string `json:"ton_api"` // the toncenter v2 endpoint TonClient takes (API + /ton/api/v2/jsonRPC)
	Token     string `json:"token"`
	TokenFile string `json:"token_file"`
	PeerID    string `json:"peer_id"`
	Address   string `json:"address"`
	Balance   string `json:"balance"` // TON, at start
}

// ReadManifest reads DIR/testnet.json.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	m := &Manifest{Dir: dir}
	if err := json.Unmarshal(data, &m.Nodes); err != nil {
		return nil, fmt.Errorf("decode %s: %w", ManifestFile, err)
	}
	return m, nil
}

func (o *Options) defaults() error {
	if o.Nodes == 0 {
		o.Nodes = 5
	}
	if o.Nodes < 1 || o.Nodes > 100 {
		return fmt.Errorf("--nodes %d: use 1 to 100", o.Nodes)
	}
	if o.BasePort != 0 && (o.BasePort < 1024 || o.BasePort+2*o.Nodes > 65535) {
		return fmt.Errorf("--base-port %d: use a port from 1024 to %d, or 0 to pick free ports", o.BasePort, 65535-2*o.Nodes)
	}
	if o.Ready == 0 {
		o.Ready = 90 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the tonmesh executable: %w", err)
		}
		o.Binary = exe
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "tonmesh-testnet-")
		if err != nil {
			return fmt.Errorf("create testnet directory: %w", err)
		}
		o.Dir = dir
	}
	return os.MkdirAll(o.Dir, 0o700)
}

// Run creates (or resumes) the testnet in o.Dir, starts every node, waits
// until the network is ready, writes testnet.json, and then runs until ctx is
// cancelled. It stops every node before returning.
func Run(ctx context.Context, o Options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	manifestPath := filepath.Join(o.Dir, ManifestFile)
	os.Remove(manifestPath)
	defer os.Remove(manifestPath)

	fmt.Fprintf(o.Out, "testnet directory: %s\n", o.Dir)
	homes, err := prepareHomes(o)
	if err != nil {
		return err
	}
	procs := make([]*daemon, 0, len(homes))
	defer func() { stopAll(procs, o.Out) }()
	for i, h := range homes {
		d, err := startDaemon(o.Binary, h, nodeName(i))
		if err != nil {
			return err
		}
		procs = append(procs, d)
	}
	m, err := waitReady(ctx, o, procs)
	if err != nil {
		return err
	}
	if err := fund(ctx, o, m); err != nil {
		return err
	}
	if err := waitCompute(ctx, o, m); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(m.Nodes, "", "  ")
	if err := fsutil.WriteFileAtomic(manifestPath, append(data, '\n'), 0o600); err != nil {
		return err
	}
	printTable(o.Out, m)
	if o.OnReady != nil {
		o.OnReady(m)
	}
	return watch(ctx, o, procs)
}

func nodeName(i int) string { return "node" + strconv.Itoa(i+1) }

// prepareHomes creates missing homes and returns all N of them in order.
func prepareHomes(o Options) ([]node.Home, error) {
	homes := make([]node.Home, o.Nodes)
	var bootstrap, registry string
	for i := range homes {
		h := node.Home(filepath.Join(o.Dir, nodeName(i)))
		homes[i] = h
		if h.Check() == nil {
			fmt.Fprintf(o.Out, "resuming %s\n", nodeName(i))
		} else {
			p2pPort, apiPort, err := ports(o.BasePort, i)
			if err != nil {
				return nil, err
			}
			_, err = node.Init(h, node.InitOptions{
				Profile: config.ProfileTestnet,
				Name:    nodeName(i),
				Edit: func(c *config.Config) {
					c.P2P.Listen = []string{
						fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", p2pPort),
						fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1", p2pPort),
					}
					c.API.Listen = fmt.Sprintf("127.0.0.1:%d", apiPort)
					c.TON.EmuHost = i == 0 // the first node hosts the emulated chain and its faucet, and is the registry
					c.Market.Registry = registry
					c.Compute.Roles = computeRoles(i, o.Nodes)
					c.Vault.ShardsK, c.Vault.ShardsN = vaultShards(o.Nodes)
					if bootstrap != "" {
						c.P2P.Bootstrap = []string{bootstrap}
					}
				},
			})
			if err != nil {
				return nil, fmt.Errorf("create %s: %w", nodeName(i), err)
			}
			fmt.Fprintf(o.Out, "created %s\n", nodeName(i))
		}
		if i == 0 {
			var err error
			if bootstrap, registry, err = firstNodeAddrs(h); err != nil {
				return nil, err
			}
		}
	}
	return homes, nil
}

// computeRoles gives node i of n its compute roles: the first node is the
// proxy and the second the worker (a one-node testnet is both).
func computeRoles(i, n int) []string {
	switch {
	case n == 1:
		return []string{config.RoleProxy, config.RoleWorker}
	case i == 0:
		return []string{config.RoleProxy}
	case i == 1:
		return []string{config.RoleWorker}
	}
	return nil
}

// vaultShards fits the vault's k-of-n to a testnet of n nodes: an owner's
// shards go to n-1 other nodes, at most the default 6, and any two may be
// lost, as with the default 4 of 6.
func vaultShards(nodes int) (k, n int) {
	n = min(max(nodes-1, 2), 6)
	return max(n-2, 1), n
}

// firstNodeAddrs returns the TCP multiaddr, with /p2p/, of the node in home
// h, which the others bootstrap from, and its wallet address, which is the
// market's registry.
func firstNodeAddrs(h node.Home) (bootstrap, registry string, err error) {
	cfg, err := h.LoadConfig()
	if err != nil {
		return "", "", err
	}
	id, err := h.LoadIdentity()
	if err != nil {
		return "", "", err
	}
	if len(cfg.P2P.Listen) == 0 {
		return "", "", fmt.Errorf("%s: p2p.listen is empty", h.ConfigPath())
	}
	if registry, _, err = node.WalletAddress(id, cfg); err != nil {
		return "", "", err
	}
	return cfg.P2P.Listen[0] + "/p2p/" + id.PeerID().String(), registry, nil
}

// ports returns the p2p and API ports of node i.
func ports(base, i int) (p2pPort, apiPort int, err error) {
	if base != 0 {
		return base + 2*i, base + 2*i + 1, nil
	}
	if p2pPort, err = freePort(); err != nil {
		return 0, 0, err
	}
	if apiPort, err = freePort(); err != nil {
		return 0, 0, err
	}
	return p2pPort, apiPort, nil
}

// freePort finds a port that is free for both TCP and UDP on 127.0.0.1.
func freePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("find a free port: no port free for both TCP and UDP after 50 tries")
}
