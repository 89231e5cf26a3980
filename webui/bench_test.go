package webui

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkPage measures what server-side rendering costs: the node page
// (its three API calls in process, the template) against the same three
// API calls made by a client over HTTP, as a script-rendered page would.
func BenchmarkPage(b *testing.B) {
	_, _, srv := newFakeAPI(b)
	cookie := login(b, srv)
	get := func(b *testing.B, path string, opts ...reqOpt) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for _, o := range opts {
			o(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	b.Run("rendered", func(b *testing.B) {
		for b.Loop() {
			get(b, "/ui/", withCookie(cookie))
		}
	})
	b.Run("api-calls", func(b *testing.B) {
		for b.Loop() {
			for _, p := range []string{"/api/v1/id", "/api/v1/peers", "/metrics"} {
				get(b, p, withBearer(testToken))
			}
		}
	})
}
