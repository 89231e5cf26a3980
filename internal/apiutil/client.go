package apiutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxAnswer bounds a JSON answer the client reads: the largest passport
// element, 430 MiB, is about 574 MiB as base64 in JSON.
const maxAnswer = 600 << 20

// Client calls a running node's API with its bearer token. Service packages
// build their typed client calls on it.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the API at baseURL (e.g. http://127.0.0.1:5080).
func NewClient(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{Timeout: 2 * time.Minute}}
}

// BaseURL is the API's base URL.
func (c *Client) BaseURL() string { return c.base }

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

// Post sends in as JSON to path and decodes the JSON answer into out.
func (c *Client) Post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	return c.Do(ctx, http.MethodPost, path, bytes.NewReader(body), out)
}

// Do sends a request with an optional JSON body and decodes the JSON answer into out (if non-nil).
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := c.request(ctx, method, path, body, "application/json")
	if err != nil {
		return err
	}
	return c.answer(c.http, req, out)
}

// Upload sends size bytes of body, of media type contentType, to path as
// they are read, with no overall timeout (cancel ctx to stop), and decodes
// the JSON answer into out (if non-nil).
func (c *Client) Upload(ctx context.Context, method, path, contentType string, body io.Reader, size int64, out any) error {
	req, err := c.request(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	req.ContentLength = size
	return c.answer(&http.Client{}, req, out)
}

// answer does req and decodes its JSON answer into out (if non-nil).
func (c *Client) answer(hc *http.Client, req *http.Request, out any) error {
	resp, err := c.send(hc, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", c.base, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer from %s%s: %w", c.base, req.URL.Path, err)
	}
	return nil
}

// Stream sends a request with an optional JSON body and returns the open
// response for the caller to read as it arrives (server-sent events), with
// no overall timeout: cancel ctx to stop. Error answers are returned as
// *APIError, with the body closed.
func (c *Client) Stream(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := c.request(ctx, method, path, body, "application/json")
	if err != nil {
		return nil, err
	}
	return c.send(&http.Client{}, req)
}

// request builds a request to path with the client's token; a body is of
// media type contentType.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	return req, nil
}

// send does req and turns an error status into *APIError.
func (c *Client) send(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the daemon at %s (is `tonmesh daemon` running?): %w", c.base, err)
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer from %s: %w", c.base, err)
	}
	var eb ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error.Message != "" {
		return nil, &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	return nil, &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(data))}
}

// IsStatus reports whether err is an API answer with the given status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
