package chat

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Devices calls GET /api/v1/chat/devices.
func (c *Client) Devices(ctx context.Context) (*Devices, error) {
	var d Devices
	return &d, c.c.Get(ctx, "/api/v1/chat/devices", &d)
}

// LinkDevice calls POST /api/v1/chat/devices/link; ttl 0 takes the default.
func (c *Client) LinkDevice(ctx context.Context, ttl time.Duration) (*LinkResult, error) {
	var r LinkResult
	req := LinkRequest{}
	if ttl > 0 {
		req.TTL = ttl.String()
	}
	return &r, c.c.Post(ctx, "/api/v1/chat/devices/link", req, &r)
}

// JoinDevice calls POST /api/v1/chat/devices/join.
func (c *Client) JoinDevice(ctx context.Context, link, name string) (*Devices, error) {
	var d Devices
	return &d, c.c.Post(ctx, "/api/v1/chat/devices/join", JoinRequest{Link: link, Name: name}, &d)
}

// RemoveDevice calls DELETE /api/v1/chat/devices/{peer}.
func (c *Client) RemoveDevice(ctx context.Context, p string) (*Devices, error) {
	var d Devices
	return &d, c.c.Do(ctx, http.MethodDelete, "/api/v1/chat/devices/"+url.PathEscape(p), nil, &d)
}
