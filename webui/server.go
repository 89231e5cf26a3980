package webui

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the app is mounted.
const Prefix = "/ui/"

// LoginLinkPath is the API route (bearer token) that issues a login link.
const LoginLinkPath = "/api/v1/ui/login-link"

// contentSecurityPolicy allows only this origin's script, style and
// connections, and no framing; inline script and style are refused.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Server is the web app. It is an http.Handler for everything under Prefix.
type Server struct {
	api    http.Handler
	token  string
	log    *slog.Logger
	events []eventSource
	tmpl   *template.Template
	static http.Handler
	mux    *http.ServeMux

	sess *sessions

	mu      sync.Mutex
	closed  bool
	closing chan struct{} // closed by Close: ends every event stream
}

// Option configures New.
type Option func(*Server)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithEvents adds an event source: subscribe is called once per open
// event stream with a send function that never blocks, and returns the
// function that ends the subscription. Each value sent reaches the page as
// a server-sent event named name, its data the value as JSON.
func WithEvents(name string, subscribe func(send func(v any)) (cancel func())) Option {
	return func(s *Server) { s.events = append(s.events, eventSource{name: name, subscribe: subscribe}) }
}

// New builds the app over api, the node's API handler, which the app calls
// with token as the bearer token.
func New(api http.Handler, token string, opts ...Option) (*Server, error) {
	s := &Server{api: api, token: token, log: slog.New(slog.DiscardHandler),
		sess: newSessions(), closing: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.tmpl, err = template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s.static = http.StripPrefix(Prefix+"static/", http.FileServerFS(sub))
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", s.static)
	m.HandleFunc("GET /ui/login", s.loginPage)
	m.HandleFunc("POST /ui/login", s.loginPost)
	m.Handle("POST /ui/logout", s.authed(http.HandlerFunc(s.logout)))
	m.Handle("/ui/api/", s.authed(http.HandlerFunc(s.bridge)))
	m.Handle("GET /ui/events", s.authed(http.HandlerFunc(s.serveEvents)))
	m.Handle("GET /ui/{$}", s.authed(s.page("node", s.nodeData)))
	m.Handle("GET /ui/passport", s.authed(s.page("passport", s.passportData)))
	m.Handle("POST /ui/passport/elements", s.authed(http.HandlerFunc(s.addElement)))
	m.Handle("GET /ui/market", s.authed(s.page("market", s.marketData)))
	m.Handle("GET /ui/chat", s.authed(s.page("chat", s.chatData)))
	m.Handle("GET /ui/compute", s.authed(s.page("compute", s.computeData)))
	m.Handle("GET /ui/frag/{name}", s.authed(http.HandlerFunc(s.fragment)))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no page "+r.URL.Path+": see /ui/", http.StatusNotFound)
	})
	s.mux = m
}

// ServeHTTP answers a request under Prefix: headers first, then the Host
// and Origin checks, then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if !hostAllowed(r) {
		http.Error(w, "refused: Host "+r.Host+" is not this node's address (open the app at http://127.0.0.1:<api port>/ui/)", http.StatusMisdirectedRequest)
		return
	}
	if !safeMethod(r.Method) && !originAllowed(r) {
		http.Error(w, "refused: a state-changing request must come from this app's own pages (Origin "+r.Header.Get("Origin")+" is not http://"+r.Host+")", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close ends every open event stream; the node calls it before shutting
// the API server down, which does not wait for streams otherwise.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// hostAllowed reports whether r's Host names this server: a loopback name
// or the address the connection came in on, with the port it came in on.
// A rebound DNS name fails.
func hostAllowed(r *http.Request) bool {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		return false
	}
	lhost, lport, err := net.SplitHostPort(local.String())
	if err != nil {
		return false
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port != lport {
		return false
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return host == lhost
}

// originAllowed reports whether r comes from a page of this server. A
// browser says so in Sec-Fetch-Site, which no page can forge; it must be
// same-origin (another node's app on 127.0.0.1 is same-site, not
// same-origin). Origin, when it names one, must be http://<Host>; it is
// "null" on form posts from a page with Referrer-Policy no-referrer, so
// it alone cannot vouch. A request with neither header is refused:
// browsers send them, and other clients use the bearer-token API.
func originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o != "" && o != "null" && o != "http://"+r.Host {
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	return o == "http://"+r.Host
}

// authed runs h for requests with a valid session; a page request without
// one is sent to the login page, anything else gets 401.
func (s *Server) authed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.sess.valid(r, time.Now()) {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/ui/api/") && r.URL.Path != "/ui/events" &&
			!strings.HasPrefix(r.URL.Path, "/ui/frag/") {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		http.Error(w, "no session: log in at /ui/login (or run `tonmesh ui`)", http.StatusUnauthorized)
	})
}

// shutdownCtx is a context that ends with the request or with Close.
func (s *Server) shutdownCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
