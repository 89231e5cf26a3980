package node

import (
	"context"
	"net/http"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// Client talks to a running node's HTTP API. The CLI's commands use it; so
// can any program that has the node's API URL and token. Services add their
// own typed calls on the embedded apiutil.Client.
type Client struct {
	*apiutil.Client
}

// NewClient returns a client for the API at baseURL (e.g. http://127.0.0.1:5080).
func NewClient(baseURL, token string) *Client {
	return &Client{apiutil.NewClient(baseURL, token)}
}

// ClientForHome reads the API URL and token of the daemon running on home.
func ClientForHome(h Home) (*Client, error) {
	url, err := h.APIURL()
	if err != nil {
		return nil, err
	}
	token, err := h.Token()
	if err != nil {
		return nil, err
	}
	return NewClient(url, token), nil
}

// APIError is an error answer from the API.
type APIError = apiutil.APIError

// Health calls GET /healthz.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	return &h, c.Get(ctx, "/healthz", &h)
}

// ID calls GET /api/v1/id.
func (c *Client) ID(ctx context.Context) (*IDInfo, error) {
	var info IDInfo
	return &info, c.Get(ctx, "/api/v1/id", &info)
}

// Peers calls GET /api/v1/peers.
func (c *Client) Peers(ctx context.Context) ([]PeerInfo, error) {
	var resp PeersResponse
	if err := c.Get(ctx, "/api/v1/peers", &resp); err != nil {
		return nil, err
	}
	return resp.Peers, nil
}

// IsUnauthorized reports whether err is the API refusing the token.
func IsUnauthorized(err error) bool { return apiutil.IsStatus(err, http.StatusUnauthorized) }
