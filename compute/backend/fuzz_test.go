package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func FuzzParseRequest(f *testing.F) {
	f.Add(true, []byte(helloBody))
	f.Add(true, []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"stop":["x"],"max_tokens":3}`))
	f.Add(false, []byte(`{"model":"m","prompt":["x"],"temperature":1,"top_p":0.5,"seed":-1}`))
	f.Add(false, []byte(`{"model":"m","prompt":null}`))
	f.Fuzz(func(t *testing.T, chat bool, body []byte) {
		kind := Completion
		if chat {
			kind = Chat
		}
		req, err := ParseRequest(kind, body)
		if err != nil {
			return
		}
		switch {
		case req.Model == "":
			t.Fatal("accepted a request without a model")
		case kind == Chat && len(req.Messages) == 0:
			t.Fatal("accepted a chat request without messages")
		case req.MaxTokens < 0:
			t.Fatal("accepted a negative max_tokens")
		case len(req.Stop) > MaxStop:
			t.Fatal("accepted too many stop sequences")
		case !bytes.Equal(req.Body, body):
			t.Fatal("Body is not the input")
		}
		// Whatever parses can be forwarded to an HTTP backend.
		if _, err := forceStreamUsage(body); err != nil {
			t.Fatalf("a parsed request does not rewrite: %v", err)
		}
	})
}

// FuzzReadStream reads arbitrary bytes as an upstream event stream: no
// panic, no chunk with usage, and usage only with no error.
func FuzzReadStream(f *testing.F) {
	f.Add([]byte("data: " + chatChunk("a") + "\n\ndata: " + usageChunk + "\n\ndata: [DONE]\n\n"))
	f.Add([]byte(": c\r\ndata: {\"choices\":[{}],\r\ndata: \"usage\":{\"prompt_tokens\":1}}\r\n\r\n"))
	f.Add([]byte("data: {\"error\":\"boom\"}\n\n"))
	f.Add([]byte("data:[DONE]"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		_, err := readStream(context.Background(), bytes.NewReader(stream), func(c json.RawMessage) error {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(c, &m); err != nil {
				t.Fatalf("emitted a chunk that is not a JSON object: %q", c)
			}
			if u, ok := m["usage"]; ok && !isNull(u) {
				t.Fatalf("emitted a chunk with usage: %q", c)
			}
			return nil
		})
		_ = err
	})
}

func FuzzParseUpstreamError(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"m","type":"t","code":"model_not_found"}}`))
	f.Add([]byte(`{"object":"error","message":"m","code":404}`))
	f.Add([]byte(`{"error":"m"}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e := parseUpstreamError(404, body)
		if e == nil || e.Status != 404 || e.Error() == "" {
			t.Fatal("no usable error")
		}
	})
}
