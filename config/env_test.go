package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestApplyEnvKinds(t *testing.T) {
	c := mustDefault(t, ProfileTestnet)
	err := c.ApplyEnv([]string{
		"PATH=/usr/bin",
		"TONMESH_P2P_LISTEN=/ip4/127.0.0.1/tcp/4001, /ip4/127.0.0.1/udp/4001/quic-v1,",
		"TONMESH_P2P_MDNS=true",
		"TONMESH_P2P_CONN_HIGH=250",
		"TONMESH_API_LISTEN=127.0.0.1:9999",
		"TONMESH_LOG_LEVEL=debug",
		"TONMESH_TON_WALLET_VERSION=v4r2",
		"TONMESH_API_ALLOW_REMOTE=0",
	})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	want := mustDefault(t, ProfileTestnet)
	want.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/udp/4001/quic-v1"}
	want.P2P.MDNS = true
	want.P2P.ConnHigh = 250
	want.API.Listen = "127.0.0.1:9999"
	want.Log.Level = "debug"
	want.TON.WalletVersion = "v4r2"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("after ApplyEnv:\n%+v\nwant\n%+v", c, want)
	}
}

func TestApplyEnvEmptyListClears(t *testing.T) {
	c := mustDefault(t, ProfileTestnet)
	c.P2P.Bootstrap = []string{"/ip4/1.2.3.4/tcp/1/p2p/" + peerA}
	if err := c.ApplyEnv([]string{"TONMESH_P2P_BOOTSTRAP= , "}); err != nil {
		t.Fatal(err)
	}
	if c.P2P.Bootstrap != nil {
		t.Errorf("bootstrap = %q, want nil", c.P2P.Bootstrap)
	}
}

func TestApplyEnvLaterEntryWins(t *testing.T) {
	c := mustDefault(t, ProfileTestnet)
	if err := c.ApplyEnv([]string{"TONMESH_LOG_LEVEL=warn", "TONMESH_LOG_LEVEL=error"}); err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "error" {
		t.Errorf("log.level = %q, want error", c.Log.Level)
	}
}

func TestApplyEnvBadValues(t *testing.T) {
	cases := []struct{ kv, name, key string }{
		{"TONMESH_P2P_MDNS=maybe", "TONMESH_P2P_MDNS", "p2p.mdns"},
		{"TONMESH_API_ALLOW_REMOTE=", "TONMESH_API_ALLOW_REMOTE", "api.allow_remote"},
		{"TONMESH_P2P_CONN_LOW=ten", "TONMESH_P2P_CONN_LOW", "p2p.conn_low"},
		{"TONMESH_P2P_CONN_HIGH=99999999999999999999", "TONMESH_P2P_CONN_HIGH", "p2p.conn_high"},
	}
	for _, tc := range cases {
		c := mustDefault(t, ProfileTestnet)
		wantErr(t, c.ApplyEnv([]string{tc.kv}), tc.name, `"`+tc.key+`"`)
	}
	// All problems are reported, and good overrides still apply.
	c := mustDefault(t, ProfileTestnet)
	err := c.ApplyEnv([]string{"TONMESH_P2P_MDNS=maybe", "TONMESH_LOG_LEVEL=debug", "TONMESH_P2P_CONN_LOW=x"})
	wantErr(t, err, "TONMESH_P2P_MDNS", "TONMESH_P2P_CONN_LOW")
	if c.Log.Level != "debug" {
		t.Errorf("good override not applied next to bad ones: log.level = %q", c.Log.Level)
	}
}

func TestApplyEnvIgnoresNonKeys(t *testing.T) {
	c := mustDefault(t, ProfileServer)
	environ := []string{
		"TONMESH_HOME=/var/lib/tonmesh",
		"TONMESH_API=127.0.0.1:5080",
		"TONMESH_TOKEN=secret",
		"TONMESH_P2P_LISTN=/ip4/0.0.0.0/tcp/1",
		"TONMESH_NOPE=1",
		"TONMESH_P2P_MDNS", // no '=': not a variable
		"tonmesh_log_level=debug",
	}
	if err := c.ApplyEnv(environ); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if !reflect.DeepEqual(c, mustDefault(t, ProfileServer)) {
		t.Errorf("non-key variables changed the config: %+v", c)
	}
	got := UnknownEnv(append(environ, "TONMESH_NOPE=2", "TONMESH_LOG_LEVEL=info"))
	want := []string{"TONMESH_NOPE", "TONMESH_P2P_LISTN"}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownEnv = %q, want %q", got, want)
	}
}

func TestEnvNames(t *testing.T) {
	for key, want := range map[string]string{
		"node.name":          "TONMESH_NODE_NAME",
		"p2p.dht_mode":       "TONMESH_P2P_DHT_MODE",
		"api.allow_remote":   "TONMESH_API_ALLOW_REMOTE",
		"ton.wallet_version": "TONMESH_TON_WALLET_VERSION",
		"log.format":         "TONMESH_LOG_FORMAT",
	} {
		if got, ok := EnvName(key); !ok || got != want {
			t.Errorf("EnvName(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	if _, ok := EnvName("p2p.nope"); ok {
		t.Error("EnvName of an unknown key reported ok")
	}
	seen := map[string]bool{}
	for _, f := range (&Config{}).fields() {
		if reservedEnv(f.env) || seen[f.env] {
			t.Errorf("key %q derives %s, which is reserved or already used", f.key, f.env)
		}
		seen[f.env] = true
	}
	if len(seen) != 53 {
		t.Errorf("found %d keys, want 53 (update this test when adding keys)", len(seen))
	}
}

// TestApplyEnvReachesEveryKey sets each key through its variable and checks
// that it changed, so that a new field of an unsupported type fails here.
func TestApplyEnvReachesEveryKey(t *testing.T) {
	for _, f := range (&Config{}).fields() {
		c := &Config{}
		var value string
		switch f.v.Kind() {
		case reflect.String:
			value = "x"
		case reflect.Bool:
			value = "true"
		case reflect.Int, reflect.Int64:
			value = "7"
		case reflect.Slice:
			value = "a,b"
		}
		if err := c.ApplyEnv([]string{f.env + "=" + value}); err != nil {
			t.Errorf("%s: %v", f.env, err)
			continue
		}
		if reflect.DeepEqual(c, &Config{}) {
			t.Errorf("%s=%s did not change key %q", f.env, value, f.key)
		}
		if strings.Count(f.env, "_") < 2 {
			t.Errorf("%s is not TONMESH_<SECTION>_<KEY>", f.env)
		}
	}
}
