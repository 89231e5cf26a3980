package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// bridged lists the API path prefixes the page may reach through the
// bridge: the services' routes and the OpenAI routes, not /metrics, the
// toncenter API or the login-link route.
var bridged = []string{"/api/v1/", "/v1/"}

// bridge forwards /ui/api/<path> to the API's /<path> with the bearer
// token added here, so that the page never holds it. The session cookie
// is not forwarded.
func (s *Server) bridge(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/ui/api")
	ok := false
	for _, p := range bridged {
		ok = ok || strings.HasPrefix(path, p)
	}
	if !ok || strings.HasPrefix(path, "/api/v1/ui/") {
		http.Error(w, "the bridge forwards /ui/api/api/v1/… and /ui/api/v1/… only", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.RequestURI = ""
	r2.Header.Del("Cookie")
	r2.Header.Set("Authorization", "Bearer "+s.token)
	s.api.ServeHTTP(w, r2)
}

// recorder is the ResponseWriter the server-side calls to the API write to.
type recorder struct {
	code int
	h    http.Header
	body bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

// apiError is an API error answer: the status and the message that says
// what to fix.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Message }

// call sends one request to the API in process and decodes a 2xx JSON
// answer into out (when out is not nil); other answers are *apiError.
func (s *Server) call(ctx context.Context, method, path string, body, out any) error {
	if body == nil {
		return s.send(ctx, method, path, "", nil, 0, out)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return s.send(ctx, method, path, "application/json", bytes.NewReader(b), int64(len(b)), out)
}

// send is call of a body of size bytes of media type contentType, read
// as the API takes it.
func (s *Server) send(ctx context.Context, method, path, contentType string, body io.Reader, size int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
		req.ContentLength = size
	}
	rec := &recorder{h: http.Header{}}
	s.api.ServeHTTP(rec, req)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	if rec.code/100 != 2 {
		var eb struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		msg := strings.TrimSpace(rec.body.String())
		if json.Unmarshal(rec.body.Bytes(), &eb) == nil && eb.Error.Message != "" {
			msg = eb.Error.Message
		}
		return &apiError{Status: rec.code, Message: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// errText is err's message for a page, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
