package toncenter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
)

// MaxBody bounds a request body: a BOC of ton.MaxExternalSize in base64
// and the other parameters fit well under it.
const MaxBody = 256 << 10

// Source gives the chain to serve, or an error while there is none yet
// (the node's ledger may still be connecting to its chain host).
type Source func() (ton.Chain, error)

// Handler answers toncenter v2 requests. It is safe for concurrent use.
type Handler struct {
	src     Source
	log     *slog.Logger
	prefix  string
	testnet bool
	timeout time.Duration
}

// Option configures New.
type Option func(*Handler)

// WithLogger sends the handler's logs to l.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithPrefix sets the path the handler is mounted at (default "/ton/api/v2/").
func WithPrefix(p string) Option { return func(h *Handler) { h.prefix = p } }

// WithTestnet makes user-friendly addresses in answers carry the
// testnet-only flag, as on TON testnet (default true: tonmesh's testnets).
func WithTestnet(on bool) Option { return func(h *Handler) { h.testnet = on } }

// WithTimeout bounds each request's work on the chain (default 30 s).
func WithTimeout(d time.Duration) Option { return func(h *Handler) { h.timeout = d } }

// New returns a handler serving the chain src gives.
func New(src Source, opts ...Option) *Handler {
	h := &Handler{src: src, log: slog.New(slog.DiscardHandler), prefix: "/ton/api/v2/", testnet: true, timeout: 30 * time.Second}
	for _, o := range opts {
		o(h)
	}
	return h
}

// apiError is an answer {"ok":false,"error":msg,"code":code}.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func errf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Errors toncenter itself answers with.
var (
	errAddress = &apiError{code: 416, msg: "Incorrect address"}
	errUnknown = &apiError{code: 422, msg: "Unknown method"}
)

// method is one API method: get says it is a GET route (else POST).
type method struct {
	get bool
	run func(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error)
}

var methods map[string]method

func init() {
	methods = map[string]method{
		"getAddressInformation": {true, getAddressInformation},
		"getAddressBalance":     {true, getAddressBalance},
		"getAddressState":       {true, getAddressState},
		"getWalletInformation":  {true, getWalletInformation},
		"getTransactions":       {true, getTransactions},
		"getMasterchainInfo":    {true, getMasterchainInfo},
		"runGetMethod":          {false, runGetMethod},
		"sendBoc":               {false, sendBoc},
		"sendBocReturnHash":     {false, sendBocReturnHash},
		"estimateFee":           {false, estimateFee},
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok || strings.Contains(name, "/") {
		writeError(w, &apiError{code: http.StatusNotFound, msg: "Not Found"})
		return
	}
	if name == "jsonRPC" {
		h.jsonRPC(w, r)
		return
	}
	m, ok := methods[name]
	if !ok {
		writeError(w, &apiError{code: http.StatusNotFound, msg: "Not Found"})
		return
	}
	if (m.get && r.Method != http.MethodGet) || (!m.get && r.Method != http.MethodPost) {
		writeError(w, &apiError{code: http.StatusMethodNotAllowed, msg: "Method Not Allowed"})
		return
	}
	p, err := requestParams(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := h.call(r.Context(), m, p)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": res})
}

// call runs m with a chain and a deadline, mapping every failure to an
// apiError.
func (h *Handler) call(ctx context.Context, m method, p params) (any, error) {
	c, err := h.src()
	if err != nil {
		return nil, &apiError{code: http.StatusServiceUnavailable, msg: "chain not ready: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	res, err := m.run(ctx, h, c, p)
	if err != nil {
		return nil, h.mapError(ctx, err)
	}
	return res, nil
}

// mapError keeps apiErrors and classifies the chain's errors.
func (h *Handler) mapError(ctx context.Context, err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ton.ErrRejected):
		return errf(422, "LITE_SERVER_UNKNOWN: cannot apply external message to current state : External message was not accepted: %v", err)
	case ctx.Err() != nil:
		return &apiError{code: http.StatusGatewayTimeout, msg: "Liteserver timeout"}
	}
	h.log.Warn("toncenter API: chain call failed", "err", err)
	return &apiError{code: http.StatusServiceUnavailable, msg: err.Error()}
}

// rpcRequest is the body of POST jsonRPC.
type rpcRequest struct {
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      any             `json:"id"`
	JSONRPC any             `json:"jsonrpc"`
}

func (h *Handler) jsonRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, &apiError{code: http.StatusMethodNotAllowed, msg: "Method Not Allowed"})
		return
	}
	body, aerr := readBody(w, r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	var req rpcRequest
	if err := decodeJSON(body, &req); err != nil {
		writeError(w, errf(422, "Validation error: %v", err))
		return
	}
	id := rpcID(req.ID)
	answer := func(status int, v map[string]any) {
		if id != nil {
			v["id"] = *id
		}
		v["jsonrpc"] = "2.0"
		writeJSON(w, status, v)
	}
	m, ok := methods[req.Method]
	if !ok {
		answer(errUnknown.code, map[string]any{"ok": false, "error": errUnknown.msg, "code": errUnknown.code})
		return
	}
	p := params{}
	if len(bytes.TrimSpace(req.Params)) > 0 && string(bytes.TrimSpace(req.Params)) != "null" {
		if err := decodeJSON(req.Params, &p); err != nil {
			answer(422, map[string]any{"ok": false, "error": "Validation error: params: " + err.Error(), "code": 422})
			return
		}
	}
	res, err := h.call(r.Context(), m, p)
	if err != nil {
		ae := err.(*apiError)
		answer(ae.code, map[string]any{"ok": false, "error": ae.msg, "code": ae.code})
		return
	}
	answer(http.StatusOK, map[string]any{"ok": true, "result": res})
}

// rpcID renders a request id as toncenter does (a string), nil if absent.
func rpcID(v any) *string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return &x
	case json.Number:
		s := x.String()
		return &s
	default:
		b, _ := json.Marshal(x)
		s := string(b)
		return &s
	}
}

// requestParams merges the query string and, for POST, a JSON object body.
func requestParams(w http.ResponseWriter, r *http.Request) (params, error) {
	p := params{}
	if r.Method == http.MethodPost {
		body, err := readBody(w, r)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := decodeJSON(body, &p); err != nil {
				return nil, errf(422, "Validation error: body: %v", err)
			}
		}
	}
	for k, vs := range r.URL.Query() {
		if _, set := p[k]; !set && len(vs) > 0 && k != "api_key" {
			p[k] = vs[0]
		}
	}
	return p, nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errf(http.StatusRequestEntityTooLarge, "request body over %d bytes", MaxBody)
		}
		return nil, errf(http.StatusBadRequest, "read request body: %v", err)
	}
	return body, nil
}

// decodeJSON reads exactly one JSON value into v, numbers as json.Number.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func writeError(w http.ResponseWriter, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		ae = &apiError{code: http.StatusServiceUnavailable, msg: err.Error()}
	}
	writeJSON(w, ae.code, map[string]any{"ok": false, "error": ae.msg, "code": ae.code})
}

// WriteError answers with toncenter's error shape; the node uses it for
// requests without a valid API key.
func WriteError(w http.ResponseWriter, code int, msg string) {
	writeError(w, &apiError{code: code, msg: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// extra is the "@extra" tonlib echoes: a request tag, here time and noise.
func extra() string {
	return fmt.Sprintf("%.6f:0:%.16f", float64(time.Now().UnixMicro())/1e6, rand.Float64())
}
