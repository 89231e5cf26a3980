package chat

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// Client is the chat part of a node's API, for the CLI and scripts.
type Client struct{ c *apiutil.Client }

// NewClient wraps an API client.
func NewClient(c *apiutil.Client) *Client { return &Client{c: c} }

// FormatTTL renders a timer for the API ("" for none).
func FormatTTL(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// Send calls POST /api/v1/chat/send. ttl 0 uses the conversation's default.
func (c *Client) Send(ctx context.Context, to, text string, ttl time.Duration) (*Message, error) {
	var m Message
	return &m, c.c.Post(ctx, "/api/v1/chat/send", SendRequest{To: to, Text: text, TTL: FormatTTL(ttl)}, &m)
}

// Inbox calls GET /api/v1/chat/inbox.
func (c *Client) Inbox(ctx context.Context) (*Inbox, error) {
	var in Inbox
	return &in, c.c.Get(ctx, "/api/v1/chat/inbox", &in)
}

// Messages calls GET /api/v1/chat/messages: the messages with peer after
// cursor since (0: all), marking them read. For a follow mode, call it again
// with the page's Next.
func (c *Client) Messages(ctx context.Context, with string, since uint64) (*MessagePage, error) {
	var p MessagePage
	path := "/api/v1/chat/messages?with=" + url.QueryEscape(with) + "&since=" + strconv.FormatUint(since, 10)
	return &p, c.c.Get(ctx, path, &p)
}

// SetTimer calls POST /api/v1/chat/timer; ttl 0 turns the timer off.
func (c *Client) SetTimer(ctx context.Context, with string, ttl time.Duration) (*Message, error) {
	v := FormatTTL(ttl)
	if v == "" {
		v = "off"
	}
	var m Message
	return &m, c.c.Post(ctx, "/api/v1/chat/timer", TimerRequest{With: with, TTL: v}, &m)
}

// DeleteConversation calls DELETE /api/v1/chat/conversations/{peer}.
func (c *Client) DeleteConversation(ctx context.Context, with string) (*DeleteResult, error) {
	var r DeleteResult
	return &r, c.c.Do(ctx, http.MethodDelete, "/api/v1/chat/conversations/"+url.PathEscape(with), nil, &r)
}

// Fetch calls POST /api/v1/chat/fetch: collect the mailbox now.
func (c *Client) Fetch(ctx context.Context) (*FetchResult, error) {
	var r FetchResult
	return &r, c.c.Post(ctx, "/api/v1/chat/fetch", struct{}{}, &r)
}
