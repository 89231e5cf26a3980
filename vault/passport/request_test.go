package passport

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func testPeer(t testing.TB, seed byte) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(make32(seed)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

func make32(b byte) []byte {
	s := make([]byte, 32)
	for i := range s {
		s[i] = b
	}
	return s
}

func testRequest(t testing.TB) *Request {
	_, id := testPeer(t, 1)
	return &Request{
		ServiceID: id,
		Scope:     json.RawMessage(`{"v":1,"data":["pd",{"one_of":["pp","ic"],"selfie":true}]}`),
		PublicKey: mustPEM(t, serviceKey(t)),
		Nonce:     "n0nce-1",
		Callback:  "https://example.com/done?x=1&y=2",
	}
}

func TestLinkRoundTrip(t *testing.T) {
	r := testRequest(t)
	link := r.Link()
	if !strings.HasPrefix(link, "tonmesh://passport?") || strings.Contains(link, " ") || strings.Contains(link, "\n") {
		t.Fatalf("link %q is not a URL-encoded tonmesh://passport link", link)
	}
	back, err := ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	if back.ServiceID != r.ServiceID || string(back.Scope) != string(r.Scope) || back.PublicKey != r.PublicKey || back.Nonce != r.Nonce || back.Callback != r.Callback {
		t.Fatalf("round trip: %+v\nwant %+v", back, r)
	}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeRequest(b)
	if err != nil || dec.Link() != link {
		t.Fatalf("DecodeRequest: %v", err)
	}
}

func TestRequestErrors(t *testing.T) {
	cases := map[string]func(r *Request){
		"nonce":          func(r *Request) { r.Nonce = "" },
		"nonce: \"a b\"": func(r *Request) { r.Nonce = "a b" },
		"callback":       func(r *Request) { r.Callback = "javascript:alert(1)" },
		"public key":     func(r *Request) { r.PublicKey = "not pem" },
		"scope":          func(r *Request) { r.Scope = json.RawMessage(`{"v":1,"data":["visa"]}`) },
		"service":        func(r *Request) { r.ServiceID = "" },
	}
	for want, edit := range cases {
		r := testRequest(t)
		edit(r)
		if _, err := r.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Validate() = %v", want, err)
		}
	}
	for _, link := range []string{
		"https://passport?service=x",
		"tonmesh://other?service=x",
		testRequest(t).Link() + "&nonce=again",
		testRequest(t).Link() + "&extra=1",
	} {
		if _, err := ParseLink(link); err == nil {
			t.Errorf("ParseLink(%.60q…) accepted", link)
		}
	}
	if _, err := DecodeRequest([]byte(`{"service":"x","unknown":1}`)); err == nil {
		t.Error("DecodeRequest accepted an unknown field")
	}
}
