package chat

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

func groupPath(id string) string { return "/api/v1/chat/groups/" + url.PathEscape(id) }

// CreateGroup calls POST /api/v1/chat/groups.
func (c *Client) CreateGroup(ctx context.Context, name string, members []string, ttl time.Duration) (*Group, error) {
	var g Group
	return &g, c.c.Post(ctx, "/api/v1/chat/groups", GroupCreateRequest{Name: name, Members: members, TTL: FormatTTL(ttl)}, &g)
}

// Groups calls GET /api/v1/chat/groups.
func (c *Client) Groups(ctx context.Context) (*GroupList, error) {
	var l GroupList
	return &l, c.c.Get(ctx, "/api/v1/chat/groups", &l)
}

// Group calls GET /api/v1/chat/groups/{id}.
func (c *Client) Group(ctx context.Context, id string) (*Group, error) {
	var g Group
	return &g, c.c.Get(ctx, groupPath(id), &g)
}

// GroupMessages calls GET /api/v1/chat/groups/{id}/messages after cursor
// since, marking them read.
func (c *Client) GroupMessages(ctx context.Context, id string, since uint64) (*GroupPage, error) {
	var p GroupPage
	return &p, c.c.Get(ctx, groupPath(id)+"/messages?since="+strconv.FormatUint(since, 10), &p)
}

// SendGroup calls POST /api/v1/chat/groups/{id}/send.
func (c *Client) SendGroup(ctx context.Context, id, text string, ttl time.Duration) (*Message, error) {
	var m Message
	return &m, c.c.Post(ctx, groupPath(id)+"/send", GroupSendRequest{Text: text, TTL: FormatTTL(ttl)}, &m)
}

// InviteToGroup calls POST /api/v1/chat/groups/{id}/invite.
func (c *Client) InviteToGroup(ctx context.Context, id string, members []string, admin bool) (*Group, error) {
	var g Group
	return &g, c.c.Post(ctx, groupPath(id)+"/invite", GroupMembersRequest{Members: members, Admin: admin}, &g)
}

// RemoveFromGroup calls POST /api/v1/chat/groups/{id}/remove.
func (c *Client) RemoveFromGroup(ctx context.Context, id string, members []string) (*Group, error) {
	var g Group
	return &g, c.c.Post(ctx, groupPath(id)+"/remove", GroupMembersRequest{Members: members}, &g)
}

// LeaveGroup calls POST /api/v1/chat/groups/{id}/leave.
func (c *Client) LeaveGroup(ctx context.Context, id string) (*Group, error) {
	var g Group
	return &g, c.c.Post(ctx, groupPath(id)+"/leave", struct{}{}, &g)
}

// RenameGroup calls POST /api/v1/chat/groups/{id}/rename.
func (c *Client) RenameGroup(ctx context.Context, id, name string) (*Group, error) {
	var g Group
	return &g, c.c.Post(ctx, groupPath(id)+"/rename", GroupRenameRequest{Name: name}, &g)
}

// SetGroupTimer calls POST /api/v1/chat/groups/{id}/timer; 0 turns it off.
func (c *Client) SetGroupTimer(ctx context.Context, id string, ttl time.Duration) (*Group, error) {
	v := FormatTTL(ttl)
	if v == "" {
		v = "off"
	}
	var g Group
	return &g, c.c.Post(ctx, groupPath(id)+"/timer", GroupTimerRequest{TTL: v}, &g)
}
