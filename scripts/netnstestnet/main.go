// Command netnstestnet runs a tonmesh testnet in Linux network namespaces,
// for scripts/netns-testnet: each node in its own namespace with its own
// address on a private bridge, some behind NAT routers and reachable only
// through relays (test/netns). It reads commands on stdin — partition,
// heal, down, up, status, quit — and removes every namespace when it exits
// (quit, end of input, SIGINT or SIGTERM).
//
// Invariants: it never touches the root namespace's interfaces, routes or
// firewall; nothing it starts sends a packet outside its namespaces; every
// daemon is stopped and every namespace removed before it exits.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/tonmesh/tonmesh/internal/fsutil"
	"github.com/tonmesh/tonmesh/test/netns"
)

// ManifestFile lists the nodes, for scripts that drive the testnet.
const ManifestFile = "netns-testnet.json"

type options struct {
	public, nated int
	dir, bin      string
	fund          string
}

func main() {
	var o options
	flag.IntVar(&o.public, "public", 5, "public nodes n1…nN on the bridge (n1 hosts the chain; n1, n2 relay; n2, n3 proxy; n4 worker)")
	flag.IntVar(&o.nated, "nated", 2, "nodes m1…mM, each behind its own NAT router, reachable only through the relays")
	flag.StringVar(&o.dir, "dir", "", "directory for the nodes' homes (default: a new temporary directory, removed at exit)")
	flag.StringVar(&o.bin, "bin", "", "the tonmesh binary (scripts/netns-testnet builds it)")
	flag.StringVar(&o.fund, "fund", "100", "TON the faucet pays every node (empty: none)")
	flag.Parse()
	if err := run(o, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "netns-testnet:", err)
		os.Exit(1)
	}
}

func run(o options, in io.Reader, out io.Writer) (err error) {
	switch {
	case o.bin == "":
		return fmt.Errorf("--bin is required (the tonmesh binary)")
	case o.public < 4:
		return fmt.Errorf("--public %d: use at least 4 (chain host, relay and proxy, proxy, worker)", o.public)
	}
	if why := netns.Available(); why != "" {
		return fmt.Errorf("network namespaces unavailable: %s", why)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "tonmesh-netns-testnet-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.dir)
	}
	fmt.Fprintf(out, "creating %d public and %d NATed hosts in network namespaces\n", o.public, o.nated)
	lab, err := netns.New(ctx, o.public, o.nated)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "removing the namespaces")
		if cerr := lab.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	c, err := netns.NewCluster(lab, o.bin, filepath.Join(o.dir, "nodes"), nil)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "stopping the daemons")
		c.Stop()
	}()
	if err := c.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "waiting for peers, relay reservations and funding")
	if err := c.WaitReady(ctx, o.fund); err != nil {
		return err
	}
	if err := writeManifest(o.dir, c); err != nil {
		return err
	}
	printTable(out, c)
	fmt.Fprintf(out, "\nmanifest: %s\ncommands: partition A,B|C,D  heal  down NAME  up NAME  status  quit\n", filepath.Join(o.dir, ManifestFile))
	return control(ctx, c, in, out)
}

// control reads commands until quit, end of input or ctx ends.
func control(ctx context.Context, c *netns.Cluster, in io.Reader, out io.Writer) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		fmt.Fprint(out, "> ")
		var line string
		select {
		case <-ctx.Done():
			fmt.Fprintln(out)
			return nil
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			line = l
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		var err error
		switch verb {
		case "":
		case "partition":
			var groups [][]string
			if groups, err = netns.ParseGroups(arg); err == nil {
				err = c.Lab.Partition(ctx, groups...)
			}
		case "heal":
			err = c.Lab.Heal(ctx)
		case "down":
			err = c.Lab.Down(ctx, strings.TrimSpace(arg))
		case "up":
			err = c.Lab.Up(ctx, strings.TrimSpace(arg))
		case "status":
			printTable(out, c)
		case "quit", "exit":
			return nil
		default:
			err = fmt.Errorf("unknown command %q (partition A,B|C,D, heal, down NAME, up NAME, status, quit)", verb)
		}
		if err != nil {
			fmt.Fprintln(out, "error:", err)
		} else if verb != "" && verb != "status" {
			fmt.Fprintln(out, "ok")
		}
	}
}

// nodeInfo is one node in the manifest.
type nodeInfo struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Addr      string `json:"addr"`
	Public    string `json:"public_addr"`
	NATed     bool   `json:"nated"`
	Home      string `json:"home"`
	PeerID    string `json:"peer_id"`
	Address   string `json:"address"`
	CLI       string `json:"cli"` // prefix that runs the CLI against this node
}

func writeManifest(dir string, c *netns.Cluster) error {
	var nodes []nodeInfo
	for _, n := range c.Nodes {
		nodes = append(nodes, nodeInfo{Name: n.Name, Namespace: n.NS, Addr: n.Addr, Public: n.Public, NATed: n.NATed,
			Home: string(n.Home), PeerID: n.PeerID, Address: n.Address, CLI: cliPrefix(c, n)})
	}
	data, err := json.MarshalIndent(nodes, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o600)
}

func cliPrefix(c *netns.Cluster, n *netns.Node) string {
	return fmt.Sprintf("ip netns exec %s %s --home %s", n.NS, c.Bin(), n.Home)
}

func printTable(out io.Writer, c *netns.Cluster) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tADDR\tSEEN AS\tROLE\tPEER ID")
	for _, n := range c.Nodes {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", n.Name, n.Addr, n.Public, roleText(n), n.PeerID)
	}
	w.Flush()
	fmt.Fprintf(out, "CLI of a node: %s …\n", cliPrefix(c, c.Nodes[0]))
}

func roleText(n *netns.Node) string {
	var parts []string
	if n.Role.EmuHost {
		parts = append(parts, "chain")
	}
	if n.Role.Relay {
		parts = append(parts, "relay")
	}
	parts = append(parts, n.Role.Compute...)
	if n.NATed {
		parts = append(parts, "behind NAT")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
