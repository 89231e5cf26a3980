package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/internal/binharness"
)

// requireCleanFailure checks that a command failed with one clear message and
// no stack trace.
func requireCleanFailure(t *testing.T, what string, res binharness.Result, wants ...string) {
	t.Helper()
	if res.ExitCode == 0 {
		t.Fatalf("%s: exit 0, want a failure\nstdout: %s\nstderr: %s", what, res.Stdout, res.Stderr)
	}
	if strings.Contains(res.Stderr, "goroutine ") || strings.Contains(res.Stderr, "panic") {
		t.Fatalf("%s: stack trace in output:\n%s", what, res.Stderr)
	}
	errLines := 0
	for _, l := range strings.Split(res.Stderr, "\n") {
		if strings.HasPrefix(l, "error:") {
			errLines++
		}
	}
	if errLines != 1 {
		t.Errorf("%s: want exactly one error line, got:\n%s", what, res.Stderr)
	}
	for _, w := range wants {
		if !strings.Contains(res.Stderr, w) {
			t.Errorf("%s: error does not mention %q:\n%s", what, w, res.Stderr)
		}
	}
}

func initHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	res := binharness.Run(t, nil, "init", "--home", home, "--profile", "testnet")
	if res.ExitCode != 0 {
		t.Fatalf("init: %s", res.Stderr)
	}
	return home
}

func TestBadInput(t *testing.T) {
	t.Run("missing home", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		requireCleanFailure(t, "daemon", binharness.Run(t, nil, "daemon", "--home", missing), "tonmesh init")
		requireCleanFailure(t, "peers", binharness.Run(t, nil, "peers", "--home", missing), "tonmesh init")
	})
	t.Run("broken config", func(t *testing.T) {
		home := initHome(t)
		cfg := filepath.Join(home, "config.toml")
		data, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, append(data, []byte("\n[p2p\nlisten = 3\n")...), 0o600)
		requireCleanFailure(t, "syntax error", binharness.Run(t, nil, "daemon", "--home", home), "config.toml")

		os.WriteFile(cfg, data, 0o600)
		res := binharness.Run(t, []string{"TONMESH_P2P_LISTEN=tcp/abc"}, "daemon", "--home", home)
		requireCleanFailure(t, "bad listen address", res, "p2p.listen")

		os.WriteFile(cfg, []byte(strings.Replace(string(data), "[api]", "[api]\nlisten_port = 5\n", 1)), 0o600)
		requireCleanFailure(t, "unknown key", binharness.Run(t, nil, "daemon", "--home", home), "listen_port")
	})
	t.Run("busy port", func(t *testing.T) {
		home := initHome(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		res := binharness.Run(t, []string{"TONMESH_P2P_LISTEN=/ip4/127.0.0.1/tcp/" + portOf(l)}, "daemon", "--home", home)
		requireCleanFailure(t, "busy p2p port", res, "p2p.listen")
		res = binharness.Run(t, []string{"TONMESH_API_LISTEN=" + l.Addr().String()}, "daemon", "--home", home)
		requireCleanFailure(t, "busy API port", res, "api.listen")
	})
	t.Run("wrong token", func(t *testing.T) {
		home := initHome(t)
		d := binharness.StartDaemon(t, home)
		res := binharness.Run(t, nil, "--api", d.URL, "--token", "not-the-token", "id")
		requireCleanFailure(t, "wrong token", res, "401", "api.token")
		res = binharness.Run(t, nil, "--home", home, "id", "--json")
		if res.ExitCode != 0 {
			t.Fatalf("right token refused: %s", res.Stderr)
		}
	})
	t.Run("no daemon", func(t *testing.T) {
		res := binharness.Run(t, nil, "--api", "http://127.0.0.1:1", "--token", "x", "id")
		requireCleanFailure(t, "unreachable API", res, "tonmesh daemon")
	})
	t.Run("bad mnemonic file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "words")
		os.WriteFile(f, []byte("abandon abandon abandon"), 0o600)
		res := binharness.Run(t, nil, "init", "--home", filepath.Join(t.TempDir(), "h"), "--mnemonic-file", f)
		requireCleanFailure(t, "short mnemonic", res, "24")
	})
	t.Run("init twice", func(t *testing.T) {
		home := initHome(t)
		requireCleanFailure(t, "second init", binharness.Run(t, nil, "init", "--home", home), "already exists")
	})
}

func portOf(l net.Listener) string {
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}
