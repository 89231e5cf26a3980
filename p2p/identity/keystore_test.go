package identity

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestKeystoreRoundTripAndModes(t *testing.T) {
	words := strings.Fields(vectorMnemonicA)
	dir := filepath.Join(t.TempDir(), "home", "keys")
	path := filepath.Join(dir, "mnemonic")

	if err := SaveMnemonic(path, words); err != nil {
		t.Fatalf("SaveMnemonic: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mnemonic file mode %04o, want 0600", got)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		dinfo, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := dinfo.Mode().Perm(); got != 0o700 {
			t.Errorf("directory %s mode %04o, want 0700", d, got)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "mnemonic" {
		t.Errorf("directory holds %v, want only the mnemonic file (no temporary files left)", entries)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != vectorMnemonicA+"\n" {
		t.Errorf("file content %q, want the words on one line", data)
	}

	got, err := LoadMnemonic(path)
	if err != nil {
		t.Fatalf("LoadMnemonic: %v", err)
	}
	if !slices.Equal(got, words) {
		t.Fatalf("LoadMnemonic = %q, want %q", got, words)
	}
}

func TestSaveMnemonicNormalizesWords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemonic")
	if err := SaveMnemonic(path, strings.Fields(strings.ToUpper(vectorMnemonicB))); err != nil {
		t.Fatal(err)
	}
	got, err := LoadMnemonic(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != vectorMnemonicB {
		t.Fatalf("LoadMnemonic = %q", got)
	}
}

func TestSaveMnemonicRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mnemonic")
	if err := os.WriteFile(path, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := SaveMnemonic(path, strings.Fields(vectorMnemonicA))
	if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("SaveMnemonic over an existing file: error = %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "precious\n" {
		t.Fatalf("existing file changed to %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %d entries after a refused save, want 1", len(entries))
	}

	// A second save of a saved mnemonic is refused too.
	path2 := filepath.Join(dir, "other")
	if err := SaveMnemonic(path2, strings.Fields(vectorMnemonicA)); err != nil {
		t.Fatal(err)
	}
	if err := SaveMnemonic(path2, strings.Fields(vectorMnemonicB)); err == nil {
		t.Fatal("second SaveMnemonic to the same path succeeded")
	}
	if got, err := LoadMnemonic(path2); err != nil || strings.Join(got, " ") != vectorMnemonicA {
		t.Fatalf("after refused overwrite LoadMnemonic = %q, %v", got, err)
	}
}

func TestSaveMnemonicRefusesInvalidWords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemonic")
	err := SaveMnemonic(path, strings.Fields(vectorMnemonicA)[:23])
	if err == nil || !strings.Contains(err.Error(), "23 words") {
		t.Fatalf("SaveMnemonic(23 words) error = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("invalid mnemonic was written (stat error %v)", err)
	}
}

func TestLoadMnemonicRefusesOpenPermissions(t *testing.T) {
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o620, 0o660} {
		path := filepath.Join(t.TempDir(), "mnemonic")
		if err := os.WriteFile(path, []byte(vectorMnemonicA+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadMnemonic(path)
		if err == nil {
			t.Fatalf("LoadMnemonic accepted a file with mode %04o", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Fatalf("mode %04o: error %q does not name the fix", mode, err)
		}
	}
}

func TestLoadMnemonicErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadMnemonic(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("LoadMnemonic of a missing file succeeded")
	}
	if _, err := LoadMnemonic(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("LoadMnemonic(directory) error = %v", err)
	}
	words := strings.Fields(vectorMnemonicA)
	words[6] = "foo"
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte(strings.Join(words, " ")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMnemonic(bad)
	if err == nil || !strings.Contains(err.Error(), `word 7 "foo" is not in the TON word list`) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("LoadMnemonic(bad word) error = %v", err)
	}
}
