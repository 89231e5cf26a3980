package chat

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func testKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, id
}

func testEnvelope(t testing.TB) (*envelope, []byte, crypto.PrivKey) {
	t.Helper()
	priv, sender := testKey(t)
	_, recipient := testKey(t)
	id, _ := newMsgID()
	e := &envelope{Sender: sender, Recipient: recipient, ID: id, Sent: time.UnixMilli(time.Now().UnixMilli()), TTL: time.Hour, Body: []byte("ciphertext")}
	raw, err := e.seal(priv)
	if err != nil {
		t.Fatal(err)
	}
	return e, raw, priv
}

func TestEnvelopeRoundTripAndTamper(t *testing.T) {
	e, raw, _ := testEnvelope(t)
	got, err := decodeEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sender != e.Sender || got.Recipient != e.Recipient || got.ID != e.ID || !got.Sent.Equal(e.Sent) || got.TTL != e.TTL || !bytes.Equal(got.Body, e.Body) {
		t.Fatalf("decoded %+v, want %+v", got, e)
	}
	if err := got.verify(new(peerKeyCache)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.encode(), raw) {
		t.Fatal("re-encoding differs")
	}
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x80
		if d, err := decodeEnvelope(bad); err == nil && d.verify(new(peerKeyCache)) == nil {
			t.Fatalf("flipping byte %d still verifies", i)
		}
	}
	if _, err := decodeEnvelope(append(bytes.Clone(raw), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if err := got.checkTimes(e.Sent.Add(2 * time.Hour)); !errors.Is(err, errExpired) {
		t.Fatalf("checkTimes after expiry = %v", err)
	}
	if err := got.checkTimes(e.Sent.Add(-time.Hour)); err == nil {
		t.Fatal("envelope from an hour ahead accepted")
	}
}

// TestSignMatchesLibp2p: envelopes are signed with curve25519-voi; its
// signatures are those libp2p's key (crypto/ed25519) makes, byte for byte,
// and a key of another type still signs as libp2p does.
func TestSignMatchesLibp2p(t *testing.T) {
	for i := range 20 {
		priv, _ := testKey(t)
		for _, n := range []int{0, 1, 63, 64, 65, 200 + i, 4096} {
			msg := make([]byte, n)
			_, _ = rand.Read(msg)
			got, err := sign(priv, msg)
			if err != nil {
				t.Fatal(err)
			}
			want, err := priv.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("signature of %d bytes differs from libp2p's:\n%x\n%x", n, got, want)
			}
		}
	}
	other, pub, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sign(other, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := pub.Verify([]byte("m"), sig); err != nil || !ok {
		t.Fatalf("a secp256k1 key's signature does not verify: %v, %v", ok, err)
	}
}

func TestContentPadding(t *testing.T) {
	for _, n := range []int{0, 1, 200, 300, 5000, MaxText} {
		c := content{Kind: kindText, Text: strings.Repeat("x", n)}
		b, err := c.encode()
		if err != nil {
			t.Fatal(err)
		}
		if bucketFor(len(b)) != len(b) {
			t.Fatalf("text of %d padded to %d, not a bucket", n, len(b))
		}
		got, err := decodeContent(b)
		if err != nil || got.Text != c.Text || got.Kind != kindText {
			t.Fatalf("round trip of %d bytes: %v", n, err)
		}
		b[len(b)-1] = 1
		if n < MaxText {
			if _, err := decodeContent(b); err == nil {
				t.Fatalf("non-zero padding accepted for %d bytes", n)
			}
		}
	}
	if _, err := (content{Kind: kindText, Text: strings.Repeat("x", MaxText+1)}).encode(); err == nil {
		t.Fatal("over-long text accepted")
	}
	tb, _ := content{Kind: kindTimer, Timer: 7 * 24 * time.Hour}.encode()
	if got, err := decodeContent(tb); err != nil || got.Timer != 7*24*time.Hour || len(tb) != 256 {
		t.Fatalf("timer round trip: %+v, %v, %d bytes", got, err, len(tb))
	}
}

func TestMailboxRequestRoundTrip(t *testing.T) {
	priv, owner := testKey(t)
	_, other := testKey(t)
	now := time.Now()
	ids := []MsgID{{1}, {2}}
	for _, q := range []*mailboxReq{
		{Op: opFetch, Owner: owner, Signer: owner, At: now},
		{Op: opDelete, Signer: owner, Owner: other, At: now, IDs: ids},
	} {
		raw, err := q.encodeSigned(priv)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeMailboxReq(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.Op != q.Op || got.Owner != q.Owner || got.Signer != q.Signer || len(got.IDs) != len(q.IDs) {
			t.Fatalf("decoded %+v, want %+v", got, q)
		}
		if err := got.verify(now); err != nil {
			t.Fatal(err)
		}
		if err := got.verify(now.Add(time.Hour)); err == nil {
			t.Fatal("an hour-old request verified")
		}
		bad := bytes.Clone(raw)
		bad[len(bad)-sigLen-1] ^= 1
		if g, err := decodeMailboxReq(bad); err == nil && g.verify(now) == nil {
			t.Fatal("tampered request verified")
		}
	}
	// A fetch for owner signed by another key does not verify.
	_, stranger := testKey(t)
	otherPriv, _ := testKey(t)
	raw, _ := (&mailboxReq{Op: opFetch, Owner: stranger, At: now}).encodeSigned(otherPriv)
	if g, err := decodeMailboxReq(raw); err != nil || g.verify(now) == nil {
		t.Fatalf("fetch signed by a non-owner: %v", err)
	}
	_, env, _ := testEnvelope(t)
	put := (&mailboxReq{Op: opPut, Envelope: env}).body()
	if g, err := decodeMailboxReq(put); err != nil || !bytes.Equal(g.Envelope, env) {
		t.Fatalf("put round trip: %v", err)
	}
}

func TestResponseRoundTrip(t *testing.T) {
	r, err := decodeResponse(encodeFetchResponse(true, [][]byte{[]byte("a"), []byte("bc")}), opFetch)
	if err != nil || !r.More || len(r.Items) != 2 || string(r.Items[1]) != "bc" {
		t.Fatalf("fetch response: %+v, %v", r, err)
	}
	if r, err := decodeResponse(encodeDeleteResponse(7), opDelete); err != nil || r.Count != 7 {
		t.Fatalf("delete response: %+v, %v", r, err)
	}
	if r, err := decodeResponse(encodeResponse(statusQuota, "full"), opPut); err != nil || r.Status != statusQuota || r.Reason != "full" {
		t.Fatalf("put response: %+v, %v", r, err)
	}
	if _, err := decodeResponse([]byte{9, 0}, 0); err == nil {
		t.Fatal("unknown status accepted")
	}
}

func TestHolderQuotas(t *testing.T) {
	s := &Service{cfg: Config{Holder: HolderLimits{MaxItemsPerSender: 2, MaxBytesPerSender: 1 << 20, MaxBytes: 1 << 20, MaxAge: time.Hour}}}
	s.cfg.setDefaults()
	openTestSpace(t, s)
	priv, sender := testKey(t)
	_, rcpt := testKey(t)
	put := func(ttl time.Duration, sent time.Time) byte {
		id, _ := newMsgID()
		e := &envelope{Sender: sender, Recipient: rcpt, ID: id, Sent: time.UnixMilli(sent.UnixMilli()), TTL: ttl, Body: make([]byte, 300)}
		raw, err := e.seal(priv)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := s.holdPut(sender, raw, time.Now())
		return st
	}
	now := time.Now()
	if st := put(0, now.Add(-2*time.Hour)); st != statusRejected {
		t.Fatalf("put older than the maximum age: %d", st)
	}
	if put(time.Minute, now) != statusOK || put(0, now) != statusOK {
		t.Fatal("puts within quota refused")
	}
	if st := put(0, now); st != statusQuota {
		t.Fatalf("third put: status %d, want quota", st)
	}
	// The holder drops items at the message's expiry or its maximum age.
	if err := s.sweepHeld(now.Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := heldCount(t, s); n != 1 {
		t.Fatalf("after the 1-minute item expired %d held, want 1", n)
	}
	if put(0, now) != statusOK {
		t.Fatal("put after expiry freed the quota refused")
	}
	if err := s.sweepHeld(now.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := heldCount(t, s); n != 0 || s.holder.total != 0 || len(s.holder.usage) != 0 {
		t.Fatalf("after the maximum age: %d held, usage %+v", n, s.holder.usage)
	}
}
