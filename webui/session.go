package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SessionTTL is how long a session lasts; LoginLinkTTL how long a login
// link may wait to be opened.
const (
	SessionTTL   = 12 * time.Hour
	LoginLinkTTL = 2 * time.Minute
)

// CookieName is the session cookie's name, followed by the port: browsers
// keep cookies by host, not port, and every node of a local testnet is on
// 127.0.0.1.
const CookieName = "tonmesh_session_"

// cookieName is the session cookie's name for the server r reached.
func cookieName(r *http.Request) string {
	_, port, _ := net.SplitHostPort(r.Host)
	return CookieName + port
}

// maxSessions bounds the sessions and the unused login links kept in
// memory: the oldest go first.
const maxSessions = 64

// sessions holds live session ids and unused login codes, both by their
// SHA-256, so that what is kept cannot be replayed from a memory dump of
// the map alone and lookups do not compare secrets byte by byte.
type sessions struct {
	mu    sync.Mutex
	live  map[[32]byte]time.Time // session → expiry
	codes map[[32]byte]time.Time // login code → expiry
}

func newSessions() *sessions {
	return &sessions{live: map[[32]byte]time.Time{}, codes: map[[32]byte]time.Time{}}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// put adds key to m with expiry exp, first dropping expired entries and,
// when full, the one that expires first.
func put(m map[[32]byte]time.Time, key string, now, exp time.Time) {
	var oldest [32]byte
	var oldestAt time.Time
	for k, e := range m {
		if !now.Before(e) {
			delete(m, k)
			continue
		}
		if oldestAt.IsZero() || e.Before(oldestAt) {
			oldest, oldestAt = k, e
		}
	}
	if len(m) >= maxSessions {
		delete(m, oldest)
	}
	m[sha256.Sum256([]byte(key))] = exp
}

func (s *sessions) create(now time.Time) string {
	id := randomID()
	s.mu.Lock()
	put(s.live, id, now, now.Add(SessionTTL))
	s.mu.Unlock()
	return id
}

func (s *sessions) valid(r *http.Request, now time.Time) bool {
	c, err := r.Cookie(cookieName(r))
	if err != nil || c.Value == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.live[sha256.Sum256([]byte(c.Value))]
	return ok && now.Before(exp)
}

func (s *sessions) drop(r *http.Request) {
	if c, err := r.Cookie(cookieName(r)); err == nil {
		s.mu.Lock()
		delete(s.live, sha256.Sum256([]byte(c.Value)))
		s.mu.Unlock()
	}
}

func (s *sessions) newCode(now time.Time) string {
	code := randomID()
	s.mu.Lock()
	put(s.codes, code, now, now.Add(LoginLinkTTL))
	s.mu.Unlock()
	return code
}

// redeem consumes code: true once, for a code issued less than
// LoginLinkTTL ago.
func (s *sessions) redeem(code string, now time.Time) bool {
	k := sha256.Sum256([]byte(code))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.codes[k]
	delete(s.codes, k)
	return ok && now.Before(exp)
}

func setSession(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: id, Path: "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// LoginLink is the answer of POST /api/v1/ui/login-link.
type LoginLink struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// LoginLinkHandler issues a single-use login link. Mount it on the API,
// behind the bearer token: whoever holds the token may open a session.
func (s *Server) LoginLinkHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		code := s.sess.newCode(now)
		host := r.Host
		if !hostAllowed(r) {
			// A caller that reached the API by another name gets the
			// address the connection came in on, which the app accepts.
			if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
				host = local.String()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(LoginLink{URL: "http://" + host + "/ui/login?code=" + code, Expires: now.Add(LoginLinkTTL).UTC()})
	})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if code := r.URL.Query().Get("code"); code != "" {
		if !s.sess.redeem(code, time.Now()) {
			w.WriteHeader(http.StatusUnauthorized)
			s.render(w, "login", pageData{Error: "This login link was used already or has expired: run `tonmesh ui` again, or paste the node's API token below."})
			return
		}
		setSession(w, r, s.sess.create(time.Now()))
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	s.render(w, "login", pageData{})
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	got := strings.TrimSpace(r.PostFormValue("token"))
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, "login", pageData{Error: "Wrong token: paste the contents of the node's api.token file (in its home directory), or run `tonmesh ui`."})
		return
	}
	setSession(w, r, s.sess.create(time.Now()))
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.sess.drop(r)
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
