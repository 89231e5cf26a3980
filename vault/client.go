package vault

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Client is the vault part of a node's API, for the CLI and scripts.
type Client struct{ c *apiutil.Client }

// NewClient wraps an API client.
func NewClient(c *apiutil.Client) *Client { return &Client{c: c} }

func elementPath(t passport.ElementType) string {
	return "/api/v1/passport/elements/" + url.PathEscape(string(t))
}

// Add calls POST /api/v1/passport/elements.
func (c *Client) Add(ctx context.Context, e *passport.Element) (*ElementInfo, error) {
	var info ElementInfo
	return &info, c.c.Post(ctx, "/api/v1/passport/elements", e, &info)
}

// Upload calls PUT /api/v1/passport/elements/{type}/content with e's
// binary encoding, written into the request as it is sent: a third
// smaller than Add's base64 in JSON, and stored by the daemon as it
// arrives, without holding e whole.
func (c *Client) Upload(ctx context.Context, e *passport.Element) (*ElementInfo, error) {
	body := e.Encoding()
	defer body.Close() // an answer before the whole body: the writer stops
	var info ElementInfo
	return &info, c.c.Upload(ctx, http.MethodPut, elementPath(e.Type)+"/content", ContentType, body, int64(e.Size()), &info)
}

// List calls GET /api/v1/passport/elements.
func (c *Client) List(ctx context.Context) ([]ElementInfo, error) {
	var list []ElementInfo
	if err := c.c.Get(ctx, "/api/v1/passport/elements", &list); err != nil {
		return nil, err
	}
	return list, nil
}

// Element calls GET /api/v1/passport/elements/{type}.
func (c *Client) Element(ctx context.Context, t passport.ElementType) (*passport.Element, error) {
	var e passport.Element
	return &e, c.c.Get(ctx, elementPath(t), &e)
}

// Fields calls GET /api/v1/passport/elements/{type}/fields: the element's
// type, data and value, without its files.
func (c *Client) Fields(ctx context.Context, t passport.ElementType) (*passport.Element, error) {
	var e passport.Element
	return &e, c.c.Get(ctx, elementPath(t)+"/fields", &e)
}

// ReadElement calls GET /api/v1/passport/elements/{type}/content and
// decodes the element as it arrives, handing each file to file
// (passport.DecodeElementFrom): the element is never held whole. The
// element returned has its files' names and MIME types, not their bytes.
// An answer cut off midway is an error (the daemon lost its holders, or
// the connection): whatever file kept of it is not the element.
func (c *Client) ReadElement(ctx context.Context, t passport.ElementType, file passport.FileFunc) (*passport.Element, error) {
	resp, err := c.c.Stream(ctx, http.MethodGet, elementPath(t)+"/content", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		return nil, fmt.Errorf("GET %s/content answered %q, want %s (is the daemon older than this client?)", elementPath(t), ct, ContentType)
	}
	return passport.DecodeElementFrom(resp.Body, file)
}

// Delete calls DELETE /api/v1/passport/elements/{type}.
func (c *Client) Delete(ctx context.Context, t passport.ElementType) (*DeleteResult, error) {
	var r DeleteResult
	return &r, c.c.Do(ctx, http.MethodDelete, elementPath(t), nil, &r)
}

// Holders calls GET /api/v1/passport/elements/{type}/holders: a live check
// of every shard's holder.
func (c *Client) Holders(ctx context.Context, t passport.ElementType) ([]HolderView, error) {
	var hs []HolderView
	if err := c.c.Get(ctx, elementPath(t)+"/holders", &hs); err != nil {
		return nil, err
	}
	return hs, nil
}

// Restore calls POST /api/v1/passport/restore.
func (c *Client) Restore(ctx context.Context) (*RestoreResult, error) {
	var r RestoreResult
	return &r, c.c.Post(ctx, "/api/v1/passport/restore", struct{}{}, &r)
}

// Audit calls POST /api/v1/passport/audit: one check-and-repair pass now.
func (c *Client) Audit(ctx context.Context) (*AuditReport, error) {
	var r AuditReport
	return &r, c.c.Post(ctx, "/api/v1/passport/audit", struct{}{}, &r)
}
