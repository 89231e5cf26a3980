package vault

import (
	"bytes"
	"testing"

	"github.com/tonmesh/tonmesh/vault/shard"
)

// FuzzDecodeManifest: the manifest decoder reads bytes that came from the
// DHT (after the AEAD, but a bug or an old version must not crash the
// node). Whatever it accepts must encode back to the same bytes in the
// version it was read as, and encode must give what decodes the same.
func FuzzDecodeManifest(f *testing.F) {
	f.Add(sampleManifest(f, 3, 6).encode())
	f.Add(sampleManifest(f, 1, 1).encode())
	f.Add(striped(f, sampleManifest(f, 3, 6), 2, 700).encode())
	f.Add(sampleManifest(f, 2, 3).encodeVersion(1))
	f.Add((&manifest{}).encode())
	f.Add([]byte{1, 0, 1, 4, 'v', 'i', 's', 'a'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			return
		}
		if again := m.encodeVersion(b[0]); !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding:\n in  %x\n out %x", b, again)
		}
		if cur, err := decodeManifest(m.encode()); err != nil || !bytes.Equal(cur.encodeVersion(b[0]), b) {
			t.Fatalf("the current encoding of an accepted manifest does not read back the same: %v", err)
		}
		for _, e := range m.Elements {
			if len(e.Shards) != e.N || e.K < 1 || e.K > e.N || !e.Type.Valid() || e.Segment < 0 || e.Segment > shard.MaxSegment {
				t.Fatalf("accepted an inconsistent element: %+v", e)
			}
		}
	})
}

// FuzzOpenManifest: sealed bytes from the DHT never crash open, and only
// what seal made opens (fuzz workers seal again with their own nonce, so
// the check is on the plaintext).
func FuzzOpenManifest(f *testing.F) {
	keys, err := deriveKeys(fakeIdentity(f, 7))
	if err != nil {
		f.Fatal(err)
	}
	plainWant := sampleManifest(f, 2, 3).encode()
	sealed, err := keys.seal(plainWant)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, err := keys.open(b)
		if err != nil {
			return
		}
		if !bytes.Equal(plain, plainWant) {
			t.Fatal("altered sealed bytes opened")
		}
	})
}
