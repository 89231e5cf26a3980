// Package backend is the boundary between a compute worker and the engine
// that runs a model: an OpenAI-compatible HTTP server (vLLM, SGLang,
// llama.cpp, Ollama) or the built-in llama2.c runner.
//
// Every backend streams. A worker always asks its backend for a stream and
// the client's node folds the chunks into one response when the client did
// not ask for streaming, so there is one path to meter and to seal.
//
// Invariants: Complete calls emit in order, from the calling goroutine,
// and never after it returns; chunks are OpenAI streaming chunk objects
// (`chat.completion.chunk` for chat, `text_completion` for completions)
// without usage (usage is Complete's result); cancelling ctx stops the
// engine's work (for HTTP backends, the upstream request is cancelled).
package backend

import (
	"context"
	"encoding/json"
	"errors"
)

// Kind is the OpenAI endpoint a request came to.
type Kind string

// The endpoints.
const (
	Chat       Kind = "chat"       // POST /v1/chat/completions
	Completion Kind = "completion" // POST /v1/completions
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is an inference request as a backend receives it.
type Request struct {
	Kind Kind
	// Body is the client's OpenAI JSON request. HTTP backends forward it
	// (with stream forced on and usage requested); others read the fields
	// below, which are parsed from it.
	Body []byte

	Model       string
	Messages    []Message // Kind == Chat
	Prompt      string    // Kind == Completion
	MaxTokens   int       // 0: the backend's default
	Temperature *float64  // nil: the backend's default
	TopP        *float64
	Seed        *int64
	Stop        []string
}

// Usage is what a request consumed, in tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Model is one model a backend serves.
type Model struct {
	ID string
	// WeightsHash identifies the exact weights (hex SHA-256 of the
	// checkpoint where the backend can compute it; empty when unknown).
	WeightsHash string
}

// Backend runs inference.
type Backend interface {
	// Models lists what the backend serves.
	Models(ctx context.Context) ([]Model, error)
	// Complete runs req, passing each streaming chunk to emit, and returns
	// the usage. An error from emit stops the run and is returned.
	Complete(ctx context.Context, req *Request, emit func(chunk json.RawMessage) error) (Usage, error)
}

// ErrUnknownModel is returned by Complete for a model the backend does not serve.
var ErrUnknownModel = errors.New("backend: model not served here")

// ErrBadRequest wraps errors that are the request's fault (a parameter out
// of range, a prompt too long for the model), which the client can fix;
// the API answers them 400 rather than 500.
var ErrBadRequest = errors.New("bad request")
