package vault

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// fakeIdentity builds an identity from a seed byte without the (slow)
// mnemonic derivation; the vault only needs the keys.
func fakeIdentity(t testing.TB, seed byte) *identity.Identity {
	t.Helper()
	s := bytes.Repeat([]byte{seed}, 32)
	peerSeed := sha256.Sum256(append(s, 'p'))
	encSeed := sha256.Sum256(append(s, 'e'))
	pk, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(peerSeed[:]))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := ecdh.X25519().NewPrivateKey(encSeed[:])
	if err != nil {
		t.Fatal(err)
	}
	return &identity.Identity{WalletKey: ed25519.NewKeyFromSeed(s), PeerKey: pk, EncKey: enc}
}

func testPeerID(t testing.TB, i int) peer.ID {
	t.Helper()
	seed := sha256.Sum256([]byte{byte(i), byte(i >> 8), 'h'})
	pk, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sha256CID names data as tonmesh named shards before BLAKE3.
func sha256CID(t testing.TB, data []byte) cid.Cid {
	t.Helper()
	mh, err := multihash.Sum(data, multihash.SHA2_256, 32)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// sampleManifest has one element of each of the first count types, n
// shards each.
func sampleManifest(t testing.TB, count, n int) *manifest {
	t.Helper()
	m := &manifest{Seq: 42}
	for i, typ := range passport.Types()[:count] {
		e := &elementEntry{
			Type: typ, Added: time.UnixMilli(1_700_000_000_000 + int64(i)), Size: 1000 + i, EncSize: 1028 + i,
			K: max(1, n-2), N: n, Audited: time.UnixMilli(1_700_000_100_000),
		}
		e.Key[0], e.Seed[0] = byte(i), byte(i+1)
		if i%2 == 1 {
			e.Audited = time.Time{}
		}
		for j := range n {
			// BLAKE3 shards (proved, no answers) beside sha2-256 shards of
			// older vaults (precomputed answers).
			c := shard.CIDOf([]byte{byte(i), byte(j)})
			if j%2 == 1 {
				c = sha256CID(t, []byte{byte(i), byte(j)})
			}
			s := &shardEntry{CID: c, Holder: testPeerID(t, i*n+j), Status: shardStatus(j % int(statusMax)), Next: uint64(j * 300)}
			if a := answers(e.Seed, c, s.Next, []byte{byte(j)}); a != nil {
				s.Answers = a[:j%(answersPerShard+1)]
			}
			e.Shards = append(e.Shards, s)
		}
		m.put(e)
	}
	return m
}

// striped makes element i of m striped in segments of seg bytes.
func striped(t testing.TB, m *manifest, i, seg int) *manifest {
	t.Helper()
	e := m.Elements[i]
	l, err := shard.NewLayout(e.Size, e.K, e.N, seg)
	if err != nil {
		t.Fatal(err)
	}
	e.Segment, e.EncSize = seg, l.EncSize()
	return m
}

func TestManifestRoundTrip(t *testing.T) {
	m := sampleManifest(t, 5, 6)
	b := m.encode()
	got, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.encode(), b) {
		t.Fatal("decode(encode(m)) encodes differently")
	}
	if len(got.Elements) != 5 || got.Seq != 42 || got.Elements[1].Shards[3].Next != 900 || !got.Elements[1].Audited.IsZero() {
		t.Fatalf("decoded manifest lost fields: %+v", got)
	}
	for i := 1; i < len(got.Elements); i++ {
		if got.Elements[i-1].Type >= got.Elements[i].Type {
			t.Fatal("elements are not sorted by type")
		}
	}
	away := time.UnixMilli(1_700_000_000_123)
	m.Elements[1].Shards[2].Away = away
	got, err = decodeManifest(m.encode())
	if err != nil || !got.Elements[1].Shards[2].Away.Equal(away) || !got.Elements[1].Shards[1].Away.IsZero() {
		t.Fatalf("away time did not survive a round trip: %v", err)
	}
	// A version-1 manifest (before away times) still reads, as never away.
	old, err := decodeManifest(m.encodeVersion(1))
	if err != nil || old.Elements[1].Shards[3].Next != 900 || !old.Elements[1].Shards[2].Away.IsZero() {
		t.Fatalf("version-1 manifest: %v", err)
	}
	empty, err := decodeManifest((&manifest{}).encode())
	if err != nil || len(empty.Elements) != 0 {
		t.Fatalf("empty manifest: %+v, %v", empty, err)
	}
}

// A manifest with a striped element is version 3 and keeps its segments;
// one without is still written as version 2, which an older tonmesh reads;
// versions 1 and 2 read as sealed in one piece.
func TestManifestVersions(t *testing.T) {
	plain := sampleManifest(t, 3, 6)
	if b := plain.encode(); b[0] != 2 {
		t.Fatalf("a manifest with no striped element is written as version %d, want 2", b[0])
	}
	m := striped(t, sampleManifest(t, 3, 6), 1, 300)
	b := m.encode()
	if b[0] != 3 {
		t.Fatalf("a manifest with a striped element is written as version %d, want 3", b[0])
	}
	got, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Elements[1].Segment != 300 || got.Elements[1].EncSize != m.Elements[1].EncSize || got.Elements[0].Segment != 0 || got.Elements[2].Segment != 0 {
		t.Fatalf("segments after a round trip: %d, %d, %d; want 0, 300, 0", got.Elements[0].Segment, got.Elements[1].Segment, got.Elements[2].Segment)
	}
	if !bytes.Equal(got.encode(), b) {
		t.Fatal("decode(encode(m)) encodes differently")
	}
	for _, version := range []byte{1, 2} {
		old, err := decodeManifest(plain.encodeVersion(version))
		if err != nil {
			t.Fatalf("version %d: %v", version, err)
		}
		for _, e := range old.Elements {
			if e.Segment != 0 {
				t.Fatalf("version %d: element %s read as striped", version, e.Type)
			}
		}
		if !bytes.Equal(old.encodeVersion(version), plain.encodeVersion(version)) {
			t.Fatalf("version %d: decoded fields differ", version)
		}
	}
}

func TestManifestDecodeRefuses(t *testing.T) {
	good := sampleManifest(t, 2, 3).encode()
	swapped := sampleManifest(t, 2, 3)
	swapped.Elements[0], swapped.Elements[1] = swapped.Elements[1], swapped.Elements[0]
	badType := sampleManifest(t, 1, 3)
	badType.Elements[0].Type = "visa"
	badKN := sampleManifest(t, 1, 3)
	badKN.Elements[0].K = 4
	stripedGood := striped(t, sampleManifest(t, 2, 3), 0, 100)
	badEncSize := striped(t, sampleManifest(t, 2, 3), 0, 100)
	badEncSize.Elements[0].EncSize++
	bigSegment := striped(t, sampleManifest(t, 2, 3), 0, 100)
	bigSegment.Elements[0].Segment = shard.MaxSegment + 1
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version 0":      append([]byte{0}, good[1:]...),
		"v2 read as v3":  append([]byte{3}, good[1:]...),
		"version 4":      append([]byte{4}, stripedGood.encode()[1:]...),
		"v3, no striped": append([]byte{3}, sampleManifest(t, 2, 3).encodeVersion(3)[1:]...),
		"v3 read as v2":  append([]byte{2}, stripedGood.encode()[1:]...),
		"bad encsize":    badEncSize.encode(),
		"segment > max":  bigSegment.encodeVersion(3),
		"v1 read as v2":  append([]byte{2}, sampleManifest(t, 2, 3).encodeVersion(1)[1:]...),
		"trailing byte":  append(append([]byte(nil), good...), 0),
		"truncated":      good[:len(good)-1],
		"unsorted":       swapped.encode(),
		"unknown type":   badType.encode(),
		"k > n":          badKN.encode(),
		"too many elems": {1, 0, 65},
		"oversize":       make([]byte, maxManifest+1),
	} {
		if _, err := decodeManifest(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestSealBindsOwner(t *testing.T) {
	a, err := deriveKeys(fakeIdentity(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := deriveKeys(fakeIdentity(t, 1))
	b, _ := deriveKeys(fakeIdentity(t, 2))
	if a.manifest != a2.manifest || a.manifest == b.manifest || a.deleteRoot == a.manifest {
		t.Fatal("owner keys are not a deterministic, distinct function of the identity")
	}
	plain := sampleManifest(t, 1, 2).encode()
	sealed, err := a.seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain[:20]) {
		t.Fatal("the sealed manifest contains its plaintext")
	}
	if got, err := a2.open(sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open with the same identity: %v", err)
	}
	if _, err := b.open(sealed); err == nil {
		t.Fatal("another identity opened the manifest")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := a.open(sealed); err == nil {
		t.Fatal("an altered manifest opened")
	}
	c1, c2 := shard.CIDOf([]byte("one")), shard.CIDOf([]byte("two"))
	if a.deleteKey(c1).Equal(a.deleteKey(c2)) || !a.deleteKey(c1).Equal(a2.deleteKey(c1)) || a.deleteKey(c1).Equal(b.deleteKey(c1)) {
		t.Fatal("delete keys must differ per shard and per owner, and be reproducible")
	}
	if challengeNonce(a.manifest, c1, 0) == challengeNonce(a.manifest, c1, 1) || challengeNonce(a.manifest, c1, 0) == challengeNonce(a.manifest, c2, 0) {
		t.Fatal("challenge nonces repeat")
	}
}

// A manifest that would not fit a DHT record is refused before anything is
// written, with a message that says what to do.
func TestManifestTooLargeForRecord(t *testing.T) {
	keys, err := deriveKeys(fakeIdentity(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	v := &Vault{keys: keys}
	if _, err := v.sealManifest(sampleManifest(t, 13, 6)); err != nil {
		t.Fatalf("13 elements of 6 shards: %v", err)
	}
	_, err = v.sealManifest(sampleManifest(t, 13, 64))
	if err == nil || !strings.Contains(err.Error(), "fewer shards") {
		t.Fatalf("13 elements of 64 shards: %v, want a refusal naming the fix", err)
	}
}

func TestPlaceNeedsEnoughPeers(t *testing.T) {
	ps := make([]placement, 6)
	for i := range ps {
		ps[i] = placement{index: i, cid: shard.CIDOf([]byte{byte(i)})}
	}
	_, err := (&Vault{}).place(context.Background(), ps, []peer.ID{testPeerID(t, 1), testPeerID(t, 2), testPeerID(t, 3)}, 0)
	if !errors.Is(err, ErrNotEnoughPeers) || !strings.Contains(err.Error(), "need 6 peers to hold shards, found 3") {
		t.Fatalf("place with 3 peers: %v", err)
	}
}

func TestByDistanceIsKademliaOrder(t *testing.T) {
	c := shard.CIDOf([]byte("x"))
	var ps []peer.ID
	for i := range 10 {
		ps = append(ps, testPeerID(t, i))
	}
	sorted := byDistanceTo(ps, c.KeyString())
	target := sha256.Sum256(c.Bytes())
	prev := make([]byte, 32)
	for i, p := range sorted {
		h := sha256.Sum256([]byte(p))
		for j := range h {
			h[j] ^= target[j]
		}
		if i > 0 && bytes.Compare(h[:], prev) < 0 {
			t.Fatal("peers are not sorted by XOR distance to the CID")
		}
		prev = h[:]
	}
}
