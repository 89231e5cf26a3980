package webui_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tonmesh/tonmesh/compute/backend"
)

// gatedBackend answers every request with the same pieces, holding after
// the first until the test opens the gate, so that the test sees the
// first piece rendered before the others exist.
type gatedBackend struct {
	model  string
	pieces []string
	gate   chan struct{}
}

func newGatedBackend(model string) *gatedBackend {
	return &gatedBackend{model: model, pieces: []string{"Once", " upon", " a", " time"}, gate: make(chan struct{})}
}

func (g *gatedBackend) Models(context.Context) ([]backend.Model, error) {
	return []backend.Model{{ID: g.model}}, nil
}

func (g *gatedBackend) Complete(ctx context.Context, req *backend.Request, emit func(json.RawMessage) error) (backend.Usage, error) {
	if req.Model != g.model {
		return backend.Usage{}, backend.ErrUnknownModel
	}
	for i, p := range g.pieces {
		c, _ := json.Marshal(map[string]any{"id": "chatcmpl-webui", "object": "chat.completion.chunk", "created": 1, "model": g.model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"content": p}, "finish_reason": nil}}})
		if err := emit(c); err != nil {
			return backend.Usage{}, err
		}
		if i == 0 {
			select {
			case <-ctx.Done():
				return backend.Usage{}, ctx.Err()
			case <-g.gate:
			}
		}
	}
	fin, _ := json.Marshal(map[string]any{"id": "chatcmpl-webui", "object": "chat.completion.chunk", "created": 1, "model": g.model,
		"choices": []any{map[string]any{"index": 0, "delta": map[string]string{}, "finish_reason": "stop"}}})
	if err := emit(fin); err != nil {
		return backend.Usage{}, err
	}
	return backend.Usage{PromptTokens: 4, CompletionTokens: len(g.pieces), TotalTokens: 4 + len(g.pieces)}, nil
}

func testCompute(t *testing.T, b *browser, g *gatedBackend) { t.Skip("todo") }
