package service

import (
	"context"
	"net/url"
	"strconv"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/anchor"
)

// Client is the ledger part of a node's API, for the CLI and scripts.
type Client struct{ c *apiutil.Client }

// NewClient wraps an API client.
func NewClient(c *apiutil.Client) *Client { return &Client{c: c} }

// Balance calls GET /api/v1/ledger/balance: the node's wallet, or any
// account when addr is not empty.
func (c *Client) Balance(ctx context.Context, addr ...string) (*Balance, error) {
	path := "/api/v1/ledger/balance"
	if len(addr) > 0 && addr[0] != "" {
		path += "?address=" + url.QueryEscape(addr[0])
	}
	var b Balance
	return &b, c.c.Get(ctx, path, &b)
}

// Send calls POST /api/v1/ledger/send.
func (c *Client) Send(ctx context.Context, req SendRequest) (*SendResult, error) {
	var r SendResult
	return &r, c.c.Post(ctx, "/api/v1/ledger/send", req, &r)
}

// Faucet calls POST /api/v1/ledger/faucet.
func (c *Client) Faucet(ctx context.Context, amountTON string) (*Balance, error) {
	var b Balance
	return &b, c.c.Post(ctx, "/api/v1/ledger/faucet", FaucetRequest{Amount: amountTON}, &b)
}

// History calls GET /api/v1/ledger/history.
func (c *Client) History(ctx context.Context, limit int) ([]HistoryEntry, error) {
	var h []HistoryEntry
	return h, c.c.Get(ctx, "/api/v1/ledger/history?limit="+strconv.Itoa(limit), &h)
}

// HistoryBefore calls GET /api/v1/ledger/history for the page of
// transactions older than the one at logical time before (0: the newest).
func (c *Client) HistoryBefore(ctx context.Context, limit int, before uint64) ([]HistoryEntry, error) {
	var h []HistoryEntry
	q := "/api/v1/ledger/history?limit=" + strconv.Itoa(limit)
	if before > 0 {
		q += "&before=" + strconv.FormatUint(before, 10)
	}
	return h, c.c.Get(ctx, q, &h)
}

// Deposits calls GET /api/v1/ledger/deposits.
func (c *Client) Deposits(ctx context.Context) ([]DepositView, error) {
	var d []DepositView
	return d, c.c.Get(ctx, "/api/v1/ledger/deposits", &d)
}

// Channels calls GET /api/v1/ledger/channels.
func (c *Client) Channels(ctx context.Context) ([]ChannelView, error) {
	var l []ChannelView
	return l, c.c.Get(ctx, "/api/v1/ledger/channels", &l)
}

// OpenChannel calls POST /api/v1/ledger/channels.
func (c *Client) OpenChannel(ctx context.Context, req OpenChannelRequest) (*ChannelActionResult, error) {
	var r ChannelActionResult
	return &r, c.c.Post(ctx, "/api/v1/ledger/channels", req, &r)
}

// ChannelAction calls POST /api/v1/ledger/channels/{id}/{action}; amount is
// used by "pay" and "topup".
func (c *Client) ChannelAction(ctx context.Context, id, action, amountTON string) (*ChannelActionResult, error) {
	var r ChannelActionResult
	return &r, c.c.Post(ctx, "/api/v1/ledger/channels/"+url.PathEscape(id)+"/"+action, ChannelActionRequest{Amount: amountTON}, &r)
}

// Journal calls GET /api/v1/ledger/journal.
func (c *Client) Journal(ctx context.Context, after uint64) ([]JournalEntry, error) {
	var j []JournalEntry
	return j, c.c.Get(ctx, "/api/v1/ledger/journal?after="+strconv.FormatUint(after, 10), &j)
}

// Anchors calls GET /api/v1/ledger/anchors.
func (c *Client) Anchors(ctx context.Context) ([]*anchor.Anchor, error) {
	var a []*anchor.Anchor
	return a, c.c.Get(ctx, "/api/v1/ledger/anchors", &a)
}

// AnchorNow calls POST /api/v1/ledger/anchors.
func (c *Client) AnchorNow(ctx context.Context) (*anchor.Anchor, error) {
	var a anchor.Anchor
	return &a, c.c.Post(ctx, "/api/v1/ledger/anchors", struct{}{}, &a)
}

// Verify calls GET /api/v1/ledger/verify/{seq}.
func (c *Client) Verify(ctx context.Context, seq uint64) (*Verification, error) {
	var v Verification
	return &v, c.c.Get(ctx, "/api/v1/ledger/verify/"+strconv.FormatUint(seq, 10), &v)
}
