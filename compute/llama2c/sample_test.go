package llama2c

import (
	"math"
	"testing"
)

func TestSamplerGreedy(t *testing.T) {
	sm := newSampler(Sampling{}, 4)
	if got := sm.sample([]float32{0.1, 3, -2, 2.9}); got != 1 {
		t.Errorf("greedy sample = %d, want the argmax 1", got)
	}
}

func TestSamplerDeterministicBySeed(t *testing.T) {
	logits := func() []float32 {
		l := make([]float32, 50)
		for i := range l {
			l[i] = float32(math.Sin(float64(i)))
		}
		return l
	}
	draws := func(s Sampling) []int32 {
		sm := newSampler(s, 50)
		out := make([]int32, 200)
		for i := range out {
			out[i] = sm.sample(logits())
		}
		return out
	}
	for _, topP := range []float64{0, 0.9} {
		a := draws(Sampling{Temperature: 1, TopP: topP, Seed: 42})
		b := draws(Sampling{Temperature: 1, TopP: topP, Seed: 42})
		c := draws(Sampling{Temperature: 1, TopP: topP, Seed: 43})
		same, distinct := 0, map[int32]bool{}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("top_p %v: draw %d differs between two runs with seed 42: %d vs %d", topP, i, a[i], b[i])
			}
			if a[i] == c[i] {
				same++
			}
			distinct[a[i]] = true
		}
		if same == len(a) {
			t.Errorf("top_p %v: seeds 42 and 43 drew the same 200 tokens", topP)
		}
		if len(distinct) < 5 {
			t.Errorf("top_p %v: only %d distinct tokens in 200 draws at temperature 1", topP, len(distinct))
		}
	}
}

func TestSamplerTopPKeepsToNucleus(t *testing.T) {
	// Probabilities 0.4, 0.3, 0.2, then 0.1 spread over 97 tokens: with
	// top_p 0.75 the nucleus is {0, 1, 2} (0.4+0.3 = 0.7 is not past 0.75).
	const n = 100
	probs := make([]float64, n)
	probs[0], probs[1], probs[2] = 0.4, 0.3, 0.2
	for i := 3; i < n; i++ {
		probs[i] = 0.1 / (n - 3)
	}
	logits := func() []float32 {
		l := make([]float32, n)
		for i, p := range probs {
			l[i] = float32(math.Log(p))
		}
		return l
	}
	sm := newSampler(Sampling{Temperature: 1, TopP: 0.75, Seed: 1}, n)
	seen := map[int32]int{}
	for range 3000 {
		seen[sm.sample(logits())]++
	}
	for id, k := range seen {
		if id > 2 {
			t.Errorf("token %d (outside the nucleus) drawn %d times", id, k)
		}
	}
	if len(seen) != 3 {
		t.Errorf("drew %v, want all three nucleus tokens", seen)
	}
	// Without top-p the tail is drawn about 10% of the time.
	sm = newSampler(Sampling{Temperature: 1, Seed: 1}, n)
	tail := 0
	for range 3000 {
		if sm.sample(logits()) > 2 {
			tail++
		}
	}
	if tail == 0 {
		t.Error("without top-p the 10% tail was never drawn in 3000 draws")
	}
}

func TestSamplerRandomIsUniformish(t *testing.T) {
	sm := newSampler(Sampling{Seed: 0}, 3)
	var sum float64
	for range 10000 {
		f := sm.float()
		if f < 0 || f >= 1 {
			t.Fatalf("float() = %v, outside [0, 1)", f)
		}
		sum += float64(f)
	}
	if mean := sum / 10000; mean < 0.45 || mean > 0.55 {
		t.Errorf("mean of 10000 draws = %v, want about 0.5", mean)
	}
}

func TestSamplingValidate(t *testing.T) {
	bad := []Sampling{{Temperature: -1}, {Temperature: math.NaN()}, {Temperature: math.Inf(1)}, {TopP: -0.1}, {TopP: 1.5}, {TopP: math.NaN()}}
	for _, s := range bad {
		if err := s.validate(); err == nil {
			t.Errorf("validate(%+v) = nil, want an error", s)
		}
	}
	for _, s := range []Sampling{{}, {Temperature: 0.7, TopP: 0.9}, {Temperature: 2, TopP: 1}} {
		if err := s.validate(); err != nil {
			t.Errorf("validate(%+v) = %v", s, err)
		}
	}
}
