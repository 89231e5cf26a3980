package netns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/node"
)

// P2PPort is the port every lab node listens on (TCP and QUIC): each host
// has its own network namespace, so they never collide.
const P2PPort = 4001

// APIListen is every lab node's API address, on the loopback of its own
// namespace: reachable only by commands run in that namespace.
const APIListen = "127.0.0.1:5080"

// Role is what a lab node does besides being a plain node.
type Role struct {
	EmuHost bool     // hosts the emulated chain and its faucet, and is the market's registry
	Relay   bool     // serves circuit relay v2
	Compute []string // compute roles: worker, proxy
}

// Node is one `tonmesh daemon` running in its host's namespace.
type Node struct {
	*Host
	Home    node.Home
	PeerID  string
	Address string // wallet address
	Role    Role

	bin     string
	cmd     *exec.Cmd
	exited  chan struct{}
	started time.Time
}

// Cluster is a tonmesh network on a Lab: one daemon per host.
type Cluster struct {
	Lab   *Lab
	Nodes []*Node
	bin   string
	dir   string
}

// Roles is the default plan for a lab of public hosts n1… and NATed m…:
// n1 hosts the chain and is a relay, n2 is a relay and proxy, n3 a proxy,
// n4 the worker; the rest are plain nodes. NATed hosts use n1 and n2 as
// relays.
func Roles(h *Host) Role {
	switch h.Name {
	case "n1":
		return Role{EmuHost: true, Relay: true}
	case "n2":
		return Role{Relay: true, Compute: []string{config.RoleProxy}}
	case "n3":
		return Role{Compute: []string{config.RoleProxy}}
	case "n4":
		return Role{Compute: []string{config.RoleWorker}}
	}
	return Role{}
}

// NewCluster creates a home under dir for every host of lab, with the
// roles given by roles (Roles when nil). It starts nothing.
func NewCluster(lab *Lab, bin, dir string, roles func(*Host) Role) (*Cluster, error) {
	if roles == nil {
		roles = Roles
	}
	c := &Cluster{Lab: lab, bin: bin, dir: dir}
	var bootstrap, relays []string
	var registry string
	for _, h := range lab.Hosts {
		if r := roles(h); r.EmuHost || r.Relay {
			if h.NATed {
				return nil, fmt.Errorf("netns: %s is behind NAT and cannot host the chain or relay", h.Name)
			}
		}
	}
	// Hosts with a role others depend on come first, so their addresses
	// are known when the others' configs are written.
	ordered := append([]*Host(nil), lab.Hosts...)
	for i, h := range ordered {
		if roles(h).EmuHost && i != 0 {
			ordered[0], ordered[i] = ordered[i], ordered[0]
		}
	}
	for _, h := range ordered {
		n := &Node{Host: h, Home: node.Home(filepath.Join(dir, h.Name)), Role: roles(h), bin: bin}
		res, err := node.Init(n.Home, node.InitOptions{Profile: config.ProfileServer, Name: h.Name,
			Edit: func(cfg *config.Config) { c.configure(cfg, n, bootstrap, relays, registry) }})
		if err != nil {
			return nil, fmt.Errorf("netns: create %s: %w", h.Name, err)
		}
		n.PeerID, n.Address = res.Identity.PeerID().String(), res.WalletAddr
		self := fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", h.Addr, P2PPort, n.PeerID)
		if n.Role.EmuHost {
			registry = n.Address
			bootstrap = append([]string{self}, bootstrap...)
		}
		if n.Role.Relay {
			relays = append(relays, self)
			if !n.Role.EmuHost {
				bootstrap = append(bootstrap, self)
			}
		}
		c.Nodes = append(c.Nodes, n)
	}
	if registry == "" {
		return nil, errors.New("netns: no host has the EmuHost role")
	}
	return c, nil
}

// configure writes the server profile as an operator of such a network
// would: real addresses, but private ones (the lab's) announced.
func (c *Cluster) configure(cfg *config.Config, n *Node, bootstrap, relays []string, registry string) {
	p := &cfg.P2P
	p.Listen = []string{
		fmt.Sprintf("/ip4/%s/tcp/%d", n.Addr, P2PPort),
		fmt.Sprintf("/ip4/%s/udp/%d/quic-v1", n.Addr, P2PPort),
	}
	// The lab's addresses are private (10.77.0.0/16): announce them. On
	// the internet this stays false.
	p.AnnouncePrivate = true
	p.Bootstrap = bootstrap
	p.ConnLow, p.ConnHigh = 20, 100
	if n.NATed {
		// AutoNAT needs public addresses to probe; behind the lab's NAT
		// the operator says so, and the node uses its relays at once.
		p.Reachability, p.DHTMode = config.ReachabilityPrivate, config.DHTModeAuto
		p.RelayService, p.AutoRelay, p.HolePunching = false, true, true
		p.StaticRelays = relays
	} else {
		p.Reachability, p.DHTMode = config.ReachabilityPublic, config.DHTModeServer
		p.RelayService, p.AutoRelay = n.Role.Relay, false
		// Relayed chat, requests and shards in the lab fit in these.
		p.RelayLimitDuration, p.RelayLimitKB = "10m", 64<<10
	}
	cfg.API.Listen = APIListen
	cfg.TON.Network = config.NetworkEmu
	cfg.TON.EmuHost = n.Role.EmuHost
	cfg.TON.AnchorInterval = "1m"
	cfg.Market.Registry = registry
	if n.Role.EmuHost {
		cfg.Market.Registry = ""
	}
	cfg.Compute.Roles = n.Role.Compute
	cfg.Compute.AllowUnattested = true
	cfg.Vault.ShardsK, cfg.Vault.ShardsN = 2, 4
	cfg.Vault.AuditInterval = "5s"
	cfg.Vault.ReplaceAfter = "5s"
}

// Start runs every daemon and waits until each answers its API.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.Launch(); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if err := c.waitAPI(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// Launch starts every daemon and returns at once.
func (c *Cluster) Launch() error {
	for _, n := range c.Nodes {
		if err := n.start(); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) start() error {
	log, err := os.OpenFile(n.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command("ip", "netns", "exec", n.NS, n.bin, "daemon", "--home", string(n.Home))
	cmd.Env = append(os.Environ(), "TONMESH_LOG_LEVEL=info")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	os.Remove(n.Home.APIURLPath())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("netns: start %s: %w", n.Name, err)
	}
	n.cmd, n.exited, n.started = cmd, make(chan struct{}), time.Now()
	go func() { cmd.Wait(); close(n.exited) }()
	return nil
}

// LogPath is the daemon's log file.
func (n *Node) LogPath() string { return filepath.Join(string(n.Home), "daemon.log") }

// LogTail returns the last lines of the daemon's log.
func (n *Node) LogTail(lines int) string {
	data, _ := os.ReadFile(n.LogPath())
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func (c *Cluster) waitAPI(ctx context.Context, n *Node) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		select {
		case <-n.exited:
			return fmt.Errorf("netns: %s exited at start:\n%s", n.Name, n.LogTail(30))
		default:
		}
		if _, err := c.CLI(ctx, n, nil, "id", "--json"); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("netns: %s API not up within a minute:\n%s", n.Name, n.LogTail(30))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// CLIError is a failed tonmesh command.
type CLIError struct {
	Node   string
	Args   []string
	Stderr string
	Err    error
}

func (e *CLIError) Error() string {
	return fmt.Sprintf("%s: tonmesh %s: %v: %s", e.Node, strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

// CLI runs `tonmesh --home HOME args…` inside n's namespace, as its
// operator would on that machine, and decodes stdout as JSON into out
// when out is non-nil (several JSON values are decoded as a list into a
// slice out). It returns stdout.
func (c *Cluster) CLI(ctx context.Context, n *Node, out any, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.NS, c.bin, "--home", string(n.Home)}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &CLIError{Node: n.Name, Args: args, Stderr: stderr.String(), Err: err}
	}
	if out != nil {
		if err := decodeJSON(stdout.Bytes(), out); err != nil {
			return stdout.String(), fmt.Errorf("%s: tonmesh %s: %w\n%s", n.Name, strings.Join(args, " "), err, stdout.String())
		}
	}
	return stdout.String(), nil
}

// decodeJSON decodes one JSON value, or a sequence of values (as `chat
// read --json` prints) into a slice.
func decodeJSON(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var values []json.RawMessage
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		values = append(values, v)
	}
	switch {
	case len(values) == 1 && (len(values[0]) == 0 || values[0][0] != '{' || !isSlice(out)):
		return json.Unmarshal(values[0], out)
	case len(values) == 0 && isSlice(out):
		return json.Unmarshal([]byte("[]"), out)
	case len(values) == 0:
		return errors.New("no JSON output")
	}
	joined, _ := json.Marshal(values)
	return json.Unmarshal(joined, out)
}

func isSlice(out any) bool {
	s := fmt.Sprintf("%T", out)
	return strings.HasPrefix(s, "*[]")
}

// Node returns the node on host name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Stop stops every daemon: SIGTERM, then SIGKILL after 20 s. It waits for
// all of them.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		if n.cmd == nil {
			continue
		}
		wg.Go(func() {
			// ip netns exec replaces itself with the daemon (execvp), so the
			// signal reaches tonmesh.
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.exited:
			case <-time.After(20 * time.Second):
				_ = n.cmd.Process.Kill()
				<-n.exited
			}
		})
	}
	wg.Wait()
}

// WaitReady waits until every node has at least two connected peers, every
// NATed node announces a relay address, and (fund non-empty) every wallet
// received fund TON from the faucet.
func (c *Cluster) WaitReady(ctx context.Context, fund string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, n := range c.Nodes {
		if err := c.until(ctx, n.Name+" connected to two peers", func() (bool, string) {
			var peers []map[string]any
			_, err := c.CLI(ctx, n, &peers, "peers", "--json")
			return err == nil && len(peers) >= 2, fmt.Sprintf("%d peers, %v", len(peers), err)
		}); err != nil {
			return err
		}
		if !n.NATed {
			continue
		}
		if err := c.until(ctx, n.Name+" announces a relay address", func() (bool, string) {
			var id struct {
				Addrs []string `json:"addrs"`
			}
			_, err := c.CLI(ctx, n, &id, "id", "--json")
			for _, a := range id.Addrs {
				if strings.Contains(a, "/p2p-circuit") {
					return true, ""
				}
			}
			return false, fmt.Sprint(id.Addrs, err)
		}); err != nil {
			return err
		}
	}
	if fund == "" {
		return nil
	}
	for _, n := range c.Nodes {
		if err := c.until(ctx, n.Name+" funded by the faucet", func() (bool, string) {
			out, err := c.CLI(ctx, n, nil, "ledger", "faucet", fund)
			return err == nil, fmt.Sprint(out, err)
		}); err != nil {
			return err
		}
	}
	return nil
}

// until polls cond every 250 ms until it holds or ctx ends.
func (c *Cluster) until(ctx context.Context, what string, cond func() (bool, string)) error {
	for {
		ok, last := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("netns: %s: %w; last seen: %s", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Bin is the tonmesh binary the cluster runs.
func (c *Cluster) Bin() string { return c.bin }
