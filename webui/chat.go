package webui

import (
	"net/http"
	"net/url"
	"time"
)

type conversationView struct {
	Peer     string    `json:"peer"`
	Unread   int       `json:"unread"`
	Messages int       `json:"messages"`
	TimerS   int64     `json:"timer_s"`
	LastAt   time.Time `json:"last_at"`
}

type fanoutView struct {
	Members   int `json:"members"`
	Delivered int `json:"delivered"`
	Mailbox   int `json:"mailbox"`
	Failed    int `json:"failed"`
}

type messageView struct {
	Seq       uint64      `json:"seq"`
	ID        string      `json:"id"`
	Peer      string      `json:"peer"`
	Direction string      `json:"direction"`
	Kind      string      `json:"kind"`
	Text      string      `json:"text"`
	TimerS    int64       `json:"timer_s"`
	Sent      time.Time   `json:"sent"`
	Expires   time.Time   `json:"expires"`
	Status    string      `json:"status"`
	Holders   int         `json:"holders"`
	Fanout    *fanoutView `json:"fanout"`
	Device    string      `json:"device"`
	Synced    int         `json:"synced"`
}

type groupView struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Admins   []string `json:"admins"`
	Members  []string `json:"members"`
	TimerS   int64    `json:"timer_s"`
	Unread   int      `json:"unread"`
	Messages int      `json:"messages"`
	Left     bool     `json:"left"`
	Pending  int      `json:"pending"`
}

type deviceView struct {
	Peer    string    `json:"peer"`
	Name    string    `json:"name"`
	Added   time.Time `json:"added"`
	Primary bool      `json:"primary"`
	This    bool      `json:"this"`
}

type devicesView struct {
	Identity string       `json:"identity"`
	Version  uint64       `json:"version"`
	Linked   bool         `json:"linked"`
	Devices  []deviceView `json:"devices"`
}

type chatView struct {
	With          string // the open conversation: a peer ID, TON address or name
	Conversations []conversationView
	Messages      []messageView
	Groups        []groupView
	Group         *groupView // the open group
	Devices       devicesView
}

// Admin reports whether this node may change the open group's members.
func (v chatView) Admin() bool {
	if v.Group == nil {
		return false
	}
	for _, a := range v.Group.Admins {
		if a == v.Devices.Identity {
			return true
		}
	}
	return false
}

// chatData fills the chat page: conversations, groups and devices always;
// the messages of the conversation (?with=) or group (?group=) open.
func (s *Server) chatData(r *http.Request) (any, error) {
	ctx := r.Context()
	q := r.URL.Query()
	v := chatView{With: q.Get("with")}
	var inbox struct {
		Conversations []conversationView `json:"conversations"`
	}
	var groups struct {
		Groups []groupView `json:"groups"`
	}
	errInbox := s.get(ctx, "/api/v1/chat/inbox", &inbox)
	errGroups := s.get(ctx, "/api/v1/chat/groups", &groups)
	errDevices := s.get(ctx, "/api/v1/chat/devices", &v.Devices)
	v.Conversations, v.Groups = inbox.Conversations, groups.Groups
	var page struct {
		Messages []messageView `json:"messages"`
	}
	var errOpen error
	switch id := q.Get("group"); {
	case id != "":
		v.Group = &groupView{ID: id}
		errOpen = s.get(ctx, "/api/v1/chat/groups/"+url.PathEscape(id), v.Group)
		if errOpen == nil {
			errOpen = s.get(ctx, "/api/v1/chat/groups/"+url.PathEscape(id)+"/messages", &page)
		}
	case v.With != "":
		errOpen = s.get(ctx, "/api/v1/chat/messages?with="+url.QueryEscape(v.With), &page)
	}
	v.Messages = page.Messages
	return v, firstErr(errOpen, errInbox, errGroups, errDevices)
}
