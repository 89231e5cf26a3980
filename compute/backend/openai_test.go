package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testKey = "sk-test"

// upstream is an httptest server that speaks OpenAI's streaming API as
// script says, and records the last request it received.
type upstream struct {
	*httptest.Server
	lastPath string
	lastAuth string
	lastBody map[string]json.RawMessage
}

func newUpstream(t *testing.T, script func(w http.ResponseWriter, r *http.Request)) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.lastPath, u.lastAuth = r.URL.Path, r.Header.Get("Authorization")
		u.lastBody = nil
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &u.lastBody); err != nil {
				http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
				return
			}
		}
		script(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// sse writes events as an OpenAI server does, flushing each.
func sse(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	for _, e := range events {
		fmt.Fprintf(w, "data: %s\n\n", e)
		w.(http.Flusher).Flush()
	}
}

func chatChunk(content string) string {
	return fmt.Sprintf(`{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]}`, content)
}

const usageChunk = `{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}`

func chatRequest(t *testing.T, body string) *Request {
	t.Helper()
	req, err := ParseRequest(Chat, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

const helloBody = `{"model":"m","messages":[{"role":"user","content":"<hello>"}],"temperature":0.2,"vendor_extra":{"a":1},"stream":false,"stream_options":{"other":"kept","include_usage":false}}`

func collect(ctx context.Context, b Backend, req *Request) ([]string, Usage, error) {
	var chunks []string
	u, err := b.Complete(ctx, req, func(c json.RawMessage) error {
		chunks = append(chunks, string(c))
		return nil
	})
	return chunks, u, err
}

func TestOpenAIStreamsAndMeters(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		// A comment, CRLF line ends and a two-line data field, as real servers may send.
		io.WriteString(w, ": keep-alive\r\n\r\n")
		io.WriteString(w, "event: message\r\ndata: "+chatChunk("Once")+"\r\n\r\n")
		sse(w, chatChunk(" upon"), usageChunk, "[DONE]")
	})
	b := NewOpenAI(up.URL+"/v1/", testKey)
	chunks, usage, err := collect(context.Background(), b, chatRequest(t, helloBody))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if up.lastPath != "/v1/chat/completions" || up.lastAuth != "Bearer "+testKey {
		t.Fatalf("upstream got path %q auth %q", up.lastPath, up.lastAuth)
	}
	if got := string(up.lastBody["stream"]); got != "true" {
		t.Fatalf("forwarded stream = %s, want true", got)
	}
	var so map[string]any
	if err := json.Unmarshal(up.lastBody["stream_options"], &so); err != nil || so["include_usage"] != true || so["other"] != "kept" {
		t.Fatalf("forwarded stream_options = %s, want include_usage true and other kept", up.lastBody["stream_options"])
	}
	for _, k := range []string{"temperature", "vendor_extra", "messages", "model"} {
		if _, ok := up.lastBody[k]; !ok {
			t.Fatalf("field %q was not forwarded", k)
		}
	}
	if !strings.Contains(string(up.lastBody["messages"]), "<hello>") {
		t.Fatalf("messages were changed on the way: %s", up.lastBody["messages"])
	}
	if want := []string{chatChunk("Once"), chatChunk(" upon")}; strings.Join(chunks, "|") != strings.Join(want, "|") {
		t.Fatalf("chunks = %q, want %q (usage-only chunk left out)", chunks, want)
	}
	if usage != (Usage{PromptTokens: 7, CompletionTokens: 3, TotalTokens: 10}) {
		t.Fatalf("usage = %+v", usage)
	}
}

func TestOpenAICompletionEndpointAndUsageOnLastChoice(t *testing.T) {
	last := `{"object":"text_completion","choices":[{"index":0,"text":"!","finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}`
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		// No [DONE] and no blank line after the last event: tolerated, since usage came.
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"object":"text_completion","choices":[{"index":0,"text":"hi"}]}`+"\n\n")
		io.WriteString(w, "data: "+last+"\n")
	})
	req, err := ParseRequest(Completion, []byte(`{"model":"m","prompt":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	chunks, usage, err := collect(context.Background(), NewOpenAI(up.URL, ""), req)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if up.lastPath != "/v1/completions" || up.lastAuth != "" {
		t.Fatalf("upstream got path %q auth %q", up.lastPath, up.lastAuth)
	}
	if len(chunks) != 2 || strings.Contains(chunks[1], "usage") || !strings.Contains(chunks[1], `"text":"!"`) {
		t.Fatalf("chunks = %q, want the last one emitted without its usage", chunks)
	}
	if usage != (Usage{PromptTokens: 2, CompletionTokens: 1, TotalTokens: 3}) {
		t.Fatalf("usage = %+v", usage)
	}
}

func TestOpenAIServerIgnoringStreamOptions(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chatChunk("a"), chatChunk("b"), "[DONE]")
	})
	chunks, _, err := collect(context.Background(), NewOpenAI(up.URL, testKey), chatRequest(t, helloBody))
	if !errors.Is(err, ErrNoUsage) {
		t.Fatalf("Complete = %v, want ErrNoUsage", err)
	}
	if len(chunks) != 2 {
		t.Fatalf("%d chunks emitted before the error, want 2", len(chunks))
	}
}

func TestOpenAIServerAnsweringJSON(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`)
	})
	_, _, err := collect(context.Background(), NewOpenAI(up.URL, testKey), chatRequest(t, helloBody))
	if err == nil || !strings.Contains(err.Error(), "not an event stream") {
		t.Fatalf("Complete = %v, want an error about the missing stream", err)
	}
}

func TestOpenAIErrorMidStream(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chatChunk("a"), `{"error":{"message":"CUDA out of memory","type":"server_error","code":500}}`)
	})
	chunks, _, err := collect(context.Background(), NewOpenAI(up.URL, testKey), chatRequest(t, helloBody))
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || ue.Message != "CUDA out of memory" || ue.Code != "500" {
		t.Fatalf("Complete = %v (%+v), want a mid-stream UpstreamError", err, ue)
	}
	if !strings.Contains(err.Error(), "mid-stream") || len(chunks) != 1 {
		t.Fatalf("error %q after %d chunks", err, len(chunks))
	}
}

func TestOpenAIConnectionDropsMidStream(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chatChunk("a"))
		panic(http.ErrAbortHandler) // the server dies: the connection closes mid-body
	})
	chunks, _, err := collect(context.Background(), NewOpenAI(up.URL, testKey), chatRequest(t, helloBody))
	if err == nil || errors.Is(err, ErrNoUsage) {
		t.Fatalf("Complete = %v, want a broken-stream error", err)
	}
	if len(chunks) != 1 {
		t.Fatalf("%d chunks, want 1", len(chunks))
	}
}

func TestOpenAIStreamEndsEarly(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chatChunk("a")) // then a clean end of body, no usage, no [DONE]
	})
	_, _, err := collect(context.Background(), NewOpenAI(up.URL, testKey), chatRequest(t, helloBody))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("Complete = %v, want ErrTruncated", err)
	}
}

func TestOpenAIUpstreamHTTPErrors(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		wantMsg   string
		wantModel bool
	}{
		{404, `{"error":{"message":"The model 'x' does not exist","type":"invalid_request_error","code":"model_not_found"}}`, "does not exist", true},
		{404, `{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","code":404}`, "does not exist", true},
		{400, `{"error":{"message":"This model's maximum context length is 2048 tokens","type":"invalid_request_error","code":400}}`, "maximum context length", false},
		{401, `{"error":"invalid api key"}`, "invalid api key", false},
		{502, `<html>bad gateway</html>`, "bad gateway", false},
	}
	for _, tc := range cases {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		})
		_, _, err := collect(context.Background(), NewOpenAI(up.URL, testKey), chatRequest(t, helloBody))
		var ue *UpstreamError
		if !errors.As(err, &ue) || ue.Status != tc.status || !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("HTTP %d: Complete = %v, want an UpstreamError with status and %q", tc.status, err, tc.wantMsg)
		}
		if errors.Is(err, ErrUnknownModel) != tc.wantModel {
			t.Errorf("HTTP %d: errors.Is(err, ErrUnknownModel) = %v, want %v", tc.status, !tc.wantModel, tc.wantModel)
		}
	}
}

// TestOpenAICancelPropagates: cancelling the caller's context (a client
// that disconnected) ends the upstream request too.
func TestOpenAICancelPropagates(t *testing.T) {
	serverSawCancel := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chatChunk("a"))
		<-r.Context().Done() // a slow engine: nothing more until the client goes
		close(serverSawCancel)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := NewOpenAI(up.URL, testKey).Complete(ctx, chatRequest(t, helloBody), func(json.RawMessage) error {
		cancel() // the client disconnects after the first chunk
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Complete = %v, want context.Canceled", err)
	}
	select {
	case <-serverSawCancel:
	case <-time.After(30 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
}

func TestOpenAIEmitErrorStops(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chatChunk("a"), chatChunk("b"), usageChunk, "[DONE]")
	})
	stop := errors.New("client went away")
	n := 0
	_, err := NewOpenAI(up.URL, testKey).Complete(context.Background(), chatRequest(t, helloBody), func(json.RawMessage) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Complete = %v after %d emits, want the emit error after 1", err, n)
	}
}

func TestOpenAIModels(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"llama-3","object":"model","created":1,"owned_by":"me"},{"id":"qwen","object":"model"}]}`)
	})
	models, err := NewOpenAI(up.URL, testKey, WithWeightsHash("llama-3", "abcd")).Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if up.lastAuth != "Bearer "+testKey {
		t.Fatalf("auth = %q", up.lastAuth)
	}
	want := []Model{{ID: "llama-3", WeightsHash: "abcd"}, {ID: "qwen"}}
	if len(models) != 2 || models[0] != want[0] || models[1] != want[1] {
		t.Fatalf("models = %+v, want %+v", models, want)
	}
}

func TestOpenAIUnreachableAndBadURL(t *testing.T) {
	up := newUpstream(t, func(http.ResponseWriter, *http.Request) {})
	addr := up.URL
	up.Close()
	if _, err := NewOpenAI(addr, "").Models(context.Background()); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("Models on a closed server = %v, want an unreachable error", err)
	}
	if _, err := NewOpenAI("localhost:8000", "").Models(context.Background()); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Fatalf("Models with a bad URL = %v, want a URL error", err)
	}
}
