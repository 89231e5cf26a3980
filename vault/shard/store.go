package shard

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/ledger"
)

// SpaceName is the holder's store space.
const SpaceName = "vault-shards"

// Stored layout in the space SpaceName (written together in one batch):
//
//	"m" ‖ cid → meta: version (1) ‖ size (uvarint) ‖ stored (8 bytes, unix ms) ‖
//	            key count (1 byte, 1..maxDeleteKeys) ‖ count × 32-byte Ed25519 delete keys
//	"d" ‖ cid → the shard bytes
//
// Nothing else: no owner, no document, no link between shards.
const (
	metaVersion   = 1
	prefixMeta    = 'm'
	prefixData    = 'd'
	maxDeleteKeys = 4
)

// meta is what a holder keeps beside a shard's bytes.
type meta struct {
	Size   int
	Stored time.Time
	Keys   []ed25519.PublicKey
}

func (m *meta) encode() []byte {
	out := []byte{metaVersion}
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
	if v := rd.Byte("version"); rd.Err() == nil && v != metaVersion {
		return nil, fmt.Errorf("stored shard meta: unsupported version %d", v)
	}
	size := rd.Uvarint("size")
	ms := rd.Uint64("stored")
	n := rd.Byte("key count")
	if rd.Err() == nil && (n == 0 || n > maxDeleteKeys) {
		return nil, fmt.Errorf("stored shard meta: %d delete keys (want 1..%d)", n, maxDeleteKeys)
	}
	m := &meta{}
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

// shardStore is the holder's view of its space.
type shardStore struct{ sp *ledger.Space }

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

// put stores a shard and its meta durably, in one batch.
func (st shardStore) put(c cid.Cid, m *meta, data []byte) error {
	b := st.sp.NewBatch()
	b.Set(metaKey(c), m.encode())
	b.Set(dataKey(c), data)
	return b.Commit()
}

// setMeta replaces c's meta durably.
func (st shardStore) setMeta(c cid.Cid, m *meta) error {
	return st.sp.Set(metaKey(c), m.encode())
}

// remove deletes c's meta and bytes durably, in one batch.
func (st shardStore) remove(c cid.Cid) error {
	b := st.sp.NewBatch()
	b.Delete(metaKey(c))
	b.Delete(dataKey(c))
	return b.Commit()
}
