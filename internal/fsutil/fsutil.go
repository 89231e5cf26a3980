// Package fsutil holds the one way tonmesh writes files it must not leave
// torn (config, tokens, API URL, testnet.json, saved passport files):
// a temporary file beside the target, fsynced, renamed over it, and the
// directory fsynced.
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data, mode perm, so that a crash leaves
// either the old file or the new one, never a torn one: a temporary file in
// the same directory is written, fsynced and renamed over path, and the
// directory is fsynced. Missing parent directories are created 0700.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := WriteTemp(dir, "."+filepath.Base(path)+".tmp-*", perm, bytes.NewReader(data))
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
		}
	}
	if err == nil {
		err = SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteTemp copies r into a new file in dir, named after pattern as
// os.CreateTemp does, with mode perm, fsynced and closed, and returns its
// path; on error the file is removed. Renaming it into place, then
// SyncDir, makes it durable whole.
func WriteTemp(dir, pattern string, perm os.FileMode, r io.Reader) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	err = f.Chmod(perm)
	if err == nil {
		_, err = io.Copy(f, r)
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// SyncDir fsyncs directory dir, so that the entries just made or renamed
// in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
