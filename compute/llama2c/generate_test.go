package llama2c

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestRandomModelDeterministic(t *testing.T) {
	a, b := Random(smallConfig(), 5), Random(smallConfig(), 5)
	if a.WeightsHash() != b.WeightsHash() || len(a.WeightsHash()) != 64 {
		t.Fatalf("hashes of two Random(seed 5) = %s, %s; want equal hex SHA-256", a.WeightsHash(), b.WeightsHash())
	}
	if c := Random(smallConfig(), 6); c.WeightsHash() == a.WeightsHash() {
		t.Error("Random with seeds 5 and 6 have the same weights hash")
	}
	for _, s := range []Sampling{{}, {Temperature: 1, TopP: 0.9, Seed: 3}, {Temperature: 0.8, Seed: 3}} {
		ta, pa, ca, fa := generate(t, a, "the cat", 30, s)
		tb, pb, cb, fb := generate(t, b, "the cat", 30, s)
		if ta != tb || pa != pb || ca != cb || fa != fb {
			t.Errorf("sampling %+v: two runs differ: %q/%d/%d/%s vs %q/%d/%d/%s", s, ta, pa, ca, fa, tb, pb, cb, fb)
		}
		if ca == 0 && fa != FinishStop {
			t.Errorf("sampling %+v: no tokens and finish %q", s, fa)
		}
	}
	t1, _, _, _ := generate(t, a, "the cat", 30, Sampling{Temperature: 1, Seed: 1})
	t2, _, _, _ := generate(t, a, "the cat", 30, Sampling{Temperature: 1, Seed: 2})
	if t1 == t2 {
		t.Errorf("seeds 1 and 2 gave the same text %q", t1)
	}
}

func TestRandomDefaults(t *testing.T) {
	m := Random(Config{}, 1)
	want := Config{Dim: 64, Hidden: 172, Layers: 2, Heads: 8, KVHeads: 4, Vocab: 512, SeqLen: 256}
	if m.Config() != want {
		t.Errorf("Random(Config{}) has %+v, want %+v", m.Config(), want)
	}
	defer func() {
		if recover() == nil {
			t.Error("Random with dim 30, 4 heads did not panic")
		}
	}()
	Random(Config{Dim: 30, Heads: 4}, 1)
}

func TestGenerateConcurrentCallsAgree(t *testing.T) {
	m := Random(smallConfig(), 9)
	want, _, _, _ := generate(t, m, "hello", 40, Sampling{Temperature: 1, TopP: 0.9, Seed: 11})
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Go(func() { got[i], _, _, _ = generate(t, m, "hello", 40, Sampling{Temperature: 1, TopP: 0.9, Seed: 11}) })
	}
	wg.Wait()
	for i, g := range got {
		if g != want {
			t.Errorf("concurrent call %d: %q, want %q", i, g, want)
		}
	}
}

// TestParallelMatmulSameResult checks that splitting rows across
// goroutines changes nothing: the same logits bit for bit.
func TestParallelMatmulSameResult(t *testing.T) {
	m := Random(Config{Dim: 256, Hidden: 512, Layers: 1, Heads: 4, KVHeads: 2, Vocab: 300, SeqLen: 8}, 2)
	if m.cfg.Dim*m.cfg.Hidden < parMinWork {
		t.Fatalf("model too small to take the parallel path")
	}
	one, two := m.newState(4), m.newState(4)
	one.par, two.par = 1, 3
	for pos, tok := range []int32{1, 70, 80, 90} {
		a := one.forward(tok, pos, true)
		b := two.forward(tok, pos, true)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("pos %d logit %d: %v serial, %v parallel", pos, i, a[i], b[i])
			}
		}
	}
}

func TestGenerateMaxTokensAndContext(t *testing.T) {
	m := Random(smallConfig(), 4)
	// Find a seed that fills the 64-token context without a stop token, so
	// that the stop token does not decide the test.
	for seed := uint64(0); seed < 50; seed++ {
		s := Sampling{Temperature: 0.5, Seed: seed}
		_, pt, ct, finish := generate(t, m, "ab", math.MaxInt, s)
		if finish != FinishLength {
			continue
		}
		if pt+ct != m.cfg.SeqLen+1 {
			t.Errorf("context full after %d+%d tokens, want %d+1 (the last token is sampled, never fed)", pt, ct, m.cfg.SeqLen)
		}
		// The same draws, cut at 7 tokens.
		_, _, ct, finish = generate(t, m, "ab", 7, s)
		if ct != 7 || finish != FinishLength {
			t.Errorf("maxTokens 7: %d tokens, finish %q; want 7, length", ct, finish)
		}
		return
	}
	t.Fatal("no seed in 0..49 filled the context without a stop token")
}

func TestGenerateCancel(t *testing.T) {
	m := Random(smallConfig(), 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, ct, _, err := m.Generate(ctx, "", 50, Sampling{Temperature: 0.01, Seed: 1}, func(string) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if ct < 3 || ct > 4 || n > 3 {
		t.Errorf("after cancel at the 3rd piece: %d tokens, %d pieces; want generation to stop at once", ct, n)
	}
	if _, _, _, err := m.Generate(ctx, "x", 5, Sampling{}, func(string) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate on a cancelled context: %v", err)
	}
}

func TestGenerateEmitError(t *testing.T) {
	m := Random(smallConfig(), 4)
	boom := errors.New("client went away")
	_, ct, _, err := m.Generate(context.Background(), "", 50, Sampling{Temperature: 1, Seed: 8}, func(string) error { return boom })
	if !errors.Is(err, boom) || ct < 1 {
		t.Errorf("err = %v after %d tokens, want the emit error after the first", err, ct)
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	m := Random(smallConfig(), 4)
	cases := []struct {
		name   string
		prompt string
		max    int
		s      Sampling
		want   string
	}{
		{"zero maxTokens", "x", 0, Sampling{}, "maxTokens"},
		{"negative temperature", "x", 5, Sampling{Temperature: -1}, "temperature"},
		{"top_p above 1", "x", 5, Sampling{Temperature: 1, TopP: 2}, "top_p"},
		{"prompt over the context", strings.Repeat("\x01", 100), 5, Sampling{}, "context"},
		{"huge prompt", strings.Repeat("abcdefgh", 10000), 5, Sampling{}, "shorten"},
	}
	for _, c := range cases {
		_, _, _, err := m.Generate(context.Background(), c.prompt, c.max, c.s, func(string) error {
			t.Errorf("%s: emit called", c.name)
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestUTF8EmitterHoldsSplitCharacters(t *testing.T) {
	var got []string
	u := utf8Emitter{emit: func(s string) error { got = append(got, s); return nil }}
	for _, piece := range []string{"a", "\xf0", "\x9f\x99", "\x82b", "\xe2\x80", "\xff", "\xc3"} {
		if err := u.write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "🙂b", "\xe2\x80\xff", "\xc3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("pieces = %q, want %q", got, want)
	}
	for _, p := range got[:2] {
		if !utf8.ValidString(p) {
			t.Errorf("piece %q is not valid UTF-8", p)
		}
	}
}

func TestMeasureTokensPerSecond(t *testing.T) {
	m := Random(smallConfig(), 4)
	tps, err := MeasureTokensPerSecond(context.Background(), m, 100)
	if err != nil || tps <= 0 {
		t.Errorf("MeasureTokensPerSecond = %v, %v", tps, err)
	}
	if _, err := MeasureTokensPerSecond(context.Background(), m, 0); err == nil {
		t.Error("MeasureTokensPerSecond(0 tokens) = nil error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MeasureTokensPerSecond(ctx, m, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
