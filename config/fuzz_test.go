package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load. Load must never panic, and whatever
// it accepts must be valid and survive Write and Load unchanged.
func FuzzLoad(f *testing.F) {
	clearEnv(f)
	for _, p := range []string{ProfileTestnet, ProfileServer} {
		c, err := Default(p)
		if err != nil {
			f.Fatal(err)
		}
		data, err := c.render()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"[node]\nprofile = \"testnet\"\n",
		"[p2p]\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\nbootstrap = ['/ip4/1.2.3.4/tcp/1/p2p/" + peerA + "']\n",
		"[p2p]\nmdns = \"yes\"\nconn_low = 1.5\n",
		"[[p2p]]\n[p2p.x]\nlisten.x = 1\n",
		"p2p = { listen = [], conn_high = 99999999999999999999 }\n",
		"[api]\nlisten = \"[::1]:0\"\nallow_remote = true\n",
		"[node]\nname = \"\\u0000\"\n",
		"[node\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "in.toml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			if c != nil {
				t.Fatalf("Load returned a config with error %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted an invalid config: %v", err)
		}
		out := filepath.Join(dir, "out.toml")
		if err := c.Write(out); err != nil {
			t.Fatalf("Write of a loaded config: %v", err)
		}
		again, err := Load(out)
		if err != nil {
			t.Fatalf("Load after Write: %v", err)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", c, again)
		}
	})
}
