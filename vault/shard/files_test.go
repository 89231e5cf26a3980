package shard

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// testFileShards: a shard over inlineMax lives in a file of the shard
// directory, not in the store; it is served, challenged, re-put, checked
// for corruption, kept across a restart and deleted like any other, and
// files that no meta names are removed when the holder opens.
func testFileShards(t *testing.T, first *peers.Peer) {
	p := peers.Join(t, first, nil)
	h := startHolder(t, p, HolderConfig{})
	ctx := testCtx(t)
	data := randomBytes(t, inlineMax+12345)
	c := CIDOf(data)
	pub1, priv1 := deleteKey(t)
	pub2, _ := deleteKey(t)
	if _, err := Put(ctx, first.Net, h.self, data, pub1); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 1, int64(len(data)))
	wantFiles(t, h, c.String())
	if m, err := h.store.meta(c); err != nil || !m.File {
		t.Fatalf("meta %+v, %v: want a file shard", m, err)
	}
	if _, err := h.store.data(c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a file shard's bytes are in the store too: %v", err)
	}
	if got, err := Get(ctx, first.Net, h.self, c); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %v", err)
	}
	nonce := [32]byte{7}
	if ans, err := Challenge(ctx, first.Net, h.self, c, nonce); err != nil || ans != ChallengeAnswer(nonce, data) {
		t.Fatalf("Challenge: %v", err)
	}
	if err := Prove(ctx, first.Net, h.self, c, len(data), nonce); err != nil {
		t.Fatalf("Prove: %v", err)
	}
	for _, pub := range []ed25519.PublicKey{pub1, pub2} {
		if _, err := Put(ctx, first.Net, h.self, data, pub); err != nil {
			t.Fatal(err)
		}
	}
	wantStats(t, h, 1, int64(len(data)))
	wantFiles(t, h, c.String())

	if err := h.CorruptForTest(c); err != nil {
		t.Fatal(err)
	}
	// A file shard is hashed as it is sent: the reader's own check fails
	// it, and the holder has dropped it by the time Get returns.
	if _, err := Get(ctx, first.Net, h.self, c); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get of a corrupted file shard: %v", err)
	}
	wantStats(t, h, 0, 0)
	wantFiles(t, h)
	if _, err := Get(ctx, first.Net, h.self, c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a corrupted file shard, dropped: %v", err)
	}
	if err := Prove(ctx, first.Net, h.self, c, len(data), nonce); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Prove of a dropped file shard: %v", err)
	}

	if _, err := Put(ctx, first.Net, h.self, data, pub1); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	other := CIDOf([]byte("no meta names me"))
	for _, name := range []string{other.String(), c.String() + ".0123456789abcdef" + partSuffix, "not-a-cid"} {
		if err := os.WriteFile(filepath.Join(h.store.dir, name), []byte("left over"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.Restart(t)
	h = startHolder(t, p, HolderConfig{})
	wantStats(t, h, 1, int64(len(data)))
	wantFiles(t, h, c.String())
	if got, err := Get(ctx, first.Net, h.self, c); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after restart: %v", err)
	}
	if err := Delete(ctx, first.Net, h.self, c, priv1); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 0, 0)
	wantFiles(t, h)
}

// testOldShardsStayReadable writes a shard as tonmesh stored it before
// BLAKE3 and files (a version-1 meta and the bytes in the store, named by
// a sha2-256 CID) and checks that a holder serves, challenges and deletes
// it as before.
func testOldShardsStayReadable(t *testing.T, first *peers.Peer) {
	p := peers.Join(t, first, nil)
	data := randomBytes(t, 3000)
	c := cidSHA256(data)
	pub, priv := deleteKey(t)
	sp, err := p.Store.Space(SpaceName)
	if err != nil {
		t.Fatal(err)
	}
	// The version-1 meta, byte for byte as the old encoder wrote it.
	old := []byte{1}
	old = binary.AppendUvarint(old, uint64(len(data)))
	old = binary.BigEndian.AppendUint64(old, uint64(time.Now().UnixMilli()))
	old = append(append(old, 1), pub...)
	b := sp.NewBatch()
	b.Set(append([]byte{'m'}, c.Bytes()...), old)
	b.Set(append([]byte{'d'}, c.Bytes()...), data)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	p.Restart(t) // a new store object, whose space the holder takes
	h := startHolder(t, p, HolderConfig{})
	wantStats(t, h, 1, int64(len(data)))
	ctx := testCtx(t)
	if got, err := Get(ctx, first.Net, h.self, c); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get of an old shard: %v", err)
	}
	nonce := [32]byte{3}
	if ans, err := Challenge(ctx, first.Net, h.self, c, nonce); err != nil || ans != ChallengeAnswer(nonce, data) {
		t.Fatalf("Challenge of an old shard: %v (the owner's precomputed BLAKE2b answers must still match)", err)
	}
	if err := Prove(ctx, first.Net, h.self, c, len(data), nonce); err == nil {
		t.Fatal("an old sha2-256 shard was proved: its owner has no tree to check")
	}
	// Its owner repairing it puts it again under its old CID.
	if _, err := PutShard(ctx, first.Net, h.self, c, data, pub); err != nil {
		t.Fatal(err)
	}
	if err := Delete(ctx, first.Net, h.self, c, priv); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 0, 0)
}
