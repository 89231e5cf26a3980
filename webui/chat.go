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

type messageView struct {
	Seq       uint64    `json:"seq"`
	ID        string    `json:"id"`
	Direction string    `json:"direction"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	TimerS    int64     `json:"timer_s"`
	Sent      time.Time `json:"sent"`
	Expires   time.Time `json:"expires"`
	Status    string    `json:"status"`
	Holders   int       `json:"holders"`
}

type chatView struct {
	With          string // the open conversation: a peer ID, TON address or name
	Conversations []conversationView
	Messages      []messageView
}

func (s *Server) chatData(r *http.Request) (any, error) {
	ctx := r.Context()
	v := chatView{With: r.URL.Query().Get("with")}
	var inbox struct {
		Conversations []conversationView `json:"conversations"`
	}
	err := s.get(ctx, "/api/v1/chat/inbox", &inbox)
	v.Conversations = inbox.Conversations
	if v.With != "" && err == nil {
		var page struct {
			Messages []messageView `json:"messages"`
		}
		err = s.get(ctx, "/api/v1/chat/messages?with="+url.QueryEscape(v.With), &page)
		v.Messages = page.Messages
	}
	return v, err
}
