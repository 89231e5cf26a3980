package node

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/tonmesh/tonmesh/webui"
)

// apiServer is the node's local HTTP API. Services add their routes with
// Handle; every route but /healthz requires the bearer token.
type apiServer struct {
	n      *Node
	token  string
	mux    *http.ServeMux
	srv    *http.Server
	mu     sync.Mutex
	addr   string
	served prometheus.ObserverVec
	ui     *webui.Server
}

func newAPIServer(n *Node, token string) *apiServer {
	s := &apiServer{n: n, token: token, mux: http.NewServeMux()}
	s.served = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tonmesh_api_request_duration_seconds",
		Help:    "Local API requests by route and status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
	}, []string{"route", "code"})
	n.reg.MustRegister(s.served)

	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.Handle("GET /metrics", promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{Registry: n.reg}))
	s.Handle("GET /api/v1/id", http.HandlerFunc(s.id))
	s.Handle("GET /api/v1/peers", http.HandlerFunc(s.peers))
	s.mountUI()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path+" (see `tonmesh help` for the API)")
	})
	s.srv = &http.Server{
		Handler:           s.instrument(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	if s.ui != nil {
		s.srv.RegisterOnShutdown(s.ui.Close) // Shutdown waits for no event stream
	}
	return s
}

// mountUI serves the web app at /ui/ (its own session auth, Host and
// Origin checks) and, behind the bearer token, the route that issues its
// login links; / leads to the app.
func (s *apiServer) mountUI() {
	ui, err := webui.New(s.mux, s.token, s.n.webUIOptions()...)
	if err != nil { // only if the embedded templates are broken
		s.n.log.Error("web app unavailable", "err", err)
		return
	}
	s.ui = ui
	s.mux.Handle(webui.Prefix, ui)
	s.Handle("POST "+webui.LoginLinkPath, ui.LoginLinkHandler())
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, webui.Prefix, http.StatusSeeOther)
	})
}

// Handle registers an authenticated route, e.g. "GET /api/v1/vault/elements".
func (s *apiServer) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.auth(h))
}

// HandleKeyed registers a route that also takes the token the way the
// toncenter API does, as an X-API-Key header or an api_key query parameter;
// deny answers a request without a valid one.
func (s *apiServer) HandleKeyed(pattern string, h http.Handler, deny func(w http.ResponseWriter, code int, msg string)) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			got = r.Header.Get("X-API-Key")
		}
		if got == "" {
			got = r.URL.Query().Get("api_key")
		}
		if got == "" {
			deny(w, http.StatusUnauthorized, "API key required: send the node's api.token as X-API-Key, ?api_key= or a bearer token")
			return
		}
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.token)) != 1 {
			deny(w, http.StatusUnauthorized, "API key does not exist: use the token in the node's api.token file")
			return
		}
		h.ServeHTTP(w, r)
	}))
}

// serve answers requests on ln until shutdown.
func (s *apiServer) serve(ln net.Listener) {
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.n.log.Error("API server stopped", "err", err)
	}
}

// bound records the address the API listens on.
func (s *apiServer) bound(ln net.Listener) {
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
}

func (s *apiServer) url() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return ""
	}
	return "http://" + s.addr
}

func (s *apiServer) shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// auth refuses requests without the node's bearer token.
func (s *apiServer) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tonmesh"`)
			msg := "missing bearer token: send \"Authorization: Bearer <token>\" with the token from the node's api.token file"
			if ok {
				msg = "wrong bearer token: use the token in the node's api.token file"
			}
			WriteError(w, http.StatusUnauthorized, "unauthorized", msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *apiServer) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		_, pattern := s.mux.Handler(r)
		if pattern == "/" {
			pattern = "unknown"
		}
		s.served.WithLabelValues(pattern, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	})
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody = apiutil.ErrorBody

// WriteError answers with status and a JSON error whose message says what to fix.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	apiutil.WriteError(w, status, code, message)
}

// WriteJSON answers with status and v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { apiutil.WriteJSON(w, status, v) }

// Health is the body of GET /healthz.
type Health struct {
	Status   string  `json:"status"`
	PeerID   string  `json:"peer_id"`
	Peers    int     `json:"peers"`
	DHTPeers int     `json:"dht_peers"`
	UptimeS  float64 `json:"uptime_s"`
	Version  string  `json:"version"`
}

func (s *apiServer) healthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, Health{
		Status:   "ok",
		PeerID:   s.n.id.PeerID().String(),
		Peers:    len(s.n.net.Peers()),
		DHTPeers: s.n.net.RoutingTableSize(),
		UptimeS:  time.Since(s.n.started).Seconds(),
		Version:  Version,
	})
}

// IDInfo is the body of GET /api/v1/id.
type IDInfo struct {
	Name          string     `json:"name"`
	PeerID        string     `json:"peer_id"`
	Addrs         []string   `json:"addrs"`
	Address       string     `json:"address"`
	AddressRaw    string     `json:"address_raw"`
	WalletVersion string     `json:"wallet_version"`
	Network       string     `json:"network"`
	PublicKeys    PublicKeys `json:"public_keys"`
	Version       string     `json:"version"`
}

// PublicKeys are the node's public keys, base64 (standard, padded).
type PublicKeys struct {
	Wallet     string `json:"wallet_ed25519"`
	Peer       string `json:"peer_ed25519"`
	Encryption string `json:"encryption_x25519"`
}

func (s *apiServer) id(w http.ResponseWriter, r *http.Request) {
	n := s.n
	info := IDInfo{
		Name:          n.cfg.Node.Name,
		PeerID:        n.id.PeerID().String(),
		Address:       n.addr,
		AddressRaw:    n.addrRaw,
		WalletVersion: string(n.walletVersion),
		Network:       string(n.network),
		PublicKeys:    publicKeys(n.id),
		Version:       Version,
	}
	for _, a := range n.net.Addrs() {
		info.Addrs = append(info.Addrs, a.String())
	}
	WriteJSON(w, http.StatusOK, info)
}

func publicKeys(id *identity.Identity) PublicKeys {
	peerPub, _ := id.PeerKey.GetPublic().Raw()
	return PublicKeys{
		Wallet:     base64.StdEncoding.EncodeToString(id.WalletKey.Public().(ed25519.PublicKey)),
		Peer:       base64.StdEncoding.EncodeToString(peerPub),
		Encryption: base64.StdEncoding.EncodeToString(id.EncKey.PublicKey().Bytes()),
	}
}

// PeerInfo is one entry of GET /api/v1/peers.
type PeerInfo struct {
	PeerID    string   `json:"peer_id"`
	Addrs     []string `json:"addrs"`
	LatencyMS float64  `json:"latency_ms"`
}

// PeersResponse is the body of GET /api/v1/peers.
type PeersResponse struct {
	Peers []PeerInfo `json:"peers"`
}

func (s *apiServer) peers(w http.ResponseWriter, r *http.Request) {
	resp := PeersResponse{Peers: []PeerInfo{}}
	for _, p := range s.n.net.Peers() {
		pi := PeerInfo{PeerID: p.ID.String(), LatencyMS: float64(p.Latency.Microseconds()) / 1000}
		for _, a := range p.Addrs {
			pi.Addrs = append(pi.Addrs, a.String())
		}
		resp.Peers = append(resp.Peers, pi)
	}
	WriteJSON(w, http.StatusOK, resp)
}
