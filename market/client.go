package market

import (
	"context"
	"net/url"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// Client is the market part of a node's API, for the CLI and scripts:
// one method per route.
type Client struct{ c *apiutil.Client }

// NewClient wraps an API client.
func NewClient(c *apiutil.Client) *Client { return &Client{c: c} }

// Auctions calls GET /api/v1/market/auctions (`market list`).
func (c *Client) Auctions(ctx context.Context) ([]AuctionInfo, error) {
	var out []AuctionInfo
	return out, c.c.Get(ctx, "/api/v1/market/auctions", &out)
}

// Show calls GET /api/v1/market/assets/{asset} (`market show`).
func (c *Client) Show(ctx context.Context, asset string) (*AssetInfo, error) {
	var out AssetInfo
	return &out, c.c.Get(ctx, "/api/v1/market/assets/"+url.PathEscape(asset), &out)
}

// StartAuction calls POST /api/v1/market/auctions (`market auction start`).
func (c *Client) StartAuction(ctx context.Context, req StartRequest) (*AuctionInfo, error) {
	var out AuctionInfo
	return &out, c.c.Post(ctx, "/api/v1/market/auctions", req, &out)
}

// Bid calls POST /api/v1/market/bids (`market bid ASSET AMOUNT`); amount in TON.
func (c *Client) Bid(ctx context.Context, asset, amount string) (*AuctionInfo, error) {
	var out AuctionInfo
	return &out, c.c.Post(ctx, "/api/v1/market/bids", BidRequest{Asset: asset, Amount: amount}, &out)
}

// Cancel calls POST /api/v1/market/auctions/{asset}/cancel (`market cancel`).
func (c *Client) Cancel(ctx context.Context, asset string) (*AssetInfo, error) {
	var out AssetInfo
	return &out, c.c.Post(ctx, "/api/v1/market/auctions/"+url.PathEscape(asset)+"/cancel", struct{}{}, &out)
}

// Settle calls POST /api/v1/market/auctions/{asset}/settle (`market settle`).
func (c *Client) Settle(ctx context.Context, asset string) (*AssetInfo, error) {
	var out AssetInfo
	return &out, c.c.Post(ctx, "/api/v1/market/auctions/"+url.PathEscape(asset)+"/settle", struct{}{}, &out)
}

// BuyNumber calls POST /api/v1/market/buy-number (`market buy-number`).
func (c *Client) BuyNumber(ctx context.Context) (*AssetInfo, error) {
	var out AssetInfo
	return &out, c.c.Post(ctx, "/api/v1/market/buy-number", struct{}{}, &out)
}

// Mine calls GET /api/v1/market/mine (`market assets`).
func (c *Client) Mine(ctx context.Context) ([]AssetInfo, error) {
	var out []AssetInfo
	return out, c.c.Get(ctx, "/api/v1/market/mine", &out)
}

// Transfer calls POST /api/v1/market/transfer (`market transfer ASSET ADDRESS`).
func (c *Client) Transfer(ctx context.Context, asset, to string) (*AssetInfo, error) {
	var out AssetInfo
	return &out, c.c.Post(ctx, "/api/v1/market/transfer", TransferRequest{Asset: asset, To: to}, &out)
}

// Resolve calls GET /api/v1/market/resolve/{query} (`market resolve`).
func (c *Client) Resolve(ctx context.Context, query string) (*ResolveResult, error) {
	var out ResolveResult
	return &out, c.c.Get(ctx, "/api/v1/market/resolve/"+url.PathEscape(query), &out)
}

// Mint calls POST /api/v1/market/mint (`market mint`); owner "" mints to
// the registry node's own wallet.
func (c *Client) Mint(ctx context.Context, asset, owner string) (*AssetInfo, error) {
	var out AssetInfo
	return &out, c.c.Post(ctx, "/api/v1/market/mint", MintRequest{Asset: asset, Owner: owner}, &out)
}

// RequestCode calls POST /api/v1/market/codes/request (`market login-code`).
func (c *Client) RequestCode(ctx context.Context, asset string) (*CodeRequest, error) {
	var out CodeRequest
	return &out, c.c.Post(ctx, "/api/v1/market/codes/request", CodeRequestBody{Asset: asset}, &out)
}

// VerifyCode calls POST /api/v1/market/codes/verify.
func (c *Client) VerifyCode(ctx context.Context, id, code string) (*CodeCheck, error) {
	var out CodeCheck
	return &out, c.c.Post(ctx, "/api/v1/market/codes/verify", CodeVerifyRequest{ID: id, Code: code}, &out)
}

// Codes calls GET /api/v1/market/codes (`market codes`).
func (c *Client) Codes(ctx context.Context) ([]ReceivedCode, error) {
	var out []ReceivedCode
	return out, c.c.Get(ctx, "/api/v1/market/codes", &out)
}
