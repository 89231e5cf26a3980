package chat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

func apiClient(t *testing.T, s *Service) *Client {
	t.Helper()
	mux := http.NewServeMux()
	s.Routes(func(pattern string, h http.Handler) { mux.Handle(pattern, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return NewClient(apiutil.NewClient(srv.URL, "test"))
}

// testHTTP drives a conversation between a and b through the API clients.
func testHTTP(t *testing.T, a, b *Service) {
	ctx := context.Background()
	ca, cb := apiClient(t, a), apiClient(t, b)
	to := b.self.String()

	m, err := ca.Send(ctx, to, "over the API", 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != StatusDelivered || m.Expires.Sub(m.Sent) != 90*time.Second {
		t.Fatalf("send = %+v", m)
	}
	in, err := cb.Inbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cv := convWith(in, a); cv == nil || cv.Unread != 1 {
		t.Fatalf("b's inbox = %+v, want 1 unread from a", in)
	}
	page, err := cb.Messages(ctx, a.self.String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 || page.Messages[0].Text != "over the API" || page.Messages[0].Direction != DirIn {
		t.Fatalf("b's messages = %+v", page)
	}
	if in, _ = cb.Inbox(ctx); convWith(in, a).Unread != 0 {
		t.Fatalf("unread after reading = %+v", in)
	}
	if next, err := cb.Messages(ctx, a.self.String(), page.Next); err != nil || len(next.Messages) != 0 {
		t.Fatalf("follow with nothing new = %+v, %v", next, err)
	}

	tm, err := ca.SetTimer(ctx, to, time.Hour)
	if err != nil || tm.Kind != KindTimer || tm.TimerS != 3600 {
		t.Fatalf("set timer = %+v, %v", tm, err)
	}
	if in, _ = cb.Inbox(ctx); convWith(in, a).TimerS != 3600 {
		t.Fatalf("b's timer after a set it = %+v", in)
	}
	del, err := cb.DeleteConversation(ctx, a.self.String())
	if err != nil || del.Deleted != 2 {
		t.Fatalf("delete = %+v, %v (want 2 messages: text and timer)", del, err)
	}
	if in, _ = cb.Inbox(ctx); convWith(in, a) != nil {
		t.Fatalf("inbox after delete = %+v", in)
	}
	// Sessions survive a deleted conversation.
	if m, err := ca.Send(ctx, to, "again", 0); err != nil || m.Status != StatusDelivered {
		t.Fatalf("send after delete = %+v, %v", m, err)
	}

	for name, call := range map[string]func() error{
		"bad peer":  func() error { _, err := ca.Send(ctx, "nobody", "x", 0); return err },
		"empty":     func() error { _, err := ca.Send(ctx, to, "", 0); return err },
		"yourself":  func() error { _, err := ca.Send(ctx, a.self.String(), "x", 0); return err },
		"too long":  func() error { _, err := ca.Send(ctx, to, string(make([]byte, MaxText+1)), 0); return err },
		"bad timer": func() error { _, err := ca.SetTimer(ctx, to, 1500*time.Millisecond); return err },
		"bad with":  func() error { _, err := ca.Messages(ctx, "x", 0); return err },
	} {
		if err := call(); !apiutil.IsStatus(err, http.StatusBadRequest) {
			t.Errorf("%s: %v, want 400", name, err)
		}
	}
}

// convWith finds the conversation with s in an inbox.
func convWith(in *Inbox, s *Service) *Conversation {
	for i := range in.Conversations {
		if in.Conversations[i].Peer == s.self.String() {
			return &in.Conversations[i]
		}
	}
	return nil
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "off": 0, "0": 0, "30s": 30 * time.Second, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour} {
		if got, err := ParseTTL(in); err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1s", "1.5s", "abc", "d", "400d", "1ms"} {
		if _, err := ParseTTL(in); err == nil {
			t.Errorf("ParseTTL(%q) accepted", in)
		}
	}
}

// Names (@username, +888 number) are recipients only through the market's
// resolver, and its errors come back as bad requests that say why.
func TestResolveNames(t *testing.T) {
	ctx := context.Background()
	s := &Service{}
	if _, err := s.resolvePeer(ctx, "to", "@alice"); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "market.registry") {
		t.Fatalf("a name without a resolver: %v", err)
	}
	asked := ""
	s.cfg.ResolveName = func(_ context.Context, name string) (*address.Address, error) {
		asked = name
		return nil, errors.New("+888 0000 0001 is not minted: nobody owns it")
	}
	if _, err := s.resolvePeer(ctx, "to", "+888 0000 0001"); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "not minted") || asked != "+888 0000 0001" {
		t.Fatalf("an unowned number: %v (resolver asked for %q)", err, asked)
	}
	if _, err := s.resolvePeer(ctx, "to", "nobody"); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "@username") {
		t.Fatalf("garbage: %v", err)
	}
}
