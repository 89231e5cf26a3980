package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/binharness"
	"github.com/tonmesh/tonmesh/testnet"
)

// startTestnet runs `tonmesh testnet` and waits for testnet.json.
func startTestnet(t *testing.T, dir string, nodes string) (*exec.Cmd, *testnet.Manifest, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binharness.Binary(t), "testnet", "--nodes", nodes, "--dir", dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if m, err := testnet.ReadManifest(dir); err == nil {
			return cmd, m, out
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("testnet.json never appeared; testnet output:\n%s", out)
	return nil, nil, nil
}

// stopTestnet sends SIGINT and requires a clean exit.
func stopTestnet(t *testing.T, cmd *exec.Cmd, dir string, out *syncBuffer) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("testnet exit after SIGINT: %v\n%s", err, out)
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("testnet did not exit within a minute of SIGINT\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, testnet.ManifestFile)); !os.IsNotExist(err) {
		t.Errorf("testnet.json still there after shutdown (err=%v)", err)
	}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTestnetThreeNodes(t *testing.T) {
	dir := t.TempDir()
	cmd, m, out := startTestnet(t, dir, "3")
	if len(m.Nodes) != 3 {
		t.Fatalf("testnet.json lists %d nodes, want 3", len(m.Nodes))
	}
	members := map[string]bool{}
	for _, n := range m.Nodes {
		members[n.PeerID] = true
		if n.Name == "" || n.Home == "" || n.API == "" || n.Token == "" || n.Address == "" {
			t.Errorf("incomplete node entry %+v", n)
		}
	}
	for _, n := range m.Nodes {
		res := binharness.Run(t, nil, "--home", n.Home, "peers", "--json")
		if res.ExitCode != 0 {
			t.Fatalf("%s: peers --json exit %d: %s", n.Name, res.ExitCode, res.Stderr)
		}
		var peers []map[string]any
		if err := json.Unmarshal([]byte(res.Stdout), &peers); err != nil {
			t.Fatalf("%s: peers --json is not a JSON list: %v\n%s", n.Name, err, res.Stdout)
		}
		if len(peers) == 0 {
			t.Fatalf("%s has no peers", n.Name)
		}
		for _, p := range peers {
			if !members[p["peer_id"].(string)] {
				t.Errorf("%s lists a stranger %v", n.Name, p["peer_id"])
			}
			for _, k := range []string{"peer_id", "addrs", "latency_ms"} {
				if _, ok := p[k]; !ok {
					t.Errorf("%s: peers --json entry lacks %q", n.Name, k)
				}
			}
		}

		res = binharness.Run(t, nil, "--api", n.API, "--token", n.Token, "id", "--json")
		var id map[string]any
		if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &id) != nil {
			t.Fatalf("%s: id --json: exit %d %s %s", n.Name, res.ExitCode, res.Stdout, res.Stderr)
		}
		for _, k := range []string{"peer_id", "addrs", "address", "address_raw", "wallet_version"} {
			if _, ok := id[k]; !ok {
				t.Errorf("%s: id --json lacks %q", n.Name, k)
			}
		}
		if id["peer_id"] != n.PeerID {
			t.Errorf("%s: id says %v, testnet.json says %s", n.Name, id["peer_id"], n.PeerID)
		}
	}
	stopTestnet(t, cmd, dir, out)

	// A second run on the same directory resumes the same network.
	cmd, m2, out := startTestnet(t, dir, "3")
	for i := range m.Nodes {
		if m2.Nodes[i].PeerID != m.Nodes[i].PeerID || m2.Nodes[i].API != m.Nodes[i].API {
			t.Errorf("node %d changed on resume: %+v -> %+v", i+1, m.Nodes[i], m2.Nodes[i])
		}
	}
	if !strings.Contains(out.String(), "resuming node1") {
		t.Errorf("second run did not say it resumed:\n%s", out)
	}
	// The emulated chain persisted: balances are kept and nobody is paid twice.
	if strings.Contains(out.String(), "funded") {
		t.Errorf("a resumed testnet funded its nodes again:\n%s", out)
	}
	var bal balance
	cli(t, m2.Nodes[1], &bal, "ledger", "balance", "--json")
	if bal.Balance.TON != "100" {
		t.Errorf("node2 has %s TON after resume, want the 100 it was funded with", bal.Balance.TON)
	}
	stopTestnet(t, cmd, dir, out)
}
