package node

import (
	"encoding/json"
	"testing"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/compute/llama2c"
)

// labPrompt is the prompt test/netns's inference failover check sends with
// --temperature 0.
const labPrompt = "Once upon a time"

// TestDefaultModelsAnswerGreedily pins what that check relies on: the
// models a node serves by default (the demo model, and stories260K where
// it is found) answer labPrompt, sampled greedily, with at least one token.
// A random seed could make the first token end the answer.
func TestDefaultModelsAnswerGreedily(t *testing.T) {
	backends := []backend.Backend{demoBackend()}
	if ckpt, tok, ok := llama2c.DefaultPaths(); ok {
		m, err := llama2c.Load(ckpt, tok)
		if err != nil {
			t.Fatal(err)
		}
		backends = append(backends, llama2c.NewBackend("stories260K", m))
	}
	greedy := 0.0
	for _, b := range backends {
		models, err := b.Models(t.Context())
		if err != nil || len(models) != 1 {
			t.Fatalf("models: %v, %v", models, err)
		}
		for range 2 {
			req := &backend.Request{Kind: backend.Chat, Model: models[0].ID, Temperature: &greedy,
				Messages: []backend.Message{{Role: "user", Content: labPrompt}}}
			u, err := b.Complete(t.Context(), req, func(json.RawMessage) error { return nil })
			if err != nil {
				t.Fatalf("%s: %v", models[0].ID, err)
			}
			if u.CompletionTokens == 0 {
				t.Fatalf("%s answers %q greedily with no token: pick another prompt for test/netns", models[0].ID, labPrompt)
			}
		}
	}
}
