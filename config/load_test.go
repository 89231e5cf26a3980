package config

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadMissingFile(t *testing.T) {
	clearEnv(t)
	_, err := Load(filepath.Join(t.TempDir(), FileName))
	wantErr(t, err, "tonmesh init", FileName)
}

func TestLoadUnknownKey(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "[node]\nname = \"a\"\n\n[p2p]\nlistn = [\"/ip4/0.0.0.0/tcp/1\"]\n")
	_, err := Load(path)
	wantErr(t, err, `unknown key "p2p.listn"`, "line 5", "listen")
}

func TestLoadUnknownTableAndTopLevelKey(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "verbose = true\n[logging]\nlevel = \"debug\"\n")
	_, err := Load(path)
	wantErr(t, err, `unknown key "verbose"`, "line 1", `unknown key "logging"`, "line 2", "[log]")
}

func TestLoadSyntaxError(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "[node]\nname = \"a\"\nprofile = \"testnet\n")
	_, err := Load(path)
	wantErr(t, err, "line 3", "column", "syntax error", path)
}

func TestLoadWrongType(t *testing.T) {
	clearEnv(t)
	cases := []struct {
		doc  string
		want []string
	}{
		{"[p2p]\nmdns = \"yes\"\n", []string{`key "p2p.mdns"`, "line 2", "true or false", "found a TOML string"}},
		{"[p2p]\nlisten = \"/ip4/0.0.0.0/tcp/1\"\n", []string{`key "p2p.listen"`, "line 2", "list of quoted strings"}},
		{"[p2p]\nlisten = [\n  \"/ip4/0.0.0.0/tcp/1\",\n  2,\n]\n", []string{`key "p2p.listen"`, "line 4"}},
		{"[p2p]\nconn_low = 1.5\n", []string{`key "p2p.conn_low"`, "line 2"}},
		{"[p2p]\nconn_high = 99999999999999999999\n", []string{`key "p2p.conn_high"`, "line 2", "out of range"}},
		{"p2p = 5\n", []string{`key "p2p"`, "table"}},
		{"[node]\nprofile = 5\n", []string{`"node.profile"`, "line 2"}},
	}
	for _, tc := range cases {
		_, err := Load(writeTemp(t, tc.doc))
		wantErr(t, err, tc.want...)
	}
}

func TestLoadAbsentKeysTakeProfileDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load(writeTemp(t, "[node]\nprofile = \"testnet\"\n[log]\nlevel = \"debug\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := mustDefault(t, ProfileTestnet)
	want.Log.Level = "debug"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c, want)
	}

	// No profile: server defaults. A list in the file replaces the default.
	c, err = Load(writeTemp(t, "[p2p]\nlisten = [\"/ip4/0.0.0.0/tcp/9\"]\nannounce = []\n"))
	if err != nil {
		t.Fatal(err)
	}
	want = mustDefault(t, ProfileServer)
	want.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/9"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoadEmptyFileIsServerDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load(writeTemp(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, mustDefault(t, ProfileServer)) {
		t.Errorf("empty file gave %+v", c)
	}
}

func TestLoadUnknownProfile(t *testing.T) {
	clearEnv(t)
	_, err := Load(writeTemp(t, "[node]\nprofile = \"laptop\"\n"))
	wantErr(t, err, `"node.profile"`, `"laptop"`, "testnet or server")
}

func TestLoadValidates(t *testing.T) {
	clearEnv(t)
	_, err := Load(writeTemp(t, "[api]\nlisten = \"0.0.0.0:5080\"\n[log]\nformat = \"xml\"\n"))
	wantErr(t, err, `"api.listen"`, "loopback", `"log.format"`)
}

func TestLoadAppliesEnvironment(t *testing.T) {
	clearEnv(t)
	path := writeTemp(t, "[node]\nprofile = \"testnet\"\n")
	t.Setenv("TONMESH_LOG_LEVEL", "warn")
	t.Setenv("TONMESH_P2P_ANNOUNCE", "/ip4/203.0.113.7/tcp/4001")
	t.Setenv("TONMESH_HOME", "/somewhere")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "warn" || len(c.P2P.Announce) != 1 {
		t.Errorf("overrides not applied: log.level=%q announce=%q", c.Log.Level, c.P2P.Announce)
	}

	t.Setenv("TONMESH_P2P_MDNS", "sometimes")
	_, err = Load(path)
	wantErr(t, err, "TONMESH_P2P_MDNS", `"p2p.mdns"`)

	// An override that parses but is not allowed fails validation.
	t.Setenv("TONMESH_P2P_MDNS", "false")
	t.Setenv("TONMESH_LOG_LEVEL", "loud")
	_, err = Load(path)
	wantErr(t, err, `"log.level"`, `"loud"`)
}
