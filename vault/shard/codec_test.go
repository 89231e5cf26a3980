package shard

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// without returns a copy of shards with the given indexes set to nil.
func without(shards [][]byte, missing ...int) [][]byte {
	out := make([][]byte, len(shards))
	copy(out, shards)
	for _, i := range missing {
		out[i] = nil
	}
	return out
}

// subsets lists every set of up to max indexes out of n.
func subsets(n, max int) [][]int {
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		out = append(out, append([]int(nil), cur...))
		if len(cur) == max {
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
	return out
}

func TestEncodeDecodeAnyMissing(t *testing.T) {
	for _, tc := range []struct{ size, k, n int }{
		{0, 4, 6}, {1, 4, 6}, {1000, 4, 6}, {100_003, 4, 6}, {5000, 1, 3}, {5000, 3, 3}, {777, 10, 14},
	} {
		plain := randomBytes(t, tc.size)
		e, err := Encode(plain, tc.k, tc.n)
		if err != nil {
			t.Fatalf("Encode(%d bytes, %d, %d): %v", tc.size, tc.k, tc.n, err)
		}
		if e.K != tc.k || e.N != tc.n || len(e.Shards) != tc.n || len(e.CIDs) != tc.n {
			t.Fatalf("Encode gave k=%d n=%d, %d shards, %d CIDs", e.K, e.N, len(e.Shards), len(e.CIDs))
		}
		if e.Size != tc.size+nonceSize+16 {
			t.Fatalf("ciphertext size %d for %d bytes", e.Size, tc.size)
		}
		for i, s := range e.Shards {
			if len(s) != ShardLen(e.Size, tc.k) {
				t.Fatalf("shard %d is %d bytes, want %d", i, len(s), ShardLen(e.Size, tc.k))
			}
			if !CheckCID(e.CIDs[i], s) {
				t.Fatalf("CID %d does not match shard %d", i, i)
			}
		}
		if tc.size >= 64 && bytes.Contains(bytes.Join(e.Shards, nil), plain[:32]) {
			t.Fatal("shards contain plaintext")
		}
		for _, missing := range subsets(tc.n, tc.n-tc.k) {
			got, err := Decode(e.Key, e.Size, tc.k, tc.n, without(e.Shards, missing...))
			if err != nil {
				t.Fatalf("size %d, %d of %d, missing %v: %v", tc.size, tc.k, tc.n, missing, err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("size %d, missing %v: decoded bytes differ", tc.size, missing)
			}
		}
	}
}

func TestEncodeFreshKeys(t *testing.T) {
	plain := []byte("same plaintext twice")
	a, err := Encode(plain, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(plain, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if a.Key == b.Key || a.CIDs[0].Equals(b.CIDs[0]) {
		t.Fatal("two encodings of the same plaintext share a key or a shard")
	}
}

func TestDecodeTooManyMissing(t *testing.T) {
	e, err := Encode(randomBytes(t, 4096), 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(e.Key, e.Size, 4, 6, without(e.Shards, 0, 2, 5))
	if err == nil || !strings.Contains(err.Error(), "only 3 of 6 shards present, need at least 4") {
		t.Fatalf("Decode with 3 of 6 shards: %v", err)
	}
	if _, err := Rebuild(e.Size, 4, 6, without(e.Shards, 1, 2, 3)); err == nil || !strings.Contains(err.Error(), "only 3 of 6") {
		t.Fatalf("Rebuild with 3 of 6 shards: %v", err)
	}
}

func TestDecodeRefusesBadInput(t *testing.T) {
	plain := randomBytes(t, 4096)
	e, err := Encode(plain, 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	wrong := e.Key
	wrong[0] ^= 1
	if _, err := Decode(wrong, e.Size, 4, 6, e.Shards); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("Decode with a wrong key: %v", err)
	}
	bad := without(e.Shards)
	bad[1] = bytes.Clone(bad[1])
	bad[1][7] ^= 1
	if _, err := Decode(e.Key, e.Size, 4, 6, without(bad, 4, 5)); err == nil {
		t.Fatal("Decode accepted an altered data shard")
	}
	if _, err := Decode(e.Key, e.Size, 4, 6, e.Shards[:5]); err == nil || !strings.Contains(err.Error(), "want n = 6") {
		t.Fatalf("Decode with 5 slots: %v", err)
	}
	short := without(e.Shards)
	short[2] = short[2][:10]
	if _, err := Decode(e.Key, e.Size, 4, 6, short); err == nil || !strings.Contains(err.Error(), "shard 2 is 10 bytes") {
		t.Fatalf("Decode with a short shard: %v", err)
	}
	for _, kn := range [][2]int{{0, 6}, {5, 4}, {4, 257}} {
		if _, err := Encode(plain, kn[0], kn[1]); err == nil {
			t.Fatalf("Encode(k=%d, n=%d) accepted", kn[0], kn[1])
		}
	}
}

func TestRebuildReproducesShards(t *testing.T) {
	e, err := Encode(randomBytes(t, 50_000), 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	for _, missing := range subsets(6, 2) {
		got, err := Rebuild(e.Size, 4, 6, without(e.Shards, missing...))
		if err != nil {
			t.Fatalf("missing %v: %v", missing, err)
		}
		for i := range got {
			if !bytes.Equal(got[i], e.Shards[i]) || !CheckCID(e.CIDs[i], got[i]) {
				t.Fatalf("missing %v: rebuilt shard %d differs", missing, i)
			}
		}
	}
}

func TestCIDOf(t *testing.T) {
	data := []byte("shard bytes")
	c := CIDOf(data)
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.Raw || p.MhType != multihash.BLAKE3 || p.MhLength != 32 {
		t.Fatalf("CID prefix %+v", p)
	}
	if !strings.HasPrefix(c.String(), "bafkr4i") {
		t.Fatalf("CID %s is not a base32 CIDv1 raw BLAKE3", c)
	}
	// The digest is BLAKE3-256 of the bytes, as any multihash library
	// computes it.
	if want, err := multihash.Sum(data, multihash.BLAKE3, 32); err != nil || !bytes.Equal(c.Hash(), want) {
		t.Fatalf("CID hash %x, multihash.Sum gives %x (%v)", []byte(c.Hash()), []byte(want), err)
	}
	if !CIDOf(bytes.Clone(data)).Equals(c) || !CheckCID(c, data) {
		t.Fatal("CIDOf is not deterministic")
	}
	if CheckCID(c, []byte("shard bytez")) || CheckCID(cid.Undef, data) {
		t.Fatal("CheckCID accepted other bytes or an undefined CID")
	}
	v0 := cid.NewCidV0(cidSHA256(data).Hash())
	if checkCIDFormat(v0) == nil || checkCIDFormat(cid.NewCidV1(cid.DagProtobuf, c.Hash())) == nil {
		t.Fatal("checkCIDFormat accepted a CID this package does not make")
	}
	if mh, _ := multihash.Sum(data, multihash.BLAKE3, 64); checkCIDFormat(cid.NewCidV1(cid.Raw, mh)) == nil {
		t.Fatal("checkCIDFormat accepted a 64-byte BLAKE3 digest")
	}
}

// TestOldSHA256CIDs: shards named by sha2-256, as tonmesh made them
// before BLAKE3, stay valid: the format is accepted and the bytes check.
func TestOldSHA256CIDs(t *testing.T) {
	data := []byte("an old shard")
	old := cidSHA256(data)
	if want, err := multihash.Sum(data, multihash.SHA2_256, 32); err != nil || !bytes.Equal(old.Hash(), want) {
		t.Fatal("cidSHA256 is not the sha2-256 multihash")
	}
	if !strings.HasPrefix(old.String(), "bafkrei") || checkCIDFormat(old) != nil {
		t.Fatalf("old CID %s refused", old)
	}
	if !CheckCID(old, data) || CheckCID(old, []byte("an old shard!")) {
		t.Fatal("CheckCID of a sha2-256 CID")
	}
	if CheckCID(CIDOf(data), []byte("x")) || old.Equals(CIDOf(data)) {
		t.Fatal("the two hashes are confused")
	}
}

func TestChallengeAnswer(t *testing.T) {
	data := []byte("held shard")
	n1, n2 := [32]byte{1}, [32]byte{2}
	a := ChallengeAnswer(n1, data)
	if a != ChallengeAnswer(n1, bytes.Clone(data)) {
		t.Fatal("answer is not deterministic")
	}
	if a == ChallengeAnswer(n2, data) || a == ChallengeAnswer(n1, []byte("held shard!")) {
		t.Fatal("answer does not depend on nonce and data")
	}
}

// TestBufferDecode: shards fetched into a Buffer decode in place with any
// n-k of them missing, parity or data, and an altered one fails.
func TestBufferDecode(t *testing.T) {
	plain := randomBytes(t, 100_003)
	e, err := Encode(plain, 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	fill := func(missing []int) *Buffer {
		b, err := NewBuffer(e.Size, 4, 6)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range without(e.Shards, missing...) {
			if s != nil {
				copy(b.Slot(i), s)
				b.Mark(i)
			}
		}
		return b
	}
	for _, missing := range subsets(6, 2) {
		b := fill(missing)
		if got := b.Shards(); !bytes.Equal(bytes.Join(got[4:], nil), bytes.Join(without(e.Shards, missing...)[4:], nil)) {
			t.Fatalf("missing %v: Shards", missing)
		}
		got, err := b.Decode(e.Key)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("missing %v: Decode: %v", missing, err)
		}
	}
	b := fill([]int{0, 1, 2})
	if _, err := b.Decode(e.Key); err == nil || !strings.Contains(err.Error(), "only 3 of 6") {
		t.Fatalf("Decode with 3 shards: %v", err)
	}
	b = fill([]int{5})
	b.Slot(2)[9] ^= 1
	if _, err := b.Decode(e.Key); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("Decode of an altered shard: %v", err)
	}
	if _, err := NewBuffer(10, 4, 6); err == nil {
		t.Fatal("NewBuffer accepted a size below nonce and tag")
	}
}
