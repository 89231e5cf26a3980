package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// unusual is a valid Config with no default value left, strings that need
// escaping and every list populated.
func unusual(t *testing.T) *Config {
	c := mustDefault(t, ProfileTestnet)
	c.Node.Name = "Ноде \"№1\" \\ 🚀 'q'"
	c.P2P.Listen = []string{"/ip6/::1/tcp/0"}
	c.P2P.Announce = []string{"/ip4/203.0.113.7/tcp/4001", "/dns4/node.example.com/udp/4001/quic-v1"}
	c.P2P.Bootstrap = []string{"/dnsaddr/bootstrap.libp2p.io/p2p/" + peerA}
	c.P2P.DHTMode = DHTModeAuto
	c.P2P.MDNS = true
	c.P2P.ConnLow, c.P2P.ConnHigh = 0, 1
	c.API.Listen, c.API.AllowRemote = "[::]:8080", true
	c.TON.Network, c.TON.WalletVersion = NetworkTestnet, WalletV4R2
	c.Log.Level, c.Log.Format = "debug", LogFormatJSON
	return c
}

func TestWriteLoadRoundTrip(t *testing.T) {
	clearEnv(t)
	for name, c := range map[string]*Config{
		"testnet": mustDefault(t, ProfileTestnet),
		"server":  mustDefault(t, ProfileServer),
		"unusual": unusual(t),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := c.Write(path); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := Load(path)
			if err != nil {
				data, _ := os.ReadFile(path)
				t.Fatalf("Load: %v\nfile:\n%s", err, data)
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("round trip changed the config:\ngot  %+v\nwant %+v", got, c)
			}
		})
	}
}

// TestRoundTripAcrossProfiles checks that a file written for one profile
// keeps its values even where they equal another profile's defaults.
func TestRoundTripAcrossProfiles(t *testing.T) {
	clearEnv(t)
	c := mustDefault(t, ProfileTestnet)
	c.Node.Profile = ProfileServer // server defaults underneath, testnet values on top
	path := filepath.Join(t.TempDir(), FileName)
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("got %+v\nwant %+v", got, c)
	}
}

func TestWriteModeAndReplace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	path := filepath.Join(dir, FileName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mustDefault(t, ProfileServer).Write(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only %s (temporary file left?)", len(entries), FileName)
	}
}

func TestWriteCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", FileName)
	if err := mustDefault(t, ProfileTestnet).Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	c := mustDefault(t, ProfileServer)
	c.Log.Level = "chatty"
	path := filepath.Join(t.TempDir(), FileName)
	wantErr(t, c.Write(path), `"log.level"`, "refusing")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an invalid config was written (stat: %v)", err)
	}
}

func TestWrittenFileIsCommented(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := mustDefault(t, ProfileServer).Write(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# tonmesh node configuration") {
		t.Errorf("file does not open with its header:\n%s", text)
	}
	for _, want := range []string{"TONMESH_<SECTION>_<KEY>", "comma-separated", EnvHome} {
		if !strings.Contains(text, want) {
			t.Errorf("header does not mention %q", want)
		}
	}
	lines := strings.Split(text, "\n")
	for _, s := range (&Config{}).sections() {
		start := indexOfPrefix(lines, "["+s.name+"]")
		if start < 0 {
			t.Errorf("section [%s] not written", s.name)
			continue
		}
		body := lines[start+1:]
		if end := indexOfPrefix(body, "["); end >= 0 {
			body = body[:end]
		}
		for _, f := range s.fields {
			i := indexOfPrefix(body, f.name+" = ")
			if i < 1 {
				t.Errorf("key %q not written in [%s]", f.key, s.name)
				continue
			}
			if !strings.HasPrefix(body[i-1], "# ") || !strings.Contains(body[i-1], f.env) {
				t.Errorf("key %q: line above is %q, want a comment naming %s", f.key, body[i-1], f.env)
			}
		}
	}
}

// indexOfPrefix is the index of the first line starting with p, or -1.
func indexOfPrefix(lines []string, p string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, p) {
			return i
		}
	}
	return -1
}

func TestEveryKeyDocumented(t *testing.T) {
	for _, s := range (&Config{}).sections() {
		if sectionDoc(s.name) == "" {
			t.Errorf("section [%s] has no sectionDoc", s.name)
		}
		for _, f := range s.fields {
			if keyDoc(f.key) == "" {
				t.Errorf("key %q has no keyDoc", f.key)
			}
		}
	}
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:    `"plain"`,
		`a"b\c`:    `"a\"b\\c"`,
		"t\tn\n":   `"t\tn\n"`,
		"\x01\x7f": `"\u0001\u007F"`,
		"é🚀":       `"é🚀"`,
	} {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
}
