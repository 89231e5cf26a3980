package llama2c

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tonmesh/tonmesh/compute/backend"
)

// Defaults of the backend adapter for fields a request leaves unset.
const (
	DefaultMaxTokens   = 256
	DefaultTemperature = 1.0
	DefaultTopP        = 0.9
)

// NewBackend serves m as the model called name through the compute
// backend interface. Chat messages are joined into one prompt (the content
// of system, developer and user messages, in order, one per line);
// completions use the prompt as is.
func NewBackend(name string, m *Model) backend.Backend {
	return &adapter{name: name, m: m}
}

type adapter struct {
	name string
	m    *Model
}

func (a *adapter) Models(context.Context) ([]backend.Model, error) {
	return []backend.Model{{ID: a.name, WeightsHash: a.m.WeightsHash()}}, nil
}

// stopMatched ends generation when a stop string matched.
type stopMatched struct{}

func (stopMatched) Error() string { return "llama2c: stop string matched" }

func (a *adapter) Complete(ctx context.Context, req *backend.Request, emit func(json.RawMessage) error) (backend.Usage, error) {
	if req.Model != a.name {
		return backend.Usage{}, fmt.Errorf("%w: %q (this backend serves %q)", backend.ErrUnknownModel, req.Model, a.name)
	}
	prompt, err := requestPrompt(req)
	if err != nil {
		return backend.Usage{}, err
	}
	maxTokens, s, err := a.params(req)
	if err != nil {
		return backend.Usage{}, err
	}
	cw := newChunkWriter(req.Kind, a.name, emit)
	stop := stopFilter{stops: req.Stop, emit: cw.text}
	pt, ct, finish, err := a.m.Generate(ctx, prompt, maxTokens, s, stop.write)
	usage := backend.Usage{PromptTokens: pt, CompletionTokens: ct, TotalTokens: pt + ct}
	switch {
	case errors.Is(err, stopMatched{}):
		finish = FinishStop
	case err != nil:
		return usage, err
	default:
		if err := stop.flush(); err != nil {
			return usage, err
		}
	}
	return usage, cw.finish(finish)
}

func requestPrompt(req *backend.Request) (string, error) {
	switch req.Kind {
	case backend.Completion:
		return req.Prompt, nil
	case backend.Chat:
		var parts []string
		for _, msg := range req.Messages {
			switch msg.Role {
			case "system", "developer", "user":
				parts = append(parts, msg.Content)
			}
		}
		if len(parts) == 0 {
			return "", fmt.Errorf("llama2c: %w: the chat request has no system or user message: send at least one", backend.ErrBadRequest)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("llama2c: request kind %q: want %q or %q", req.Kind, backend.Chat, backend.Completion)
}

// params applies the defaults and limits to the request's sampling fields.
func (a *adapter) params(req *backend.Request) (int, Sampling, error) {
	maxTokens := req.MaxTokens
	switch {
	case maxTokens < 0:
		return 0, Sampling{}, fmt.Errorf("llama2c: %w: max_tokens %d: use a positive number or leave it out", backend.ErrBadRequest, maxTokens)
	case maxTokens == 0:
		maxTokens = DefaultMaxTokens
	}
	maxTokens = min(maxTokens, a.m.cfg.SeqLen)
	s := Sampling{Temperature: DefaultTemperature, TopP: DefaultTopP}
	if req.Temperature != nil {
		s.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		if *req.TopP <= 0 {
			return 0, Sampling{}, fmt.Errorf("llama2c: %w: top_p %v: use a number above 0 and at most 1", backend.ErrBadRequest, *req.TopP)
		}
		s.TopP = *req.TopP
	}
	if req.Seed != nil {
		s.Seed = uint64(*req.Seed)
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		for _, x := range b {
			s.Seed = s.Seed<<8 | uint64(x)
		}
	}
	if err := s.validate(); err != nil {
		return 0, Sampling{}, fmt.Errorf("llama2c: %w: %w", backend.ErrBadRequest, err)
	}
	return maxTokens, s, nil
}

// stopFilter passes text on up to the first stop string, holding back any
// tail that could be the start of one.
type stopFilter struct {
	stops   []string
	emit    func(string) error
	pending string
}

func (f *stopFilter) write(piece string) error {
	f.pending += piece
	cut, matched := len(f.pending), false
	for _, s := range f.stops {
		if s == "" {
			continue
		}
		if i := strings.Index(f.pending, s); i >= 0 && (!matched || i < cut) {
			cut, matched = i, true
		}
	}
	if matched {
		out := f.pending[:cut]
		f.pending = ""
		if out != "" {
			if err := f.emit(out); err != nil {
				return err
			}
		}
		return stopMatched{}
	}
	hold := 0
	for _, s := range f.stops {
		hold = max(hold, partialSuffix(f.pending, s))
	}
	out := f.pending[:len(f.pending)-hold]
	f.pending = f.pending[len(f.pending)-hold:]
	if out == "" {
		return nil
	}
	return f.emit(out)
}

func (f *stopFilter) flush() error {
	out := f.pending
	f.pending = ""
	if out == "" {
		return nil
	}
	return f.emit(out)
}

// partialSuffix is the length of the longest suffix of text, starting on a
// character boundary, that is a proper prefix of stop.
func partialSuffix(text, stop string) int {
	for n := min(len(text), len(stop)-1); n > 0; n-- {
		if utf8.RuneStart(text[len(text)-n]) && strings.HasSuffix(text, stop[:n]) {
			return n
		}
	}
	return 0
}

// chunkWriter emits OpenAI streaming chunks for one request.
type chunkWriter struct {
	kind    backend.Kind
	id      string
	model   string
	created int64
	emit    func(json.RawMessage) error
	started bool // the chat role chunk went out
}

func newChunkWriter(kind backend.Kind, model string, emit func(json.RawMessage) error) *chunkWriter {
	var b [12]byte
	_, _ = rand.Read(b[:])
	prefix := "cmpl-"
	if kind == backend.Chat {
		prefix = "chatcmpl-"
	}
	return &chunkWriter{kind: kind, id: prefix + hex.EncodeToString(b[:]), model: model, created: time.Now().Unix(), emit: emit}
}

type chatDelta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

type chatChoice struct {
	Index        int       `json:"index"`
	Delta        chatDelta `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
}

type textChoice struct {
	Index        int     `json:"index"`
	Text         string  `json:"text"`
	FinishReason *string `json:"finish_reason"`
}

type chunk[C any] struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []C    `json:"choices"`
}

// start emits the chat role chunk before the first other chunk, so that a
// request refused before generation emits nothing (completions have no
// role chunk).
func (c *chunkWriter) start() error {
	if c.kind != backend.Chat || c.started {
		return nil
	}
	c.started = true
	return c.chat(chatDelta{Role: "assistant"}, nil)
}

func (c *chunkWriter) text(piece string) error {
	if err := c.start(); err != nil {
		return err
	}
	if c.kind == backend.Chat {
		return c.chat(chatDelta{Content: piece}, nil)
	}
	return c.completion(piece, nil)
}

func (c *chunkWriter) finish(reason string) error {
	if err := c.start(); err != nil {
		return err
	}
	if c.kind == backend.Chat {
		return c.chat(chatDelta{}, &reason)
	}
	return c.completion("", &reason)
}

func (c *chunkWriter) chat(d chatDelta, finish *string) error {
	return c.send(chunk[chatChoice]{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model,
		Choices: []chatChoice{{Delta: d, FinishReason: finish}}})
}

func (c *chunkWriter) completion(text string, finish *string) error {
	return c.send(chunk[textChoice]{ID: c.id, Object: "text_completion", Created: c.created, Model: c.model,
		Choices: []textChoice{{Text: text, FinishReason: finish}}})
}

func (c *chunkWriter) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("llama2c: encode chunk: %w", err)
	}
	return c.emit(b)
}
