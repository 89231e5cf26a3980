package share

import (
	"context"
	"net/url"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Client is the passport sharing part of a node's API, for the CLI.
type Client struct{ c *apiutil.Client }

// NewClient wraps an API client.
func NewClient(c *apiutil.Client) *Client { return &Client{c: c} }

// NewRequest calls POST /api/v1/passport/requests/new.
func (c *Client) NewRequest(ctx context.Context, b NewRequestBody) (*NewRequestResult, error) {
	var r NewRequestResult
	return &r, c.c.Post(ctx, "/api/v1/passport/requests/new", b, &r)
}

// Issued calls GET /api/v1/passport/requests/issued.
func (c *Client) Issued(ctx context.Context) ([]IssuedView, error) {
	var v []IssuedView
	return v, c.c.Get(ctx, "/api/v1/passport/requests/issued", &v)
}

// AddLink calls POST /api/v1/passport/requests.
func (c *Client) AddLink(ctx context.Context, link string) (*PendingView, error) {
	var v PendingView
	return &v, c.c.Post(ctx, "/api/v1/passport/requests", AddLinkBody{Link: link}, &v)
}

// Pending calls GET /api/v1/passport/requests.
func (c *Client) Pending(ctx context.Context) ([]PendingView, error) {
	var v []PendingView
	return v, c.c.Get(ctx, "/api/v1/passport/requests", &v)
}

// Approve calls POST /api/v1/passport/requests/{id}/approve.
func (c *Client) Approve(ctx context.Context, id string, attestations bool) (*ShareSummary, error) {
	var v ShareSummary
	return &v, c.c.Post(ctx, "/api/v1/passport/requests/"+url.PathEscape(id)+"/approve", ApproveBody{Attestations: attestations}, &v)
}

// Decline calls POST /api/v1/passport/requests/{id}/decline.
func (c *Client) Decline(ctx context.Context, id string) (*DeclineResult, error) {
	var v DeclineResult
	return &v, c.c.Post(ctx, "/api/v1/passport/requests/"+url.PathEscape(id)+"/decline", struct{}{}, &v)
}

// Shares calls GET /api/v1/passport/shares.
func (c *Client) Shares(ctx context.Context) ([]ShareRecord, error) {
	var v []ShareRecord
	return v, c.c.Get(ctx, "/api/v1/passport/shares", &v)
}

// Errors calls GET /api/v1/passport/errors.
func (c *Client) Errors(ctx context.Context) ([]ErrorReport, error) {
	var v []ErrorReport
	return v, c.c.Get(ctx, "/api/v1/passport/errors", &v)
}

// Attestations calls GET /api/v1/passport/attestations.
func (c *Client) Attestations(ctx context.Context) ([]AttestationView, error) {
	var v []AttestationView
	return v, c.c.Get(ctx, "/api/v1/passport/attestations", &v)
}

// Received calls GET /api/v1/passport/received.
func (c *Client) Received(ctx context.Context) ([]ReceivedView, error) {
	var v []ReceivedView
	return v, c.c.Get(ctx, "/api/v1/passport/received", &v)
}

// Decrypt calls POST /api/v1/passport/received/decrypt (id "" for all).
func (c *Client) Decrypt(ctx context.Context, privateKeyPEM, id string) ([]DecryptedShare, error) {
	var v []DecryptedShare
	return v, c.c.Post(ctx, "/api/v1/passport/received/decrypt", DecryptBody{PrivateKey: privateKeyPEM, ID: id}, &v)
}

// File calls GET /api/v1/passport/received/{id}/files/{file_id}: the
// encrypted bytes of one delivered file.
func (c *Client) File(ctx context.Context, id, fileID string) (*FileBody, error) {
	var v FileBody
	return &v, c.c.Get(ctx, "/api/v1/passport/received/"+url.PathEscape(id)+"/files/"+url.PathEscape(fileID), &v)
}

// SendErrors calls POST /api/v1/passport/received/{id}/errors.
func (c *Client) SendErrors(ctx context.Context, id string, errs []passport.PassportElementError) (*SentResult, error) {
	var v SentResult
	return &v, c.c.Post(ctx, "/api/v1/passport/received/"+url.PathEscape(id)+"/errors", ErrorsBody{Errors: errs}, &v)
}

// Attest calls POST /api/v1/passport/received/{id}/attest.
func (c *Client) Attest(ctx context.Context, id, typ, privateKeyPEM string) (*passport.Attestation, error) {
	v, err := c.AttestClaims(ctx, id, typ, privateKeyPEM, nil)
	if err != nil {
		return nil, err
	}
	return v.Attestation, nil
}

// AttestClaims calls POST /api/v1/passport/received/{id}/attest with claims
// to derive (names, or ["all"]).
func (c *Client) AttestClaims(ctx context.Context, id, typ, privateKeyPEM string, claims []string) (*AttestationView, error) {
	var v AttestationView
	return &v, c.c.Post(ctx, "/api/v1/passport/received/"+url.PathEscape(id)+"/attest", AttestBody{Type: typ, PrivateKey: privateKeyPEM, Claims: claims}, &v)
}
