package share

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

func apiClient(t *testing.T, s *Service) *Client {
	t.Helper()
	mux := http.NewServeMux()
	s.Routes(func(p string, h http.Handler) { mux.Handle(p, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return NewClient(apiutil.NewClient(srv.URL, "token"))
}

func TestHTTPFlow(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	svcAPI, userAPI := apiClient(t, c.svc), apiClient(t, c.user)
	priv, pub := serviceKeys(t)

	// The scope may also be a JSON string holding the scope.
	res, err := svcAPI.NewRequest(ctx, NewRequestBody{Scope: json.RawMessage(`"[\"address\"]"`), PublicKey: pub, Callback: "https://bank.example/kyc"})
	if err != nil || res.Delivered {
		t.Fatalf("new request: %+v, %v", res, err)
	}
	v, err := userAPI.AddLink(ctx, res.Link)
	if err != nil || v.ID != res.ID || v.Callback != "https://bank.example/kyc" || len(v.Asks) != 1 || v.Asks[0].Type != passport.TypeAddress {
		t.Fatalf("add link: %+v, %v", v, err)
	}
	pend, err := userAPI.Pending(ctx)
	if err != nil || !containsID(pend, res.ID) {
		t.Fatalf("pending: %+v, %v", pend, err)
	}
	sum, err := userAPI.Approve(ctx, res.ID, false)
	if err != nil || len(sum.Types) != 1 {
		t.Fatalf("approve: %+v, %v", sum, err)
	}
	recv, err := svcAPI.Received(ctx)
	if err != nil || len(recv) == 0 {
		t.Fatalf("received: %v", err)
	}
	dec, err := svcAPI.Decrypt(ctx, priv, res.ID)
	if err != nil || len(dec) != 1 || dec[0].Elements[0].Data["street_line1"] != "Hauptstr. 5" {
		t.Fatalf("decrypt: %+v, %v", dec, err)
	}
	shares, err := userAPI.Shares(ctx)
	if err != nil || len(shares) == 0 {
		t.Fatalf("shares: %v", err)
	}
	sent, err := svcAPI.SendErrors(ctx, res.ID, []passport.PassportElementError{{Source: passport.SourceData, Type: passport.TypeAddress, FieldName: "post_code", DataHash: "aGFzaA==", Message: "Wrong post code"}})
	if err != nil || sent.Sent != 1 {
		t.Fatalf("send errors: %+v, %v", sent, err)
	}
	reps, err := userAPI.Errors(ctx)
	if err != nil || len(reps) == 0 {
		t.Fatalf("errors: %v", err)
	}
	if _, err := svcAPI.Attest(ctx, res.ID, "ad", ""); err != nil {
		t.Fatalf("attest: %v", err)
	}
	if atts, err := userAPI.Attestations(ctx); err != nil || len(atts) == 0 {
		t.Fatalf("attestations: %+v, %v", atts, err)
	}
	if iss, err := svcAPI.Issued(ctx); err != nil || len(iss) == 0 {
		t.Fatalf("issued: %v", err)
	}

	// 4xx answers name what to fix.
	for _, tc := range []struct {
		call   func() error
		status int
		want   string
	}{
		{func() error {
			_, err := svcAPI.NewRequest(ctx, NewRequestBody{Scope: json.RawMessage(`{"v":1,"data":["visa"]}`), PublicKey: pub})
			return err
		}, 400, "scope: data[0]"},
		{func() error {
			_, err := svcAPI.NewRequest(ctx, NewRequestBody{Scope: json.RawMessage(`["pd"]`), PublicKey: "nope"})
			return err
		}, 400, "public key"},
		{func() error {
			_, err := svcAPI.NewRequest(ctx, NewRequestBody{Scope: json.RawMessage(`["pd"]`), PublicKey: pub, Nonce: res.Nonce})
			return err
		}, 409, "issued already"},
		{func() error { _, err := svcAPI.NewRequest(ctx, NewRequestBody{PublicKey: pub}); return err }, 400, "scope: missing"},
		{func() error { _, err := userAPI.Approve(ctx, strings.Repeat("ab", 16), false); return err }, 404, "no pending request"},
		{func() error { _, err := userAPI.Approve(ctx, "xyz", false); return err }, 400, "32-hex-digit"},
		{func() error { _, err := userAPI.Approve(ctx, res.ID, false); return err }, 409, "answered already"},
		{func() error { _, err := userAPI.AddLink(ctx, "https://example.com"); return err }, 400, "tonmesh://passport"},
		{func() error { _, err := svcAPI.Decrypt(ctx, "not a key", ""); return err }, 400, "private key"},
		{func() error { _, err := svcAPI.Attest(ctx, res.ID, "visa", ""); return err }, 400, "unknown element type"},
	} {
		err := tc.call()
		var ae *apiutil.APIError
		if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("got %v, want %d mentioning %q", err, tc.status, tc.want)
		}
	}
}

func containsID(ps []PendingView, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}
