package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Limits on what an upstream server may send.
const (
	maxErrorBody  = 64 << 10
	maxModelsBody = 4 << 20
)

// ErrNoUsage: the upstream server streamed an answer without a usage
// chunk, so the request cannot be metered.
var ErrNoUsage = errors.New(`backend: the upstream server sent no usage in its stream, so the request cannot be metered: it ignores "stream_options": {"include_usage": true}; upgrade it or use a server that supports it (vLLM, SGLang, llama.cpp, Ollama do)`)

// ErrTruncated: the upstream stream ended before its end marker and usage.
var ErrTruncated = errors.New("backend: the upstream stream ended before data: [DONE] and before any usage: the answer is incomplete")

// UpstreamError is an error the upstream server reported, in the OpenAI
// error shape or close to it.
type UpstreamError struct {
	// Status is the HTTP status; 0 when the error came inside a stream
	// that had already started.
	Status  int
	Type    string
	Code    string
	Message string
}

func (e *UpstreamError) Error() string {
	where := "mid-stream"
	if e.Status != 0 {
		where = fmt.Sprintf("with HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	return fmt.Sprintf("backend: the upstream server failed %s: %s", where, msg)
}

// Unwrap makes errors.Is(err, ErrUnknownModel) true when the upstream
// server says the model does not exist.
func (e *UpstreamError) Unwrap() error {
	if e.Code == "model_not_found" || (e.Status == http.StatusNotFound && strings.Contains(strings.ToLower(e.Message), "model")) {
		return ErrUnknownModel
	}
	return nil
}

// OpenAIOption configures NewOpenAI.
type OpenAIOption func(*openAI)

// WithHTTPClient sets the HTTP client (default: a client with no overall
// timeout, since answers stream; bound requests with their context).
func WithHTTPClient(c *http.Client) OpenAIOption {
	return func(o *openAI) { o.client = c }
}

// WithWeightsHash declares the weights hash (hex SHA-256 of the
// checkpoint) of a model the server serves; Models reports it. An HTTP
// server cannot say which weights it loaded, so the operator does.
func WithWeightsHash(model, hash string) OpenAIOption {
	return func(o *openAI) { o.hashes[model] = hash }
}

type openAI struct {
	base   string // scheme://host[:port][/prefix], without /v1
	key    string
	client *http.Client
	hashes map[string]string
	err    error // a bad base URL, reported by every call
}

// NewOpenAI returns a backend that forwards requests to an OpenAI-compatible
// server (vLLM, SGLang, llama.cpp, Ollama) at baseURL ("http://host:8000";
// a trailing "/v1" is accepted too), with apiKey as bearer token when it is
// not empty.
//
// Complete forces "stream": true and "stream_options": {"include_usage":
// true} into the client's body (other fields are kept), passes each chunk
// through without the usage-only chunk, and returns the usage from that
// chunk; a server that sends no usage gives ErrNoUsage.
func NewOpenAI(baseURL, apiKey string, opts ...OpenAIOption) Backend {
	o := &openAI{key: apiKey, client: &http.Client{Transport: keepAliveTransport()}, hashes: map[string]string{}}
	for _, opt := range opts {
		opt(o)
	}
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		o.err = fmt.Errorf("backend: openai base URL %q is not an http(s) URL (example: http://127.0.0.1:8000)", baseURL)
		return o
	}
	o.base = strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/v1")
	return o
}

func (o *openAI) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	if o.err != nil {
		return nil, o.err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("backend: openai: build the request: %w", err)
	}
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (o *openAI) do(ctx context.Context, req *http.Request) (*http.Response, error) {
	resp, err := o.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("backend: openai: request cancelled: %w", ctx.Err())
		}
		return nil, fmt.Errorf("backend: openai: the server at %s does not answer (is it running?): %w", o.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readUpstreamError(resp)
	}
	return resp, nil
}

// Models lists the server's models (GET /v1/models).
func (o *openAI) Models(ctx context.Context) ([]Model, error) {
	req, err := o.newRequest(ctx, http.MethodGet, "/v1/models", nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxModelsBody)).Decode(&list); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("backend: openai: request cancelled: %w", ctx.Err())
		}
		return nil, fmt.Errorf("backend: openai: GET /v1/models answered something that is not a model list: %w", err)
	}
	models := make([]Model, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID == "" {
			continue
		}
		models = append(models, Model{ID: m.ID, WeightsHash: o.hashes[m.ID]})
	}
	return models, nil
}

// Complete runs req on the server and streams its chunks to emit.
func (o *openAI) Complete(ctx context.Context, req *Request, emit func(chunk json.RawMessage) error) (Usage, error) {
	if req == nil || len(req.Body) == 0 {
		return Usage{}, errors.New("backend: openai: the request has no body to forward")
	}
	path := "/v1/chat/completions"
	switch req.Kind {
	case Chat:
	case Completion:
		path = "/v1/completions"
	default:
		return Usage{}, fmt.Errorf("backend: openai: request kind %q is unknown", req.Kind)
	}
	body, err := forceStreamUsage(req.Body)
	if err != nil {
		return Usage{}, err
	}
	hreq, err := o.newRequest(ctx, http.MethodPost, path, body)
	if err != nil {
		return Usage{}, err
	}
	hreq.Header.Set("Accept", "text/event-stream")
	resp, err := o.do(ctx, hreq)
	if err != nil {
		return Usage{}, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return Usage{}, fmt.Errorf(`backend: openai: the server answered %q, not an event stream: it ignores "stream": true`, resp.Header.Get("Content-Type"))
	}
	usage, err := readStream(ctx, resp.Body, emit)
	if err == nil {
		// Read what follows [DONE] so the connection goes back to the pool.
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	}
	return usage, err
}

// drainLimit bounds what is read after the end of a stream to reuse its
// connection; a server that sends more loses the connection instead.
const drainLimit = 64 << 10

// keepAliveTransport keeps as many idle connections to the server as a
// worker runs requests at once: net/http's default of 2 per host would
// open a new connection for most requests of a busy worker.
func keepAliveTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	return t
}

// forceStreamUsage rewrites an OpenAI JSON body with "stream": true and
// "stream_options.include_usage": true, keeping every other field (and
// other stream_options) as the client sent it.
func forceStreamUsage(body []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, errors.New("backend: openai: the request body is not a JSON object")
	}
	opts := map[string]json.RawMessage{}
	if raw, ok := m["stream_options"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if err := json.Unmarshal(raw, &opts); err != nil || opts == nil {
			return nil, errors.New("stream_options must be an object")
		}
	}
	opts["include_usage"] = json.RawMessage("true")
	so, err := marshalRaw(opts)
	if err != nil {
		return nil, err
	}
	m["stream"] = json.RawMessage("true")
	m["stream_options"] = so
	return marshalRaw(m)
}

// marshalRaw encodes a JSON object without HTML escaping (so the body
// differs from the client's only where it has to).
func marshalRaw(m map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("backend: openai: re-encode the request: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
