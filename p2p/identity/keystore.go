package identity

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tonmesh/tonmesh/internal/fsutil"
)

const (
	keystoreDirMode  fs.FileMode = 0o700
	keystoreFileMode fs.FileMode = 0o600
)

// SaveMnemonic writes words to path, one line of space-separated words, so
// that only the owner can read it. It validates the words first, creates the
// parent directory with mode 0700 if missing, and never overwrites: if path
// exists it fails and leaves the file as it was. The write is atomic and
// durable: a temporary file in the same directory is written with mode 0600,
// fsynced, linked into place (which fails if path appeared meanwhile), and the
// directory is fsynced; a crash leaves either no file or the complete one.
func SaveMnemonic(path string, words []string) error {
	parsed, err := ParseMnemonic(strings.Join(words, " "))
	if err != nil {
		return fmt.Errorf("identity: refusing to save an invalid mnemonic: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("identity: refusing to overwrite existing mnemonic file %s: move it away first if you really mean to replace it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("identity: check mnemonic file %s: %w", path, err)
	}

	dir := filepath.Dir(path)
	if err := ensurePrivateDir(dir); err != nil {
		return err
	}

	tmp, err := os.CreateTemp(dir, ".mnemonic-*.tmp")
	if err != nil {
		return fmt.Errorf("identity: create temporary mnemonic file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // on failure paths; harmless once removed

	if err := writeAndSync(tmp, strings.Join(parsed, " ")+"\n"); err != nil {
		return fmt.Errorf("identity: write temporary mnemonic file %s: %w", tmpName, err)
	}
	if err := placeNoClobber(tmpName, path); err != nil {
		return err
	}
	// The secret must not stay under a second name; a failure here leaves a
	// 0600 file in the same directory, which the deferred Remove retries.
	_ = os.Remove(tmpName)
	if err := fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("identity: sync directory %s: %w", dir, err)
	}
	return nil
}

// placeNoClobber gives file tmp the name path, failing if path exists. A hard
// link refuses an existing target atomically; where the file system has no
// hard links it falls back to a rename after checking path again.
func placeNoClobber(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("identity: refusing to overwrite existing mnemonic file %s: move it away first if you really mean to replace it", path)
	}
	if _, statErr := os.Lstat(path); !errors.Is(statErr, fs.ErrNotExist) {
		return fmt.Errorf("identity: refusing to overwrite existing mnemonic file %s (link failed: %v): move it away first if you really mean to replace it", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("identity: move mnemonic file into place at %s: %w", path, err)
	}
	return nil
}

// LoadMnemonic reads and validates the mnemonic saved at path. It refuses a
// file that group or others may read or write, naming the fix.
func LoadMnemonic(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: open mnemonic file: %w", err)
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity: stat mnemonic file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("identity: mnemonic file %s is not a regular file (mode %s)", path, info.Mode())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("identity: mnemonic file %s is accessible by group or others (mode %04o): run \"chmod 600 %s\" and check who may have read it", path, perm, path)
	}

	data, err := io.ReadAll(io.LimitReader(f, maxMnemonicText+1))
	if err != nil {
		return nil, fmt.Errorf("identity: read mnemonic file %s: %w", path, err)
	}
	words, err := ParseMnemonic(string(data))
	if err != nil {
		return nil, fmt.Errorf("identity: mnemonic file %s: %w", path, err)
	}
	return words, nil
}

// ensurePrivateDir creates dir (and missing parents) with mode 0700. An
// existing directory is left as it is.
func ensurePrivateDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case err == nil:
		if !info.IsDir() {
			return fmt.Errorf("identity: %s is not a directory: cannot save the mnemonic there", dir)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("identity: check directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, keystoreDirMode); err != nil {
		return fmt.Errorf("identity: create directory %s: %w", dir, err)
	}
	// MkdirAll applies the umask; make the mode exact.
	if err := os.Chmod(dir, keystoreDirMode); err != nil {
		return fmt.Errorf("identity: set mode 0700 on directory %s: %w", dir, err)
	}
	return nil
}

// writeAndSync writes s to f, fsyncs and closes it, with mode 0600.
func writeAndSync(f *os.File, s string) error {
	if err := f.Chmod(keystoreFileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
