package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

type eventSource struct {
	name      string
	subscribe func(send func(v any)) (cancel func())
}

type event struct {
	name string
	data []byte
}

// eventBuffer is how many events one stream holds for a slow page; more
// are dropped (the page refreshes what an event names, so a dropped event
// is made up by the next one).
const eventBuffer = 64

// keepAlive is how often an idle stream sends a comment, so that proxies
// and the browser keep it open.
const keepAlive = 20 * time.Second

// serveEvents streams every source's events as server-sent events until
// the page goes away or Close.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := s.shutdownCtx(r.Context())
	defer cancel()
	ch := make(chan event, eventBuffer)
	for _, src := range s.events {
		name := src.name
		stop := src.subscribe(func(v any) {
			b, err := json.Marshal(v)
			if err != nil {
				return
			}
			select {
			case ch <- event{name: name, data: b}:
			default: // the page is slow: drop, it catches up on the next event
			}
		})
		defer stop()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data)
		}
		flusher.Flush()
	}
}
