package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to a running node's HTTP API. The CLI's commands use it; so
// can any program that has the node's API URL and token.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the API at baseURL (e.g. http://127.0.0.1:5080).
func NewClient(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
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
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("API answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Get fetches path and decodes the JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Do sends a request with an optional JSON body and decodes the JSON answer into out (if non-nil).
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the daemon at %s (is `tonmesh daemon` running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", c.base, err)
	}
	if resp.StatusCode >= 400 {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Message != "" {
			return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(data))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer from %s%s: %w", c.base, path, err)
	}
	return nil
}

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
func IsUnauthorized(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}
