package llama2c

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/compute/backend"
)

// wireChunk is the union of the chat and completion chunk shapes, decoded
// strictly from what the adapter emits.
type wireChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta *struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

// complete runs req and returns the decoded chunks, the raw chunks and
// the usage.
func complete(t *testing.T, b backend.Backend, req *backend.Request) ([]wireChunk, []string, backend.Usage) {
	t.Helper()
	var chunks []wireChunk
	var raws []string
	usage, err := b.Complete(context.Background(), req, func(raw json.RawMessage) error {
		if !json.Valid(raw) {
			t.Fatalf("chunk is not JSON: %s", raw)
		}
		var c wireChunk
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("chunk %s: %v", raw, err)
		}
		chunks = append(chunks, c)
		raws = append(raws, string(raw))
		return nil
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	return chunks, raws, usage
}

func ptr[T any](v T) *T { return &v }

func TestBackendChatChunks(t *testing.T) {
	m := Random(smallConfig(), 3)
	b := NewBackend("demo", m)
	req := &backend.Request{Kind: backend.Chat, Model: "demo", MaxTokens: 12, Seed: ptr[int64](5),
		Messages: []backend.Message{{Role: "system", Content: "be brief"}, {Role: "assistant", Content: "ignored"}, {Role: "user", Content: "the tale"}}}
	chunks, raws, usage := complete(t, b, req)

	// The same generation through Generate: the joined prompt, the defaults.
	want, pt, ct, finish := generate(t, m, "be brief\nthe tale", 12, Sampling{Temperature: 1, TopP: 0.9, Seed: 5})
	if usage != (backend.Usage{PromptTokens: pt, CompletionTokens: ct, TotalTokens: pt + ct}) {
		t.Errorf("usage = %+v, want %d prompt + %d completion", usage, pt, ct)
	}
	if len(chunks) < 3 {
		t.Fatalf("%d chunks, want role, content and finish chunks", len(chunks))
	}
	first, last := chunks[0], chunks[len(chunks)-1]
	if d := first.Choices[0].Delta; d == nil || d.Role == nil || *d.Role != "assistant" || d.Content != nil {
		t.Errorf("first chunk %s, want a delta with role assistant only", raws[0])
	}
	if d := last.Choices[0].Delta; d == nil || d.Role != nil || d.Content != nil || last.Choices[0].FinishReason == nil || *last.Choices[0].FinishReason != finish {
		t.Errorf("last chunk %s, want an empty delta and finish_reason %q", raws[len(raws)-1], finish)
	}
	var text strings.Builder
	for i, c := range chunks {
		if c.ID != first.ID || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion.chunk" || c.Model != "demo" || c.Created == 0 {
			t.Errorf("chunk %d header: %s", i, raws[i])
		}
		if len(c.Choices) != 1 || c.Choices[0].Index != 0 || c.Choices[0].Text != nil {
			t.Errorf("chunk %d choices: %s", i, raws[i])
		}
		if i > 0 && i < len(chunks)-1 {
			if !strings.Contains(raws[i], `"finish_reason":null`) || c.Choices[0].Delta.Content == nil {
				t.Errorf("content chunk %d: %s", i, raws[i])
			} else {
				text.WriteString(*c.Choices[0].Delta.Content)
			}
		}
	}
	if want = viaJSON(t, want); text.String() != want {
		t.Errorf("content = %q, want %q (same seed through Generate)", text.String(), want)
	}
}

func TestBackendCompletionChunks(t *testing.T) {
	m := Random(smallConfig(), 3)
	b := NewBackend("demo", m)
	chunks, raws, usage := complete(t, b, &backend.Request{Kind: backend.Completion, Model: "demo", Prompt: "once", MaxTokens: 9, Temperature: ptr(0.0)})
	want, pt, ct, finish := generate(t, m, "once", 9, Sampling{})
	if usage.PromptTokens != pt || usage.CompletionTokens != ct || usage.TotalTokens != pt+ct {
		t.Errorf("usage = %+v, want %d+%d", usage, pt, ct)
	}
	var text strings.Builder
	for i, c := range chunks {
		ch := c.Choices[0]
		if c.Object != "text_completion" || !strings.HasPrefix(c.ID, "cmpl-") || ch.Delta != nil || ch.Text == nil {
			t.Fatalf("chunk %d: %s", i, raws[i])
		}
		text.WriteString(*ch.Text)
		if last := i == len(chunks)-1; last != (ch.FinishReason != nil) {
			t.Errorf("chunk %d of %d has finish_reason %v: %s", i, len(chunks), ch.FinishReason, raws[i])
		}
	}
	if got := *chunks[len(chunks)-1].Choices[0].FinishReason; got != finish {
		t.Errorf("finish_reason = %q, want %q", got, finish)
	}
	if want = viaJSON(t, want); text.String() != want {
		t.Errorf("text = %q, want greedy %q", text.String(), want)
	}
}

func TestBackendStopStrings(t *testing.T) {
	m := Random(smallConfig(), 3)
	b := NewBackend("demo", m)
	var full string
	seed := int64(0)
	for ; seed < 20 && len(full) < 20; seed++ { // a seed whose text runs long enough
		full, _, _, _ = generate(t, m, "a", 40, Sampling{Temperature: 1, TopP: 0.9, Seed: uint64(seed + 1)})
	}
	if len(full) < 20 {
		t.Fatalf("reference text %q too short to pick a stop string from", full)
	}
	base := &backend.Request{Kind: backend.Completion, Model: "demo", Prompt: "a", MaxTokens: 40, Seed: ptr(seed)}
	full = viaJSON(t, full)
	stop := ""
	for i := 5; i+3 <= len(full) && stop == ""; i++ {
		if isPrintableASCII(full[i : i+3]) {
			stop = full[i : i+3]
		}
	}
	if stop == "" {
		t.Fatalf("no printable stop string in %q", full)
	}
	cut := strings.Index(full, stop)
	req := *base
	req.Stop = []string{"never-in-the-text", stop}
	chunks, _, usage := complete(t, b, &req)
	var text strings.Builder
	for _, c := range chunks {
		text.WriteString(*c.Choices[0].Text)
	}
	if text.String() != full[:cut] {
		t.Errorf("with stop %q: %q, want %q", stop, text.String(), full[:cut])
	}
	if fr := chunks[len(chunks)-1].Choices[0].FinishReason; fr == nil || *fr != FinishStop {
		t.Errorf("finish_reason = %v, want stop", fr)
	}
	if usage.CompletionTokens < 1 || usage.CompletionTokens > 40 {
		t.Errorf("usage %+v", usage)
	}
}

func TestStopFilterAcrossPieces(t *testing.T) {
	var out []string
	f := stopFilter{stops: []string{"END", "xy"}, emit: func(s string) error { out = append(out, s); return nil }}
	var err error
	for _, p := range []string{"ab", "cE", "N", "dx", "z E", "ND tail"} {
		if err = f.write(p); err != nil {
			break
		}
	}
	if !errors.Is(err, stopMatched{}) {
		t.Fatalf("err = %v, want the stop-string sentinel", err)
	}
	if got := strings.Join(out, "|"); got != "ab|c|ENd|xz " {
		t.Errorf("emitted %q, want text up to END with partial matches held", got)
	}
}

func TestBackendRequestErrors(t *testing.T) {
	b := NewBackend("demo", Random(smallConfig(), 3))
	cases := []struct {
		req  backend.Request
		want string
	}{
		{backend.Request{Kind: backend.Chat, Model: "other", Messages: []backend.Message{{Role: "user", Content: "x"}}}, "not served"},
		{backend.Request{Kind: backend.Chat, Model: "demo"}, "no system or user message"},
		{backend.Request{Kind: "embeddings", Model: "demo"}, "kind"},
		{backend.Request{Kind: backend.Completion, Model: "demo", MaxTokens: -1}, "max_tokens"},
		{backend.Request{Kind: backend.Completion, Model: "demo", TopP: ptr(0.0)}, "top_p"},
		{backend.Request{Kind: backend.Completion, Model: "demo", Temperature: ptr(-0.5)}, "temperature"},
		{backend.Request{Kind: backend.Chat, Model: "demo", Messages: []backend.Message{{Role: "user", Content: strings.Repeat("\x01", 100)}}}, "context"},
	}
	for _, c := range cases {
		_, err := b.Complete(context.Background(), &c.req, func(json.RawMessage) error {
			t.Errorf("%+v: emitted a chunk", c.req)
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want one mentioning %q", c.req, err, c.want)
		}
	}
	_, err := b.Complete(context.Background(), &cases[0].req, nil)
	if !errors.Is(err, backend.ErrUnknownModel) {
		t.Errorf("unknown model: %v, want ErrUnknownModel", err)
	}
}

func TestBackendDefaultsAndCancel(t *testing.T) {
	m := Random(smallConfig(), 3)
	b := NewBackend("demo", m)
	models, err := b.Models(context.Background())
	if err != nil || len(models) != 1 || models[0].ID != "demo" || models[0].WeightsHash != m.WeightsHash() {
		t.Fatalf("Models = %+v, %v", models, err)
	}
	// No max_tokens: 256 capped at seq_len 64 (less the prompt); low
	// temperature keeps the model off its stop tokens.
	req := &backend.Request{Kind: backend.Completion, Model: "demo", Prompt: "a", Temperature: ptr(0.2), Seed: ptr[int64](2)}
	_, _, usage := complete(t, b, req)
	if usage.CompletionTokens > m.cfg.SeqLen || usage.CompletionTokens < 10 {
		t.Errorf("default max_tokens gave %d tokens, want up to seq_len %d", usage.CompletionTokens, m.cfg.SeqLen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	usage, err = b.Complete(ctx, req, func(json.RawMessage) error {
		if n++; n == 4 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || usage.CompletionTokens > 5 {
		t.Errorf("cancelled after 4 chunks: %+v, %v", usage, err)
	}
}

// viaJSON is s as a JSON string decodes: invalid UTF-8 bytes become U+FFFD.
func viaJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
