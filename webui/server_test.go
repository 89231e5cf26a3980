package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testToken = "test-token-0123456789abcdef-SECRET"

// fakeAPI stands in for the node's API: bearer auth on every route, and a
// record of what the bridge forwarded.
type fakeAPI struct {
	mux     *http.ServeMux
	lastHdr http.Header
}

func newFakeAPI(t testing.TB) (*fakeAPI, *Server, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{mux: http.NewServeMux()}
	auth := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				http.Error(w, `{"error":{"message":"missing bearer token"}}`, http.StatusUnauthorized)
				return
			}
			f.lastHdr = r.Header.Clone()
			h(w, r)
		})
	}
	f.mux.Handle("GET /api/v1/id", auth(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name":"fake","peer_id":"12D3KooWFake","addrs":["/ip4/127.0.0.1/tcp/1"]}`)
	}))
	f.mux.Handle("GET /api/v1/peers", auth(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"peers":[{"peer_id":"12D3KooWPeer","latency_ms":1.5}]}`)
	}))
	f.mux.Handle("POST /api/v1/echo", auth(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	f.mux.Handle("GET /metrics", auth(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tonmesh_up 1\n")
	}))
	ui, err := New(f.mux, testToken)
	if err != nil {
		t.Fatal(err)
	}
	f.mux.Handle("/ui/", ui)
	f.mux.Handle("POST "+LoginLinkPath, auth(ui.LoginLinkHandler().ServeHTTP))
	srv := httptest.NewServer(f.mux)
	t.Cleanup(func() { ui.Close(); srv.Close() })
	return f, ui, srv
}

// client never follows redirects, so that tests see them.
func client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type reqOpt func(*http.Request)

func withHost(h string) reqOpt   { return func(r *http.Request) { r.Host = h } }
func withOrigin(o string) reqOpt { return func(r *http.Request) { r.Header.Set("Origin", o) } }
func withCookie(c string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName(r), Value: c}) }
}
func withFetchSite(v string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", v) }
}
func withBearer(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func withForm() reqOpt {
	return func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
}

func do(t testing.TB, srv *httptest.Server, method, path, body string, opts ...reqOpt) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// login posts the token and returns the session cookie.
func login(t testing.TB, srv *httptest.Server) string {
	t.Helper()
	resp, _ := do(t, srv, "POST", "/ui/login", url.Values{"token": {testToken}}.Encode(), withOrigin(srv.URL), withForm())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the token: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, CookieName) {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge <= 0 || len(c.Value) < 43 {
				t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, an expiry and a 256-bit id", c)
			}
			return c.Value
		}
	}
	t.Fatal("login set no session cookie")
	return ""
}

func TestForeignHostRefused(t *testing.T) {
	_, _, srv := newFakeAPI(t)
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
	cookie := login(t, srv)
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1:1", "localhost.evil.example:" + port} {
		for _, path := range []string{"/ui/login", "/ui/", "/ui/api/api/v1/id", "/ui/static/app.js"} {
			resp, _ := do(t, srv, "GET", path, "", withHost(host), withCookie(cookie))
			if resp.StatusCode != http.StatusMisdirectedRequest {
				t.Errorf("GET %s with Host %s: %d, want 421", path, host, resp.StatusCode)
			}
		}
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port} {
		if resp, _ := do(t, srv, "GET", "/ui/login", "", withHost(host)); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /ui/login with Host %s: %d, want 200", host, resp.StatusCode)
		}
	}
}

func TestForeignOriginRefused(t *testing.T) {
	_, _, srv := newFakeAPI(t)
	cookie := login(t, srv)
	form := url.Values{"token": {testToken}}.Encode()
	for _, o := range []string{"http://evil.example", "null", "http://localhost:1", "https://" + strings.TrimPrefix(srv.URL, "http://")} {
		if resp, _ := do(t, srv, "POST", "/ui/login", form, withOrigin(o), withForm()); resp.StatusCode != http.StatusForbidden {
			t.Errorf("login from Origin %s: %d, want 403", o, resp.StatusCode)
		}
		if resp, _ := do(t, srv, "POST", "/ui/api/api/v1/echo", "{}", withOrigin(o), withCookie(cookie)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("bridge POST from Origin %s: %d, want 403", o, resp.StatusCode)
		}
	}
	// Another node's app on 127.0.0.1 is same-site, not same-origin.
	if resp, _ := do(t, srv, "POST", "/ui/api/api/v1/echo", "{}", withCookie(cookie), withFetchSite("same-site")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bridge POST from a same-site page: %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, srv, "POST", "/ui/api/api/v1/echo", "{}", withCookie(cookie), withOrigin(srv.URL), withFetchSite("cross-site")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bridge POST said cross-site: %d, want 403", resp.StatusCode)
	}
	// A form post from a no-referrer page: Origin null, same-origin fetch.
	if resp, _ := do(t, srv, "POST", "/ui/api/api/v1/echo", "{}", withCookie(cookie), withOrigin("null"), withFetchSite("same-origin")); resp.StatusCode != http.StatusOK {
		t.Errorf("bridge POST with Origin null from this app: %d, want 200", resp.StatusCode)
	}
	// Neither Origin nor Sec-Fetch-Site: not a browser on this page.
	if resp, _ := do(t, srv, "POST", "/ui/api/api/v1/echo", "{}", withCookie(cookie)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bridge POST without Origin: %d, want 403", resp.StatusCode)
	}
	resp, body := do(t, srv, "POST", "/ui/api/api/v1/echo", `{"a":1}`, withOrigin(srv.URL), withCookie(cookie))
	if resp.StatusCode != http.StatusOK || body != `{"a":1}` {
		t.Errorf("bridge POST from the app's origin: %d %q", resp.StatusCode, body)
	}
}

func TestNothingWorksWithoutSession(t *testing.T) {
	_, _, srv := newFakeAPI(t)
	for _, path := range []string{"/ui/", "/ui/passport", "/ui/market", "/ui/chat", "/ui/compute"} {
		resp, _ := do(t, srv, "GET", path, "")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
			t.Errorf("GET %s without a session: %d to %q, want 303 to the login page", path, resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = do(t, srv, "GET", path, "", withCookie("forged-"+strings.Repeat("A", 40)))
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET %s with a forged session: %d, want 303", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/ui/api/api/v1/id", "/ui/events", "/ui/frag/peers"} {
		if resp, _ := do(t, srv, "GET", path, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/ui/api/api/v1/echo", "/ui/passport/elements", "/ui/logout"} {
		if resp, _ := do(t, srv, "POST", path, "{}", withOrigin(srv.URL)); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d, want 401", path, resp.StatusCode)
		}
	}
	// A bearer token is no session: the app takes cookies only.
	if resp, _ := do(t, srv, "GET", "/ui/api/api/v1/id", "", withBearer(testToken)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bridge with a bearer token and no session: %d, want 401", resp.StatusCode)
	}
	resp, _ := do(t, srv, "POST", "/ui/login", url.Values{"token": {"wrong"}}.Encode(), withOrigin(srv.URL), withForm())
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

func TestTokenNeverInPage(t *testing.T) {
	f, _, srv := newFakeAPI(t)
	cookie := login(t, srv)
	paths := []string{"/ui/login", "/ui/", "/ui/passport", "/ui/passport?type=passport", "/ui/market", "/ui/chat",
		"/ui/chat?with=12D3KooWPeer", "/ui/compute", "/ui/static/app.js", "/ui/static/app.css", "/ui/frag/peers", "/ui/frag/consent"}
	for _, p := range paths {
		resp, body := do(t, srv, "GET", p, "", withCookie(cookie))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if strings.Contains(body, testToken) {
			t.Errorf("GET %s: the page holds the API token", p)
		}
		for k, vs := range resp.Header {
			if strings.Contains(strings.Join(vs, " "), testToken) {
				t.Errorf("GET %s: header %s holds the API token", p, k)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", p, resp.Header)
		}
		if strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css") {
			continue
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick") {
			t.Errorf("GET %s: inline script or style, which the CSP refuses", p)
		}
	}
	// The bridge adds the token server-side and does not pass the cookie on.
	resp, body := do(t, srv, "GET", "/ui/api/api/v1/id", "", withCookie(cookie))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "12D3KooWFake") {
		t.Fatalf("bridge GET: %d %s", resp.StatusCode, body)
	}
	if f.lastHdr.Get("Cookie") != "" || f.lastHdr.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("the bridge forwarded %v", f.lastHdr)
	}
	for _, p := range []string{"/ui/api/metrics", "/ui/api/api/v1/ui/login-link", "/ui/api/../metrics"} {
		if resp, _ := do(t, srv, "GET", p, "", withCookie(cookie)); resp.StatusCode == http.StatusOK {
			t.Errorf("bridge GET %s: 200, want refused", p)
		}
	}
}

func TestLoginLink(t *testing.T) {
	_, _, srv := newFakeAPI(t)
	if resp, _ := do(t, srv, "POST", LoginLinkPath, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login link without the bearer token: %d", resp.StatusCode)
	}
	resp, body := do(t, srv, "POST", LoginLinkPath, "", withBearer(testToken))
	var link LoginLink
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &link) != nil || !strings.HasPrefix(link.URL, srv.URL+"/ui/login?code=") {
		t.Fatalf("login link: %d %s", resp.StatusCode, body)
	}
	if d := time.Until(link.Expires); d <= 0 || d > LoginLinkTTL {
		t.Errorf("login link expires in %v", d)
	}
	path := strings.TrimPrefix(link.URL, srv.URL)
	resp, _ = do(t, srv, "GET", path, "")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("open the login link: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	cookie := resp.Cookies()[0].Value
	if resp, _ := do(t, srv, "GET", "/ui/", "", withCookie(cookie)); resp.StatusCode != http.StatusOK {
		t.Errorf("node page with the link's session: %d", resp.StatusCode)
	}
	if resp, _ := do(t, srv, "GET", path, ""); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("the login link opened twice: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	// Logging out ends the session.
	if resp, _ := do(t, srv, "POST", "/ui/logout", "", withCookie(cookie), withOrigin(srv.URL)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := do(t, srv, "GET", "/ui/", "", withCookie(cookie)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("node page after logout: %d, want 303 to login", resp.StatusCode)
	}
}

func TestSessionAndCodeExpiry(t *testing.T) {
	s := newSessions()
	now := time.Now()
	id := s.create(now)
	req := httptest.NewRequest("GET", "http://127.0.0.1:9/ui/", nil)
	req.AddCookie(&http.Cookie{Name: cookieName(req), Value: id})
	if !s.valid(req, now.Add(SessionTTL-time.Second)) || s.valid(req, now.Add(SessionTTL)) {
		t.Error("a session must last SessionTTL, no longer")
	}
	code := s.newCode(now)
	if s.redeem(code, now.Add(LoginLinkTTL)) {
		t.Error("an expired login code was accepted")
	}
	if s.redeem(code, now) {
		t.Error("a login code was accepted after a failed try consumed it")
	}
	for range maxSessions + 10 {
		s.create(now)
	}
	if len(s.live) > maxSessions {
		t.Errorf("%d sessions kept, at most %d", len(s.live), maxSessions)
	}
}

func TestEventsStreamEndsOnClose(t *testing.T) {
	f := &fakeAPI{mux: http.NewServeMux()}
	sent := make(chan func(any), 1)
	ui, err := New(f.mux, testToken, WithEvents("bids", func(send func(any)) func() {
		sent <- send
		return func() {}
	}))
	if err != nil {
		t.Fatal(err)
	}
	f.mux.Handle("/ui/", ui)
	srv := httptest.NewServer(f.mux)
	defer srv.Close()
	cookie := login(t, srv)
	req, _ := http.NewRequest("GET", srv.URL+"/ui/events", nil)
	req.AddCookie(&http.Cookie{Name: cookieName(req), Value: cookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	send := <-sent
	send(map[string]string{"asset": "@alice"})
	buf := make([]byte, 0, 256)
	for !strings.Contains(string(buf), `data: {"asset":"@alice"}`) {
		b := make([]byte, 256)
		n, err := resp.Body.Read(b)
		if err != nil {
			t.Fatalf("event stream ended before the event: %v (%q)", err, buf)
		}
		buf = append(buf, b[:n]...)
	}
	if !strings.Contains(string(buf), "event: bids\n") {
		t.Errorf("stream %q lacks the event's name", buf)
	}
	ui.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("stream after Close: %v", err)
	}
}
