package llama2c

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Sampling chooses how the next token is picked from the logits.
type Sampling struct {
	// Temperature 0 is greedy (argmax); above 0 the logits are divided by
	// it before sampling.
	Temperature float64
	// TopP, in (0, 1), samples from the smallest set of most likely tokens
	// whose probabilities sum past TopP (nucleus sampling). 0 or 1 samples
	// from the whole distribution.
	TopP float64
	// Seed makes sampling deterministic: the same model, prompt, Sampling
	// and maxTokens give the same tokens.
	Seed uint64
}

func (s Sampling) validate() error {
	switch {
	case math.IsNaN(s.Temperature) || s.Temperature < 0 || math.IsInf(s.Temperature, 0):
		return fmt.Errorf("temperature %v: use 0 (greedy) or a positive number", s.Temperature)
	case math.IsNaN(s.TopP) || s.TopP < 0 || s.TopP > 1:
		return fmt.Errorf("top_p %v: use a number in 0..1", s.TopP)
	}
	return nil
}

type probIndex struct {
	p  float32
	id int32
}

// sampler picks tokens for one generation; it is not shared.
type sampler struct {
	temp  float32
	topP  float32
	rng   uint64
	cands []probIndex // vocab: scratch for top-p
}

func newSampler(s Sampling, vocab int) *sampler {
	sm := &sampler{temp: float32(s.Temperature), topP: float32(s.TopP), rng: splitmix64(s.Seed)}
	if sm.rng == 0 { // xorshift never leaves 0
		sm.rng = 0x9E3779B97F4A7C15
	}
	if s.Temperature > 0 && s.TopP > 0 && s.TopP < 1 {
		sm.cands = make([]probIndex, vocab)
	}
	return sm
}

func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// float is a uniform number in [0, 1) from xorshift64* (as llama2.c).
func (sm *sampler) float() float32 {
	sm.rng ^= sm.rng >> 12
	sm.rng ^= sm.rng << 25
	sm.rng ^= sm.rng >> 27
	u := uint32((sm.rng * 0x2545F4914F6CDD1D) >> 32)
	return float32(u>>8) / 16777216.0
}

// sample picks the next token from logits, which it may overwrite.
func (sm *sampler) sample(logits []float32) int32 {
	if sm.temp == 0 {
		return argmax(logits)
	}
	for i := range logits {
		logits[i] /= sm.temp
	}
	softmax(logits)
	coin := sm.float()
	if sm.cands == nil {
		return sampleMult(logits, coin)
	}
	return sm.sampleTopP(logits, coin)
}

func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// sampleMult picks an index of probs with probability probs[i]; coin is
// uniform in [0, 1).
func sampleMult(probs []float32, coin float32) int32 {
	var cdf float32
	for i, p := range probs {
		cdf += p
		if coin < cdf {
			return int32(i)
		}
	}
	return int32(len(probs) - 1) // rounding
}

// sampleTopP samples from the nucleus: the most likely tokens until their
// sum exceeds topP. Tokens below (1-topP)/(n-1) cannot be in it and are
// dropped before sorting, as llama2.c does.
func (sm *sampler) sampleTopP(probs []float32, coin float32) int32 {
	cutoff := (1 - sm.topP) / float32(len(probs)-1)
	cands := sm.cands[:0]
	for i, p := range probs {
		if p >= cutoff {
			cands = append(cands, probIndex{p, int32(i)})
		}
	}
	if len(cands) == 0 { // cannot happen for a distribution; be safe
		return argmax(probs)
	}
	slices.SortFunc(cands, func(a, b probIndex) int {
		if c := cmp.Compare(b.p, a.p); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	last := len(cands) - 1
	var cum float32
	for i, c := range cands {
		cum += c.p
		if cum > sm.topP {
			last = i
			break
		}
	}
	r := coin * cum
	var cdf float32
	for _, c := range cands[:last+1] {
		cdf += c.p
		if r < cdf {
			return c.id
		}
	}
	return cands[last].id
}
