package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clearEnv removes every TONMESH_ variable from the process environment for
// the duration of the test, so that Load sees only what the test sets.
func clearEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) {
			t.Setenv(name, "") // registers restoration of the old value
			if err := os.Unsetenv(name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// writeTemp writes data to a fresh config file and returns its path.
func writeTemp(t testing.TB, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustDefault(t testing.TB, profile string) *Config {
	t.Helper()
	c, err := Default(profile)
	if err != nil {
		t.Fatalf("Default(%q): %v", profile, err)
	}
	return c
}

// wantErr fails unless err is non-nil and contains every one of parts.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not contain %q:\n%v", p, err)
		}
	}
}
