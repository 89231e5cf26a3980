package testnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tonmesh/tonmesh/node"
	"github.com/tonmesh/tonmesh/webui"
)

const stopGrace = 20 * time.Second

// daemon is one child `tonmesh daemon` process.
type daemon struct {
	name    string
	home    node.Home
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	err     error         // exit status, valid after exited is closed
}

func startDaemon(binary string, h node.Home, name string) (*daemon, error) {
	logPath := filepath.Join(string(h), "daemon.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: open log: %w", name, err)
	}
	fmt.Fprintf(logFile, "--- %s: testnet starts %s\n", time.Now().Format(time.RFC3339), name)
	os.Remove(h.APIURLPath()) // a stale file from a killed run must not be mistaken for this run's
	cmd := exec.Command(binary, "daemon", "--home", string(h))
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), "TONMESH_HOME="+string(h))
	// Own process group: a terminal's Ctrl-C reaches only the testnet, which
	// then stops the daemons in order. Pdeathsig stops them if it dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%s: start %s daemon: %w", name, binary, err)
	}
	d := &daemon{name: name, home: h, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		logFile.Close()
		close(d.exited)
	}()
	return d, nil
}

func (d *daemon) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// failure describes a daemon that exited, with the end of its log.
func (d *daemon) failure() error {
	return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", d.name, d.err, d.logPath, tail(d.logPath, 15))
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return "  " + strings.Join(all[max(0, len(all)-lines):], "\n  ")
}

// waitReady polls every node until its API answers and it has DHT peers.
func waitReady(ctx context.Context, o Options, procs []*daemon) (*Manifest, error) {
	want := min(len(procs)-1, 2)
	ctx, cancel := context.WithTimeout(ctx, o.Ready)
	defer cancel()
	infos := make([]*NodeInfo, len(procs))
	lastReport := ""
	for {
		ready := 0
		for i, d := range procs {
			if !d.running() {
				return nil, d.failure()
			}
			if infos[i] == nil {
				infos[i] = nodeInfo(ctx, d)
			}
			if infos[i] != nil && dhtPeers(ctx, infos[i]) >= want {
				ready++
			}
		}
		report := fmt.Sprintf("waiting for the network: %d/%d nodes ready", ready, len(procs))
		if report != lastReport {
			fmt.Fprintln(o.Out, report)
			lastReport = report
		}
		if ready == len(procs) {
			break
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("the network was not ready after %s (%d/%d nodes have %d+ DHT peers); see the daemon.log in each node's home under %s", o.Ready, ready, len(procs), want, o.Dir)
			}
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	m := &Manifest{Dir: o.Dir}
	for _, in := range infos {
		m.Nodes = append(m.Nodes, *in)
	}
	return m, nil
}

// nodeInfo asks a started daemon who it is; nil while it is not up yet.
func nodeInfo(ctx context.Context, d *daemon) *NodeInfo {
	c, err := node.ClientForHome(d.home)
	if err != nil {
		return nil
	}
	id, err := c.ID(ctx)
	if err != nil {
		return nil
	}
	url, _ := d.home.APIURL()
	token, _ := d.home.Token()
	return &NodeInfo{
		Name: d.name, Home: string(d.home), API: url, Web: url + webui.Prefix, Token: token, TokenFile: d.home.TokenPath(),
		TONAPI: url + node.TONAPIPath + "jsonRPC", PeerID: id.PeerID, Address: id.Address,
	}
}

func dhtPeers(ctx context.Context, in *NodeInfo) int {
	h, err := node.NewClient(in.API, in.Token).Health(ctx)
	if err != nil {
		return -1
	}
	return h.DHTPeers
}

// watch runs until ctx ends, reporting daemons that die on their own.
func watch(ctx context.Context, o Options, procs []*daemon) error {
	for _, d := range procs {
		go func() {
			select {
			case <-d.exited:
				if ctx.Err() == nil {
					fmt.Fprintf(o.Out, "warning: %v\n", d.failure())
				}
			case <-ctx.Done():
			}
		}()
	}
	<-ctx.Done()
	return nil
}

// stopAll sends SIGTERM to every daemon and waits; stragglers get SIGKILL.
func stopAll(procs []*daemon, out io.Writer) {
	if len(procs) == 0 {
		return
	}
	fmt.Fprintln(out, "stopping the testnet…")
	for _, d := range procs {
		if d.running() {
			d.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(stopGrace)
	for _, d := range procs {
		select {
		case <-d.exited:
		case <-deadline:
			fmt.Fprintf(out, "%s did not stop within %s: killing it\n", d.name, stopGrace)
			d.cmd.Process.Kill()
			<-d.exited
		}
	}
	fmt.Fprintln(out, "testnet stopped")
}

func printTable(out io.Writer, m *Manifest) {
	var b bytes.Buffer
	rows := [][]string{{"NAME", "PEER ID", "API", "TOKEN FILE", "TON ADDRESS", "BALANCE"}}
	for _, n := range m.Nodes {
		rows = append(rows, []string{n.Name, n.PeerID, n.API, n.TokenFile, n.Address, n.Balance})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	fmt.Fprintf(&b, "\ntestnet ready: %d nodes\n\n", len(m.Nodes))
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		b.WriteString(r[len(r)-1] + "\n")
	}
	fmt.Fprintf(&b, "\nTON HTTP API (toncenter v2) per node: TonClient endpoint, apiKey = the node's api.token\n")
	for _, n := range m.Nodes {
		fmt.Fprintf(&b, "  %-*s  %s\n", widths[0], n.Name, n.TONAPI)
	}
	fmt.Fprintf(&b, "\nWeb app per node (log in with `tonmesh --home <home> ui`, or paste the node's api.token):\n")
	for _, n := range m.Nodes {
		fmt.Fprintf(&b, "  %-*s  %s\n", widths[0], n.Name, n.Web)
	}
	first := m.Nodes[0].Home
	fmt.Fprintf(&b, `
Talk to a node:
  tonmesh --home %s ui
  tonmesh --home %s id
  tonmesh --home %s peers --json
  tonmesh --home %s ledger balance
  curl -H "Authorization: Bearer $(cat %s)" %s/api/v1/peers

Node list for scripts: %s
Logs: <home>/daemon.log. Press Ctrl-C to stop; run again with --dir %s to resume.
`, first, first, first, first, m.Nodes[0].TokenFile, m.Nodes[0].API, filepath.Join(m.Dir, ManifestFile), m.Dir)
	out.Write(b.Bytes())
}
