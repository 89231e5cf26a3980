package lite

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// localhostIP is 127.0.0.1 as a global config writes an IPv4 address.
const localhostIP = 127<<24 | 1

// closedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// testGlobalConfig is a global config JSON whose liteservers are at the
// given 127.0.0.1 ports, with the given zero-state root hash (base64).
func testGlobalConfig(t testing.TB, zeroState string, ports ...int) []byte {
	t.Helper()
	hash := base64.StdEncoding.EncodeToString(make([]byte, 32))
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	var ls []map[string]any
	for _, p := range ports {
		ls = append(ls, map[string]any{"ip": localhostIP, "port": p, "id": map[string]any{"@type": "pub.ed25519", "key": key}})
	}
	block := func(root string, seqno int) map[string]any {
		return map[string]any{"workchain": -1, "shard": int64(-1 << 63), "seqno": seqno, "root_hash": root, "file_hash": hash}
	}
	raw, err := json.Marshal(map[string]any{
		"@type":       "config.global",
		"dht":         map[string]any{"@type": "dht.config.global", "k": 6, "a": 3, "static_nodes": map[string]any{"@type": "dht.nodes", "nodes": []any{}}},
		"liteservers": ls,
		"validator": map[string]any{
			"@type":      "validator.config.global",
			"zero_state": block(zeroState, 0),
			"init_block": block(hash, 123),
			"hardforks":  []any{},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "global.config.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadGlobalConfigFile(t *testing.T) {
	ctx := context.Background()
	good := testGlobalConfig(t, testnetZeroState, 1234)
	gc, err := loadGlobalConfig(ctx, writeFile(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if len(gc.Liteservers) != 1 || gc.Liteservers[0].Port != 1234 || gc.Liteservers[0].IP != localhostIP ||
		gc.Validator.InitBlock.SeqNo != 123 || len(gc.Validator.InitBlock.RootHash) != 32 {
		t.Errorf("parsed config: %+v", gc)
	}

	missing := filepath.Join(t.TempDir(), "nope.json")
	bad := func(mutate func(m map[string]any)) []byte {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(good))
		dec.UseNumber() // keep the 64-bit shard exact
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		raw, _ := json.Marshal(m)
		return raw
	}
	cases := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"ton.global_config is empty"}},
		{"missing file", missing, []string{"cannot read " + missing, "no such file", "set ton.global_config"}},
		{"a directory", t.TempDir(), []string{"cannot read"}},
		{"not JSON", writeFile(t, []byte("<html>hello</html>")), []string{"not a global config JSON"}},
		{"trailing data", writeFile(t, append(append([]byte{}, good...), []byte(" {}")...)), []string{"data after the top-level object"}},
		{"no liteservers", writeFile(t, bad(func(m map[string]any) { delete(m, "liteservers") })), []string{"lists no liteservers"}},
		{"empty liteservers", writeFile(t, bad(func(m map[string]any) { m["liteservers"] = []any{} })), []string{"lists no liteservers"}},
		{"bad key", writeFile(t, bad(func(m map[string]any) {
			m["liteservers"] = []any{map[string]any{"ip": 1, "port": 1, "id": map[string]any{"key": "c2hvcnQ="}}}
		})), []string{"liteserver 0", "Ed25519"}},
		{"bad port", writeFile(t, bad(func(m map[string]any) {
			m["liteservers"].([]any)[0].(map[string]any)["port"] = 70000
		})), []string{"liteserver 0: port 70000"}},
		{"no validator", writeFile(t, bad(func(m map[string]any) { delete(m, "validator") })), []string{`no "validator" section`}},
		{"no init block", writeFile(t, bad(func(m map[string]any) { delete(m["validator"].(map[string]any), "init_block") })), []string{"init_block"}},
		{"other scheme", "ftp://example.org/global.config.json", []string{"only http:// and https://"}},
		{"too large", writeFile(t, make([]byte, maxGlobalConfigSize+1)), []string{"larger than"}},
	}
	for _, tc := range cases {
		_, err := loadGlobalConfig(ctx, tc.src)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range append(tc.want, "ton-blockchain.github.io") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
}

func TestLoadGlobalConfigURL(t *testing.T) {
	good := testGlobalConfig(t, mainnetZeroState, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/global.config.json":
			w.Write(good)
		case "/html":
			w.Write([]byte("<html>not json</html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	gc, err := loadGlobalConfig(ctx, srv.URL+"/global.config.json")
	if err != nil || len(gc.Liteservers) != 1 {
		t.Fatalf("valid URL: %v", err)
	}
	for name, tc := range map[string]struct{ url, want string }{
		"404":         {srv.URL + "/missing.json", "HTTP 404"},
		"not JSON":    {srv.URL + "/html", "not a global config JSON"},
		"closed port": {"http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/global.config.json", "connection refused"},
	} {
		_, err := loadGlobalConfig(ctx, tc.url)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range []string{tc.want, "ton.global_config", "ton-blockchain.github.io"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", name, err, w)
			}
		}
	}
}

func TestNetworkChecks(t *testing.T) {
	for network, want := range map[string]int32{Mainnet: -239, Testnet: -3} {
		if id, err := networkGlobalID(network); err != nil || id != want {
			t.Errorf("%s: %d, %v", network, id, err)
		}
	}
	for _, n := range []string{"emu", "", "Mainnet", "devnet"} {
		if _, err := networkGlobalID(n); err == nil || !strings.Contains(err.Error(), "ton.network") {
			t.Errorf("network %q: want a ton.network error, got %v", n, err)
		}
	}
	if err := checkGlobalID(Testnet, -3, "x"); err != nil {
		t.Error(err)
	}
	err := checkGlobalID(Testnet, 42, "x.json")
	if err == nil || !strings.Contains(err.Error(), "global id 42 (an unknown network)") || !strings.Contains(err.Error(), "x.json") {
		t.Errorf("unknown network: %v", err)
	}

	gc, err := parseGlobalConfig(testGlobalConfig(t, mainnetZeroState, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkZeroState(Mainnet, gc, "m.json"); err != nil {
		t.Errorf("mainnet config as mainnet: %v", err)
	}
	err = checkZeroState(Testnet, gc, "m.json")
	if err == nil || !strings.Contains(err.Error(), "m.json is the mainnet global config but ton.network is testnet") {
		t.Errorf("mainnet config as testnet: %v", err)
	}
	other, _ := parseGlobalConfig(testGlobalConfig(t, base64.StdEncoding.EncodeToString(make([]byte, 32)), 1))
	if err := checkZeroState(Mainnet, other, "o.json"); err != nil {
		t.Errorf("unknown zero state must be left to the global id check: %v", err)
	}
}
