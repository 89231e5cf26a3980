package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

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

// testCompute: node 3's playground streams a completion through the
// proxy (node 1) from the worker (node 2) and renders it piece by piece:
// the first piece is on the page while the worker still holds the rest.
func testCompute(t *testing.T, b *browser, g *gatedBackend) {
	const client = 2
	eventually(t, "the worker's offer and the proxy reach node 3", func(ctx context.Context) error {
		var models struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := b.c.Client(t, client).Get(ctx, "/v1/models", &models); err != nil {
			return err
		}
		if len(models.Data) == 0 || models.Data[0].ID != g.model {
			return fmt.Errorf("models on offer: %+v", models.Data)
		}
		return nil
	})
	b.open(t, client, "/ui/compute")
	b.waitJS(t, client, "the offer listed", `document.querySelectorAll('.offer').length === 1`)
	b.do(t, client, "run the prompt",
		chromedp.SetValue(chromedp.CSS(`#playground textarea[name="prompt"]`), "Tell me a story"),
		chromedp.Click(chromedp.CSS(`#playground button`)))
	b.waitJS(t, client, "the first piece rendered while the worker holds the rest",
		`(() => { const o = document.querySelector('#completion'); return o.textContent === 'Once' && o.dataset.chunks === '1' && o.dataset.done === 'false' })()`)
	close(g.gate)
	want := strings.Join(g.pieces, "")
	b.waitJS(t, client, "the whole completion",
		`(() => { const o = document.querySelector('#completion'); return o.dataset.done === 'true' && o.textContent === `+jsString(want)+` })()`)
	if n := run(t, b, client, "count the chunks", chromedp.Evaluate[string](`document.querySelector('#completion').dataset.chunks`)); n != fmt.Sprint(len(g.pieces)) {
		t.Errorf("%s chunks rendered, want %d", n, len(g.pieces))
	}
	b.waitJS(t, client, "the usage line", `document.querySelector('#completion-info').textContent.includes('4 tokens')`)
	b.noReload(t, client)
	b.screenshots(t, "compute")
}
