package llama2c

import (
	"context"
	"strings"
	"testing"
)

// smallConfig is the random model most tests use: tiny, but with
// grouped-query attention (2 query heads per KV head) and a separate
// hidden width.
func smallConfig() Config {
	return Config{Dim: 32, Hidden: 48, Layers: 2, Heads: 4, KVHeads: 2, Vocab: 320, SeqLen: 64}
}

// generate runs m.Generate and returns the text with the counts.
func generate(t testing.TB, m *Model, prompt string, maxTokens int, s Sampling) (text string, pt, ct int, finish string) {
	t.Helper()
	var b strings.Builder
	pt, ct, finish, err := m.Generate(context.Background(), prompt, maxTokens, s, func(p string) error {
		if p == "" {
			t.Error("emit called with an empty piece")
		}
		b.WriteString(p)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate(%q): %v", prompt, err)
	}
	return b.String(), pt, ct, finish
}

// stories260K loads the shared checkpoint or skips the test, naming where
// it looked.
func stories260K(t testing.TB) *Model {
	t.Helper()
	ck, tok, ok := DefaultPaths()
	if !ok {
		t.Skipf("stories260K not found: looked in %s (set %s to a folder with %s and %s)",
			strings.Join(modelDirs(), ", "), ModelDirEnv, DefaultCheckpoint, DefaultTokenizer)
	}
	m, err := Load(ck, tok)
	if err != nil {
		t.Fatalf("load stories260K: %v", err)
	}
	return m
}
