package shard

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tonmesh/tonmesh/internal/fsutil"
	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/ledger"
)

// SpaceName is the holder's store space.
const SpaceName = "vault-shards"

// Stored layout in the space SpaceName:
//
//	"m" ‖ cid → meta: version (1 or 2) ‖ size (uvarint) ‖ stored (8 bytes, unix ms) ‖
//	            key count (1 byte, 1..maxDeleteKeys) ‖ count × 32-byte Ed25519 delete keys
//	"d" ‖ cid → the shard bytes, for a version-1 meta (written in one batch with it)
//
// A version-2 meta says that the bytes are in the file named by the CID
// (its string form) in the holder's shard directory, FilesDir beside the
// store's own files; the file is written and fsynced, renamed into place
// and the directory fsynced before the meta is committed. Shards up to
// inlineMax bytes are kept in the store (version 1); larger ones in files,
// so that they are written once rather than again by every Pebble flush
// and compaction. Files without a meta (a put cut off by a crash) are
// removed when the holder opens.
//
// Nothing else: no owner, no document, no link between shards.
const (
	metaVersion     = 1 // bytes in the store
	metaVersionFile = 2 // bytes in a file
	prefixMeta      = 'm'
	prefixData      = 'd'
	maxDeleteKeys   = 4

	// inlineMax is the largest shard kept in the store itself.
	inlineMax = 1 << 20
	// FilesDir is the holder's shard directory, inside the store's
	// directory.
	FilesDir = "vault-shards"
	// partSuffix ends the name of a file still being received.
	partSuffix = ".part"
)

// meta is what a holder keeps beside a shard's bytes.
type meta struct {
	Size   int
	Stored time.Time
	Keys   []ed25519.PublicKey
	File   bool // the bytes are in a file (version 2), not in the store
}

func (m *meta) encode() []byte {
	v := byte(metaVersion)
	if m.File {
		v = metaVersionFile
	}
	out := []byte{v}
	out = binary.AppendUvarint(out, uint64(m.Size))
	out = binary.BigEndian.AppendUint64(out, uint64(m.Stored.UnixMilli()))
	out = append(out, byte(len(m.Keys)))
	for _, k := range m.Keys {
		out = append(out, k...)
	}
	return out
}

func decodeMeta(b []byte) (*meta, error) {
	rd := wire.NewReader(b)
	v := rd.Byte("version")
	if rd.Err() == nil && v != metaVersion && v != metaVersionFile {
		return nil, fmt.Errorf("stored shard meta: unsupported version %d", v)
	}
	size := rd.Uvarint("size")
	ms := rd.Uint64("stored")
	n := rd.Byte("key count")
	if rd.Err() == nil && (n == 0 || n > maxDeleteKeys) {
		return nil, fmt.Errorf("stored shard meta: %d delete keys (want 1..%d)", n, maxDeleteKeys)
	}
	m := &meta{File: v == metaVersionFile}
	for i := 0; rd.Err() == nil && i < int(n); i++ {
		m.Keys = append(m.Keys, ed25519.PublicKey(bytes.Clone(rd.Fixed("delete key", ed25519.PublicKeySize))))
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("stored shard meta: %w", err)
	}
	if size == 0 || size > MaxShardSize || ms > math.MaxInt64 {
		return nil, fmt.Errorf("stored shard meta: size %d or time %d out of range", size, ms)
	}
	m.Size, m.Stored = int(size), time.UnixMilli(int64(ms))
	return m, nil
}

// hasKey reports whether k is one of the shard's delete keys.
func (m *meta) hasKey(k ed25519.PublicKey) bool {
	for _, have := range m.Keys {
		if have.Equal(k) {
			return true
		}
	}
	return false
}

func metaKey(c cid.Cid) []byte { return append([]byte{prefixMeta}, c.Bytes()...) }
func dataKey(c cid.Cid) []byte { return append([]byte{prefixData}, c.Bytes()...) }

// shardStore is the holder's view of its space and its shard directory.
type shardStore struct {
	sp  *ledger.Space
	dir string
}

// path is the file of shard c.
func (st shardStore) path(c cid.Cid) string { return filepath.Join(st.dir, c.String()) }

// usage counts the stored shards and their bytes.
func (st shardStore) usage() (shards int, used int64, err error) {
	err = st.sp.Iterate([]byte{prefixMeta}, func(k, v []byte) error {
		m, err := decodeMeta(v)
		if err != nil {
			return fmt.Errorf("shard: key %x: %w", k, err)
		}
		shards++
		used += int64(m.Size)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("shard: count stored shards: %w", err)
	}
	return shards, used, nil
}

// meta returns c's meta, or an error wrapping ErrNotFound.
func (st shardStore) meta(c cid.Cid) (*meta, error) {
	v, err := st.sp.Get(metaKey(c))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeMeta(v)
}

// data returns c's bytes, or an error wrapping ErrNotFound.
func (st shardStore) data(c cid.Cid) ([]byte, error) {
	v, err := st.sp.Get(dataKey(c))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}

// setMeta replaces c's meta durably.
func (st shardStore) setMeta(c cid.Cid, m *meta) error {
	return st.sp.Set(metaKey(c), m.encode())
}

// remove deletes c's meta and bytes durably, in one batch, then its file
// (a file left by a crash in between is removed at the next open).
func (st shardStore) remove(c cid.Cid, m *meta) error {
	b := st.sp.NewBatch()
	b.Delete(metaKey(c))
	b.Delete(dataKey(c))
	if err := b.Commit(); err != nil {
		return err
	}
	if m.File {
		if err := os.Remove(st.path(c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("shard: remove file of %s: %w", c, err)
		}
	}
	return nil
}

// openDir creates the shard directory if needed and removes what no meta
// names: files of puts cut off by a crash, before or after their rename.
func (st shardStore) openDir() error {
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return fmt.Errorf("shard: create %s: %w", st.dir, err)
	}
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		return fmt.Errorf("shard: list %s: %w", st.dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, partSuffix) {
			c, err := cid.Decode(name)
			if err == nil {
				m, err := st.meta(c)
				if err == nil && m.File {
					continue
				}
				if err != nil && !errors.Is(err, ErrNotFound) {
					return fmt.Errorf("shard: check file %s: %w", name, err)
				}
			}
		}
		if err := os.RemoveAll(filepath.Join(st.dir, name)); err != nil {
			return fmt.Errorf("shard: remove leftover %s: %w", name, err)
		}
	}
	return nil
}

// syncDir makes the renames in the shard directory durable.
func (st shardStore) syncDir() error {
	if err := fsutil.SyncDir(st.dir); err != nil {
		return fmt.Errorf("shard: sync %s: %w", st.dir, err)
	}
	return nil
}
