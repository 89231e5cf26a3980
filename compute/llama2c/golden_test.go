package llama2c

import (
	"context"
	"strings"
	"testing"
)

// The README of stories260K gives this as the start of greedy decoding from
// an empty prompt.
const goldenStories260K = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."

func TestGoldenStories260K(t *testing.T) {
	m := stories260K(t)
	want := Config{Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, Vocab: 512, SeqLen: 512}
	if got := m.Config(); got != want {
		t.Fatalf("Config() = %+v, want %+v", got, want)
	}
	const hash = "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"
	if got := m.WeightsHash(); got != hash {
		t.Errorf("WeightsHash() = %s, want %s (the README's sha256)", got, hash)
	}
	text, pt, ct, finish := generate(t, m, "", 40, Sampling{})
	if !strings.HasPrefix(text, goldenStories260K) {
		t.Fatalf("greedy text = %q, want it to start with %q", text, goldenStories260K)
	}
	if pt != 1 || ct != 40 || finish != FinishLength {
		t.Errorf("counts = %d prompt, %d completion, finish %q; want 1, 40, length", pt, ct, finish)
	}
}

func TestStories260KPromptContinues(t *testing.T) {
	m := stories260K(t)
	prompt := "Once upon a time, there was a little girl named Lily."
	text, pt, _, _ := generate(t, m, prompt, 20, Sampling{})
	if want := " She loved to play outside in the park."; !strings.HasPrefix(text, want) {
		t.Errorf("continuation of %q = %q, want it to start with %q", prompt, text, want)
	}
	if toks := m.tok.encode(prompt); pt != len(toks) || pt < 5 || pt > 30 {
		t.Errorf("prompt tokens = %d (encode gives %d), want a BPE-sized count", pt, len(toks))
	}
}

func BenchmarkGenerate(b *testing.B) {
	m := Random(Config{}, 1)
	if ck, tok, ok := DefaultPaths(); ok {
		var err error
		if m, err = Load(ck, tok); err != nil {
			b.Fatal(err)
		}
	} else {
		b.Logf("stories260K not found: benchmarking a random model of %+v", m.Config())
	}
	tokens := 0
	for b.Loop() {
		_, ct, _, err := m.Generate(context.Background(), "", m.Config().SeqLen, Sampling{Temperature: 1, TopP: 0.9, Seed: 7}, func(string) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		tokens += ct
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkForward compares one forward pass with and without splitting
// the matrix products, on a stories260K-sized and a stories15M-sized
// (dim 288) random model; it is how parMinWork was chosen.
func BenchmarkForward(b *testing.B) {
	shapes := []struct {
		name string
		cfg  Config
	}{
		{"260K", Config{Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, Vocab: 512, SeqLen: 512}},
		{"15M", Config{Dim: 288, Hidden: 768, Layers: 6, Heads: 6, KVHeads: 6, Vocab: 4096, SeqLen: 256}},
	}
	for _, sh := range shapes {
		m := Random(sh.cfg, 1)
		for _, par := range []int{1, 2} {
			b.Run(sh.name+"/par="+string(rune('0'+par)), func(b *testing.B) {
				st := m.newState(64)
				st.par = par
				pos := 0
				for b.Loop() {
					st.forward(5, pos%64, true)
					pos++
				}
			})
		}
	}
}
