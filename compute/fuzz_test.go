package compute

import (
	"bytes"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/compute/seal"
)

// testKey is a peer key for signing test statements.
func testKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(k)
	return k, id
}

// testOffer is a valid offer by id, issued now.
func testOffer(t testing.TB, id peer.ID, now time.Time) *Offer {
	t.Helper()
	hk, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &Offer{Peer: id.String(), Models: []OfferModel{{ID: "m", WeightsHash: "sha256:00"}},
		PricePrompt: "1000", PriceCompletion: "2000", Concurrency: 2, HPKEKey: hk.Public(),
		KeyExpiry: now.Add(time.Hour).Unix(), Evidence: Evidence{Kind: "none"},
		Issued: now.UnixMilli(), Expires: now.Add(30 * time.Second).UnixMilli()}
}

func FuzzDecodeGossip(f *testing.F) {
	k, id := testKey(f)
	now := time.Now()
	offer, _ := sign(k, kindOffer, testOffer(f, id, now))
	wd, _ := sign(k, kindWithdraw, &withdrawal{Peer: id.String(), Issued: now.UnixMilli()})
	px, _ := sign(k, kindProxy, &proxyAnnouncement{Peer: id.String(), CommissionBP: 500, Issued: now.UnixMilli(), Expires: now.Add(time.Minute).UnixMilli()})
	rc, _ := sign(k, kindReceipt, &Receipt{Peer: id.String(), RequestID: "r", Model: "m", PricePrompt: "1", PriceCompletion: "2"})
	for _, b := range [][]byte{offer, wd, px, rc, {signedVersion, kindOffer, 0}, {}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSigned(b)
		if err == nil && !bytes.Equal(s.encode(), b) {
			t.Fatal("a decoded statement re-encodes differently")
		}
		it, err := decodeGossip(b, "", now)
		if err != nil {
			return
		}
		if it.offer == nil && it.withdraw == nil && it.proxy == nil {
			t.Fatal("an accepted statement carries nothing")
		}
		if it.offer != nil {
			if err := it.offer.check(now); err != nil {
				t.Fatalf("an accepted offer fails its check: %v", err)
			}
		}
	})
}

func FuzzOpenOffer(f *testing.F) {
	k, id := testKey(f)
	now := time.Now()
	offer, _ := sign(k, kindOffer, testOffer(f, id, now))
	f.Add(offer)
	f.Add(offer[:len(offer)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		o, signer, err := openOffer(b, now)
		if err != nil {
			return
		}
		if o.Peer != signer.String() {
			t.Fatalf("offer by %s verified as signed by %s", o.Peer, signer)
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range []*message{
		{Type: msgRoute, Head: []byte(`{"request_id":"r","model":"m","max_tokens":5,"prompt_bytes":10}`)},
		{Type: msgEnvelope, Head: []byte(`{"max_tokens":5}`), Body: []byte{1, 2, 3}},
		{Type: msgFinal, Head: []byte(`{"receipt":"AQI="}`), Body: []byte{9}},
		{Type: msgError, Head: []byte(`{"code":"x","message":"y"}`)},
		{Type: msgPaid, Head: []byte(`{"request_id":"r","amount":"1"}`)},
	} {
		f.Add(m.encode())
	}
	f.Add([]byte{msgVersion, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.encode(), b) {
			t.Fatal("a decoded message re-encodes differently")
		}
		// Every head decoder must refuse or accept without panicking.
		var (
			r  routeHead
			o  offerHead
			rf refuseHead
			w  workHead
			fh finalHead
			rt retryHead
			e  errorHead
			bh billHead
			p  paidHead
		)
		for _, v := range []any{&r, &o, &rf, &w, &fh, &rt, &e, &bh, &p} {
			_ = m.decodeHead(v)
		}
		if m.decodeHead(&fh) == nil && len(fh.Receipt) > 0 {
			_, _ = openReceipt(fh.Receipt, "", &Offer{}, "", "", 0)
			_, _ = openSealedReceipt(fh.Receipt, "", &Offer{}, "", "", 0)
		}
	})
}
