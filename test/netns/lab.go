// Package netns builds multi-host tonmesh networks out of Linux network
// namespaces, for tests and for scripts/netns-testnet.
//
// A Lab is a set of namespaces that it creates and removes itself: a hub
// namespace holding a bridge (the "internet" of the lab, 10.77.0.0/24),
// one namespace per public host on that bridge, and for each NATed host a
// router namespace (WAN address on the bridge, nftables masquerade, no
// inbound forwarding) in front of a private /24 of its own
// (10.77.100+k.0/24). The root namespace gets nothing: no address, no route,
// no interface, so no lab packet can leave the lab's namespaces, and two
// labs (two test runs at once) never see each other — names carry a random
// lab ID and every lab has its own hub.
//
// Partitions are nftables rules inside the hosts' own namespaces: a host
// drops what comes from the other side and refuses (TCP reset, ICMP
// unreachable) what it sends there, as a host behind a failed link that
// its router reports. Heal removes the rules.
//
// Invariants: every namespace a Lab creates is named with its prefix and
// removed by Close, also after a failed setup; no command the Lab runs
// touches the root namespace's interfaces, routes or firewall.
package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Host is one namespace of the lab that runs a node.
type Host struct {
	Name   string // short name in the lab: "n1", "m1"
	NS     string // namespace name
	Addr   string // the host's own address
	Public string // the address others see: Addr, or its router's WAN address behind NAT
	NATed  bool
	router string // router namespace (NATed hosts)
}

// Lab is a set of namespaces on one bridge.
type Lab struct {
	ID    string
	hub   string
	Hosts []*Host

	mu      sync.Mutex
	created []string // namespaces, in creation order
}

// Available reports why network namespaces cannot be used here ("" when
// they can): the caller must be root with ip(8) and nft(8) installed.
func Available() string {
	if os.Geteuid() != 0 {
		return "needs root (network namespaces, veth, nftables)"
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("needs %s(8) (apt-get install iproute2 nftables)", tool)
		}
	}
	id := "tmprobe-" + randomID()
	if out, err := exec.Command("ip", "netns", "add", id).CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot create a network namespace: %v: %s", err, bytes.TrimSpace(out))
	}
	defer exec.Command("ip", "netns", "delete", id).Run()
	if out, err := exec.Command("ip", "netns", "exec", id, "nft", "list", "ruleset").CombinedOutput(); err != nil {
		return fmt.Sprintf("nftables does not work in a namespace: %v: %s", err, bytes.TrimSpace(out))
	}
	return ""
}

func randomID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// New creates a lab with public hosts n1…nPublic and NATed hosts
// m1…mNATed, each NATed host behind its own router. On error everything
// created so far is removed.
func New(ctx context.Context, public, nated int) (_ *Lab, err error) {
	if public < 1 || public > 90 || nated < 0 || nated > 90 {
		return nil, fmt.Errorf("netns: %d public and %d NATed hosts: use 1 to 90 and 0 to 90", public, nated)
	}
	sweepStale(ctx)
	l := &Lab{ID: fmt.Sprintf("%dx%s", os.Getpid(), randomID())}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	l.hub = l.nsName("hub")
	if err := l.addNS(ctx, l.hub); err != nil {
		return nil, err
	}
	if err := l.ip(ctx, l.hub, "link", "add", "br0", "type", "bridge"); err != nil {
		return nil, err
	}
	if err := l.ip(ctx, l.hub, "link", "set", "br0", "up"); err != nil {
		return nil, err
	}
	for i := 1; i <= public; i++ {
		h := &Host{Name: fmt.Sprintf("n%d", i), Addr: fmt.Sprintf("10.77.0.%d", 10+i)}
		h.NS, h.Public = l.nsName(h.Name), h.Addr
		if err := l.addNS(ctx, h.NS); err != nil {
			return nil, err
		}
		if err := l.plug(ctx, h.NS, h.Addr, fmt.Sprintf("p%d", i)); err != nil {
			return nil, err
		}
		l.Hosts = append(l.Hosts, h)
	}
	for k := 1; k <= nated; k++ {
		h, err := l.addNATed(ctx, k)
		if err != nil {
			return nil, err
		}
		l.Hosts = append(l.Hosts, h)
	}
	return l, nil
}

func (l *Lab) nsName(short string) string { return "tm" + l.ID + "-" + short }

// sweepStale removes the namespaces of labs whose process is gone (killed
// before its cleanup ran, e.g. by a test timeout). A lab's names start with
// tm<pid>x, so a live lab of another run is never touched.
func sweepStale(ctx context.Context) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "tm")
		pid, _, ok2 := strings.Cut(rest, "x")
		if !ok || !ok2 || pid == "" || strings.Trim(pid, "0123456789") != "" {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its lab is alive
		}
		_ = run(ctx, "ip", "netns", "delete", e.Name())
	}
}

// addNS creates a namespace with its loopback up.
func (l *Lab) addNS(ctx context.Context, name string) error {
	if err := run(ctx, "ip", "netns", "add", name); err != nil {
		return err
	}
	l.mu.Lock()
	l.created = append(l.created, name)
	l.mu.Unlock()
	return l.ip(ctx, name, "link", "set", "lo", "up")
}

// plug connects ns to the hub's bridge with address addr/24 on its eth0.
// The veth pair is created inside the hub, so no interface ever appears in
// the root namespace.
func (l *Lab) plug(ctx context.Context, ns, addr, port string) error {
	steps := [][]string{
		{l.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{l.hub, "link", "set", port, "master", "br0", "up"},
		{ns, "addr", "add", addr + "/24", "dev", "eth0"},
		{ns, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if err := l.ip(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// addNATed creates router r<k> and host m<k> behind it.
func (l *Lab) addNATed(ctx context.Context, k int) (*Host, error) {
	router := l.nsName(fmt.Sprintf("r%d", k))
	wan := fmt.Sprintf("10.77.0.%d", 200+k)
	lanNet := fmt.Sprintf("10.77.%d.0/24", 100+k)
	gw := fmt.Sprintf("10.77.%d.1", 100+k)
	h := &Host{Name: fmt.Sprintf("m%d", k), Addr: fmt.Sprintf("10.77.%d.2", 100+k), Public: wan, NATed: true, router: router}
	h.NS = l.nsName(h.Name)
	for _, ns := range []string{router, h.NS} {
		if err := l.addNS(ctx, ns); err != nil {
			return nil, err
		}
	}
	if err := l.plug(ctx, router, wan, fmt.Sprintf("r%d", k)); err != nil {
		return nil, err
	}
	steps := [][]string{
		{router, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", h.NS},
		{router, "addr", "add", gw + "/24", "dev", "lan0"},
		{router, "link", "set", "lan0", "up"},
		{h.NS, "addr", "add", h.Addr + "/24", "dev", "eth0"},
		{h.NS, "link", "set", "eth0", "up"},
		{h.NS, "route", "add", "default", "via", gw},
	}
	for _, s := range steps {
		if err := l.ip(ctx, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	if err := l.exec(ctx, router, nil, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"); err != nil {
		return nil, err
	}
	// A home router: the LAN goes out masqueraded; from the WAN only
	// replies to connections the LAN opened come in.
	rules := fmt.Sprintf(`table inet tmnat {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "eth0" accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat;
    ip saddr %s oifname "eth0" masquerade
  }
}
`, lanNet)
	if err := l.exec(ctx, router, strings.NewReader(rules), "nft", "-f", "-"); err != nil {
		return nil, err
	}
	return h, nil
}

// Host returns the host named name, or nil.
func (l *Lab) Host(name string) *Host {
	for _, h := range l.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Partition splits the hosts into groups that cannot reach each other;
// hosts in no group keep reaching everyone. A new partition replaces the
// previous one.
func (l *Lab) Partition(ctx context.Context, groups ...[]string) error {
	if err := l.Heal(ctx); err != nil {
		return err
	}
	group := make(map[string]int)
	for gi, g := range groups {
		for _, name := range g {
			if l.Host(name) == nil {
				return fmt.Errorf("netns: partition: no host %q in the lab", name)
			}
			if _, dup := group[name]; dup {
				return fmt.Errorf("netns: partition: host %q is in two groups", name)
			}
			group[name] = gi
		}
	}
	for _, h := range l.Hosts {
		gi, ok := group[h.Name]
		if !ok {
			continue
		}
		var others []string
		for _, o := range l.Hosts {
			if og, ok := group[o.Name]; ok && og != gi {
				others = append(others, o.Public)
			}
		}
		if len(others) == 0 {
			continue
		}
		set := strings.Join(others, ", ")
		rules := fmt.Sprintf(`table inet tmpart {
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr { %[1]s } drop
  }
  chain output {
    type filter hook output priority filter; policy accept;
    meta l4proto tcp ip daddr { %[1]s } reject with tcp reset
    ip daddr { %[1]s } reject with icmpx type host-unreachable
  }
}
`, set)
		if err := l.exec(ctx, h.NS, strings.NewReader(rules), "nft", "-f", "-"); err != nil {
			return err
		}
	}
	return nil
}

// ParseGroups reads a partition written as groups of host names separated
// by "|", names by ",": "n1,n2|n3,m1".
func ParseGroups(s string) ([][]string, error) {
	var groups [][]string
	for g := range strings.SplitSeq(s, "|") {
		var names []string
		for name := range strings.SplitSeq(g, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("netns: partition %q has an empty group (write groups of names separated by |, e.g. n1,n2|n3,m1)", s)
		}
		groups = append(groups, names)
	}
	if len(groups) < 2 {
		return nil, fmt.Errorf("netns: partition %q needs at least two groups separated by | (e.g. n1,n2|n3,m1)", s)
	}
	return groups, nil
}

// Heal removes every partition rule.
func (l *Lab) Heal(ctx context.Context) error {
	var errs []error
	for _, h := range l.Hosts {
		if err := l.exec(ctx, h.NS, nil, "nft", "list", "table", "inet", "tmpart"); err != nil {
			continue // no partition here
		}
		if err := l.exec(ctx, h.NS, nil, "nft", "delete", "table", "inet", "tmpart"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Down cuts host name off the lab (its link goes down); Up restores it.
func (l *Lab) Down(ctx context.Context, name string) error { return l.setLink(ctx, name, "down") }

// Up brings host name's link back.
func (l *Lab) Up(ctx context.Context, name string) error { return l.setLink(ctx, name, "up") }

func (l *Lab) setLink(ctx context.Context, name, state string) error {
	h := l.Host(name)
	if h == nil {
		return fmt.Errorf("netns: no host %q in the lab", name)
	}
	ns := h.NS
	if h.NATed {
		ns = h.router
	}
	// A NATed host goes down with its router's WAN link: the host's own
	// default route then stays intact for when it comes back.
	return l.ip(ctx, ns, "link", "set", "eth0", state)
}

// Command returns a command that runs argv inside host's namespace.
func (l *Lab) Command(ctx context.Context, h *Host, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS}, argv...)...)
}

// Close removes every namespace the lab created (their interfaces, routes
// and rules go with them). It is safe to call more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	names := l.created
	l.created = nil
	l.mu.Unlock()
	var errs []error
	for i := len(names) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := run(ctx, "ip", "netns", "delete", names[i]); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	return errors.Join(errs...)
}

func (l *Lab) ip(ctx context.Context, ns string, args ...string) error {
	return run(ctx, "ip", append([]string{"-n", ns}, args...)...)
}

func (l *Lab) exec(ctx context.Context, ns string, stdin *strings.Reader, argv ...string) error {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netns: %s in %s: %w: %s", strings.Join(argv, " "), ns, err, bytes.TrimSpace(out))
	}
	return nil
}

func run(ctx context.Context, name string, args ...string) error {
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("netns: %s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
