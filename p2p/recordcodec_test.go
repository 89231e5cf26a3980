package p2p

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func peerIDOf(t testing.TB, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// resign signs r as it stands, for tests that build records by hand.
func resign(t testing.TB, priv crypto.PrivKey, r *SignedRecord) *SignedRecord {
	t.Helper()
	r.PubKey = priv.GetPublic()
	body, err := r.signedBody()
	if err != nil {
		t.Fatal(err)
	}
	if r.Sig, err = priv.Sign(body); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustMarshal(t testing.TB, r *SignedRecord) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordRoundTrip(t *testing.T) {
	priv := newKey(t)
	rec, err := NewSignedRecord(priv, "vault", "some/key", 7, time.Hour, []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Verify(); err != nil {
		t.Fatalf("fresh record does not verify: %v", err)
	}
	b := mustMarshal(t, rec)
	got, err := UnmarshalRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Namespace != "vault" || got.Key != "some/key" || got.Seq != 7 || string(got.Value) != "value" ||
		!got.Expires.Equal(rec.Expires) || !got.PubKey.Equals(priv.GetPublic()) || !bytes.Equal(got.Sig, rec.Sig) {
		t.Fatalf("decoded record differs: %+v", got)
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("decoded record does not verify: %v", err)
	}
	if again := mustMarshal(t, got); !bytes.Equal(again, b) {
		t.Fatal("re-encoding a decoded record changed its bytes")
	}
	// The decoded record must not alias the input buffer.
	for i := range b {
		b[i] = 0
	}
	if string(got.Value) != "value" {
		t.Fatal("decoded record aliases the input buffer")
	}
	if exp := rec.Expires.Sub(time.Now()); exp <= 58*time.Minute || exp > time.Hour {
		t.Fatalf("expiry %v from now, want about 1h", exp)
	}
}

func TestRecordTamperingDetected(t *testing.T) {
	priv := newKey(t)
	rec, err := NewSignedRecord(priv, "vault", "k", 1, time.Hour, []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	good := mustMarshal(t, rec)
	// Flipping any single bit must make the record undecodable or unverifiable.
	for i := range good {
		for bit := range 8 {
			b := bytes.Clone(good)
			b[i] ^= 1 << bit
			r, err := UnmarshalRecord(b)
			if err != nil {
				continue
			}
			if r.Verify() == nil {
				t.Fatalf("bit %d of byte %d flipped and the record still verifies", bit, i)
			}
		}
	}
	rec.Value = []byte("evil")
	if rec.Verify() == nil {
		t.Fatal("record with a changed value verifies")
	}
	other := newKey(t)
	rec.Value = []byte("value")
	rec.PubKey = other.GetPublic()
	if rec.Verify() == nil {
		t.Fatal("record with a swapped public key verifies")
	}
}

func TestRecordDecoderIsStrict(t *testing.T) {
	priv := newKey(t)
	rec, err := NewSignedRecord(priv, "ns", "k", 1, time.Hour, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	good := mustMarshal(t, rec)
	cases := map[string][]byte{
		"empty":           nil,
		"truncated":       good[:len(good)-1],
		"trailing byte":   append(bytes.Clone(good), 0),
		"version 2":       append([]byte{2}, good[1:]...),
		"non-minimal len": append([]byte{1, 0x82, 0x00}, good[2:]...), // namespace length 2 as two bytes
		"oversize input":  make([]byte, MaxRecordSize+1),
		"bad namespace":   replaceOnce(good, []byte("ns"), []byte("N$")),
		"zero expiry":     zeroExpiry(good, rec),
	}
	for name, b := range cases {
		if _, err := UnmarshalRecord(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func replaceOnce(b, old, new []byte) []byte {
	return bytes.Replace(bytes.Clone(b), old, new, 1)
}

// zeroExpiry returns the encoding of rec with its expiry field zeroed.
func zeroExpiry(good []byte, rec *SignedRecord) []byte {
	off := 1 + 1 + len(rec.Namespace) + 1 + len(rec.Key) + 8
	b := bytes.Clone(good)
	copy(b[off:off+8], make([]byte, 8))
	return b
}

func TestNewSignedRecordRefusesBadInput(t *testing.T) {
	priv := newKey(t)
	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  crypto.PrivKey
		ns   string
		k    string
		ttl  time.Duration
		val  []byte
	}{
		{"non-ed25519 key", secp, "ns", "k", time.Hour, nil},
		{"nil key", nil, "ns", "k", time.Hour, nil},
		{"upper-case namespace", priv, "Vault", "k", time.Hour, nil},
		{"namespace with slash", priv, "a/b", "k", time.Hour, nil},
		{"empty namespace", priv, "", "k", time.Hour, nil},
		{"long namespace", priv, strings.Repeat("a", MaxNamespaceLen+1), "k", time.Hour, nil},
		{"empty key", priv, "ns", "", time.Hour, nil},
		{"long key", priv, "ns", strings.Repeat("k", MaxKeyLen+1), time.Hour, nil},
		{"invalid utf-8 key", priv, "ns", "\xff", time.Hour, nil},
		{"zero ttl", priv, "ns", "k", 0, nil},
		{"value too large", priv, "ns", "k", time.Hour, make([]byte, MaxRecordSize)},
	}
	for _, c := range cases {
		if _, err := NewSignedRecord(c.key, c.ns, c.k, 1, c.ttl, c.val); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if _, err := (&SignedRecord{Namespace: "ns", Key: "k", PubKey: priv.GetPublic(), Expires: time.Now()}).Marshal(); err == nil {
		t.Error("unsigned record marshalled")
	}
}

func TestDHTKey(t *testing.T) {
	k := DHTKey("vault", "a/b")
	if k != "/tonmesh-vault/a/b" {
		t.Fatalf("DHTKey = %q", k)
	}
	ns, key, ok := splitDHTKey(k)
	if !ok || ns != "vault" || key != "a/b" {
		t.Fatalf("splitDHTKey(%q) = %q, %q, %v", k, ns, key, ok)
	}
	for _, bad := range []string{"/ipns/x", "/tonmesh-vault", "tonmesh-vault/x", ""} {
		if _, _, ok := splitDHTKey(bad); ok {
			t.Errorf("splitDHTKey(%q) accepted", bad)
		}
	}
}

func TestSignerOwnsKey(t *testing.T) {
	priv := newKey(t)
	id := peerIDOf(t, priv)
	own, err := NewSignedRecord(priv, "ns", id.String(), 1, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := SignerOwnsKey(own); err != nil {
		t.Fatalf("owner refused: %v", err)
	}
	other, err := NewSignedRecord(priv, "ns", peerIDOf(t, newKey(t)).String(), 1, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if SignerOwnsKey(other) == nil {
		t.Fatal("record for someone else's key accepted")
	}
}
