package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p/directory"
)

// Routes registers the chat routes of the local API with handle.
func (s *Service) Routes(handle func(pattern string, h http.Handler)) {
	handle("POST /api/v1/chat/send", http.HandlerFunc(s.handleSend))
	handle("GET /api/v1/chat/inbox", http.HandlerFunc(s.handleInbox))
	handle("GET /api/v1/chat/messages", http.HandlerFunc(s.handleMessages))
	handle("POST /api/v1/chat/timer", http.HandlerFunc(s.handleTimer))
	handle("DELETE /api/v1/chat/conversations/{peer}", http.HandlerFunc(s.handleDelete))
	handle("POST /api/v1/chat/fetch", http.HandlerFunc(s.handleFetch))
	s.groupRoutes(handle)
	s.deviceRoutes(handle)
}

// SendRequest is the body of POST /api/v1/chat/send.
type SendRequest struct {
	To   string `json:"to"`            // the recipient's peer ID
	Text string `json:"text"`          // at most MaxText bytes
	TTL  string `json:"ttl,omitempty"` // message timer, e.g. "30s", "1h", "7d"; empty: the conversation's default
}

// TimerRequest is the body of POST /api/v1/chat/timer.
type TimerRequest struct {
	With string `json:"with"` // the peer ID
	TTL  string `json:"ttl"`  // default timer, e.g. "1h", "7d"; "0" or "off": none
}

// DeleteResult answers DELETE /api/v1/chat/conversations/{peer}.
type DeleteResult struct {
	Peer    string `json:"peer"`
	Deleted int    `json:"deleted"` // messages deleted
}

// FetchResult answers POST /api/v1/chat/fetch.
type FetchResult struct {
	Fetched int `json:"fetched"` // new messages taken from mailboxes
}

// ParseTTL reads a timer: a Go duration ("90s", "1h30m") or a number of days
// ("7d"); "", "0" and "off" mean none. It must be whole seconds up to MaxTTL.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || s == "off" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%w: timer %q: use a duration like 30s, 1h or 7d", ErrBadRequest, s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%w: timer %q: use a duration like 30s, 1h or 7d", ErrBadRequest, s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: timer %q must be positive (or \"off\")", ErrBadRequest, s)
	}
	return d, checkTTL(d)
}

// resolvePeer reads a recipient: a peer ID, a TON wallet address, or a
// name (@username, +888 number) whose owner's wallet the market resolves;
// a wallet is looked up in the wallet → peer directory.
func (s *Service) resolvePeer(ctx context.Context, field, v string) (peer.ID, error) {
	if p, err := peer.Decode(v); err == nil {
		return p, nil
	}
	var addr *address.Address
	var err error
	if strings.HasPrefix(v, "@") || strings.HasPrefix(v, "+") {
		if s.cfg.ResolveName == nil {
			return "", fmt.Errorf("%w: %s: %q is a name, and names need the market, which is off on this node (set market.registry)", ErrBadRequest, field, v)
		}
		if addr, err = s.cfg.ResolveName(ctx, v); err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrBadRequest, field, err)
		}
	} else if addr, err = wallet.ParseAddress(v); err != nil {
		return "", fmt.Errorf("%w: %s: %q is neither a peer ID, a TON address nor a @username or +888 number (the other side's `tonmesh id` shows the first two)", ErrBadRequest, field, v)
	}
	p, err := directory.Lookup(ctx, s.net, addr)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrNoPrekeys, field, err)
	}
	return p, nil
}

// pageQuery reads a page's since (cursor) and limit parameters, answering
// 400 when one is malformed.
func pageQuery(w http.ResponseWriter, q url.Values) (since uint64, limit int, ok bool) {
	var err error
	if v := q.Get("since"); v != "" {
		if since, err = strconv.ParseUint(v, 10, 64); err != nil {
			apiutil.BadRequest(w, fmt.Sprintf("since: %q is not a cursor (use the `next` of the previous page)", v))
			return 0, 0, false
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit <= 0 {
			apiutil.BadRequest(w, fmt.Sprintf("limit: %q is not a positive number", v))
			return 0, 0, false
		}
	}
	return since, limit, true
}

// respond answers v, or the error err maps to.
func respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, v)
}

func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrBadRequest):
		apiutil.BadRequest(w, err.Error())
	case errors.Is(err, ErrNotFound):
		apiutil.WriteError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrForbidden):
		apiutil.WriteError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, ErrNoPrekeys):
		apiutil.WriteError(w, http.StatusNotFound, "no_prekeys", err.Error())
	case errors.Is(err, ErrUndelivered):
		apiutil.WriteError(w, http.StatusBadGateway, "undelivered", err.Error())
	default:
		apiutil.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func (s *Service) handleSend(w http.ResponseWriter, r *http.Request) {
	var req SendRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	to, err := s.resolvePeer(r.Context(), "to", req.To)
	if err != nil {
		writeErr(w, err)
		return
	}
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		writeErr(w, err)
		return
	}
	m, err := s.Send(r.Context(), to, req.Text, ttl)
	respond(w, m, err)
}

func (s *Service) handleInbox(w http.ResponseWriter, r *http.Request) {
	in, err := s.Inbox()
	respond(w, in, err)
}

func (s *Service) handleMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := s.resolvePeer(r.Context(), "with", q.Get("with"))
	if err != nil {
		writeErr(w, err)
		return
	}
	since, limit, ok := pageQuery(w, q)
	if !ok {
		return
	}
	page, err := s.Messages(p, since, limit)
	respond(w, page, err)
}

func (s *Service) handleTimer(w http.ResponseWriter, r *http.Request) {
	var req TimerRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	p, err := s.resolvePeer(r.Context(), "with", req.With)
	if err != nil {
		writeErr(w, err)
		return
	}
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		writeErr(w, err)
		return
	}
	m, err := s.SetTimer(r.Context(), p, ttl)
	respond(w, m, err)
}

func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	p, err := s.resolvePeer(r.Context(), "peer", r.PathValue("peer"))
	if err != nil {
		writeErr(w, err)
		return
	}
	n, err := s.DeleteConversation(p)
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, DeleteResult{Peer: p.String(), Deleted: n})
}

func (s *Service) handleFetch(w http.ResponseWriter, r *http.Request) {
	n, err := s.FetchMailbox(r.Context())
	if err != nil {
		apiutil.WriteError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, FetchResult{Fetched: n})
}
