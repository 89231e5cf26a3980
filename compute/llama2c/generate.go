package llama2c

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Finish reasons, as in OpenAI responses.
const (
	FinishStop   = "stop"   // the model ended the text (or a stop string matched)
	FinishLength = "length" // maxTokens or the model's context ran out
)

// Generate continues prompt with up to maxTokens tokens, passing the text
// to emit piece by piece, in order, from the calling goroutine. Pieces are
// whole UTF-8 characters: bytes of a character split across tokens are held
// until it is complete. It returns the prompt's length in tokens (with
// BOS), the tokens generated, and why it stopped: FinishStop when the model
// produced BOS or EOS, FinishLength at maxTokens or a full context.
// Cancelling ctx stops it between tokens with an error wrapping ctx.Err();
// an error from emit stops it and is returned as is.
func (m *Model) Generate(ctx context.Context, prompt string, maxTokens int, s Sampling, emit func(piece string) error) (promptTokens, completionTokens int, finish string, err error) {
	if maxTokens < 1 {
		return 0, 0, "", fmt.Errorf("llama2c: maxTokens %d: ask for at least 1 token", maxTokens)
	}
	if err := s.validate(); err != nil {
		return 0, 0, "", fmt.Errorf("llama2c: %w", err)
	}
	toks, err := m.encodePrompt(prompt)
	if err != nil {
		return 0, 0, "", err
	}
	maxTokens = min(maxTokens, m.cfg.SeqLen) // more can never fit
	out := utf8Emitter{emit: emit}
	st := m.newState(min(m.cfg.SeqLen, len(toks)-1+maxTokens))
	sm := newSampler(s, m.cfg.Vocab)
	n, finish, err := m.run(ctx, st, sm, toks, maxTokens, func(prev, tok int32) error {
		return out.write(m.tok.piece(prev, tok))
	})
	if err == nil {
		err = out.flush()
	}
	if err != nil {
		return len(toks), n, "", err
	}
	return len(toks), n, finish, nil
}

// encodePrompt tokenizes prompt and checks that it fits the context.
func (m *Model) encodePrompt(prompt string) ([]int32, error) {
	// Each token covers at most maxText bytes: a longer prompt cannot
	// fit, and is refused before the quadratic merge loop sees it.
	if len(prompt) > m.cfg.SeqLen*m.tok.maxText {
		return nil, fmt.Errorf("llama2c: prompt of %d bytes cannot fit the model's %d-token context: shorten it", len(prompt), m.cfg.SeqLen)
	}
	toks := m.tok.encode(prompt)
	if len(toks) > m.cfg.SeqLen {
		return nil, fmt.Errorf("llama2c: prompt is %d tokens, the model's context is %d: shorten it", len(toks), m.cfg.SeqLen)
	}
	return toks, nil
}

// run feeds toks (at least BOS) through the model, then samples until a
// stop token, maxTokens or the end of st's KV cache, calling onToken for
// each generated token with the token before it.
func (m *Model) run(ctx context.Context, st *state, sm *sampler, toks []int32, maxTokens int, onToken func(prev, tok int32) error) (generated int, finish string, err error) {
	tok := toks[0]
	for pos := 0; ; pos++ {
		if err := ctx.Err(); err != nil {
			return generated, "", fmt.Errorf("llama2c: generation stopped after %d tokens: %w", generated, err)
		}
		last := pos >= len(toks)-1
		logits := st.forward(tok, pos, last)
		if !last {
			tok = toks[pos+1]
			continue
		}
		next := sm.sample(logits)
		if next == tokBOS || next == tokEOS {
			return generated, FinishStop, nil
		}
		generated++
		if err := onToken(tok, next); err != nil {
			return generated, "", err
		}
		if generated >= maxTokens || pos+1 >= st.steps {
			return generated, FinishLength, nil
		}
		tok = next
	}
}

// utf8Emitter passes text on in whole UTF-8 characters. Invalid bytes are
// passed on as they come (a JSON encoder turns them into U+FFFD).
type utf8Emitter struct {
	emit    func(string) error
	pending []byte
}

func (u *utf8Emitter) write(s string) error {
	u.pending = append(u.pending, s...)
	n := completeUTF8(u.pending)
	if n == 0 {
		return nil
	}
	out := string(u.pending[:n])
	u.pending = append(u.pending[:0], u.pending[n:]...)
	return u.emit(out)
}

func (u *utf8Emitter) flush() error {
	if len(u.pending) == 0 {
		return nil
	}
	out := string(u.pending)
	u.pending = u.pending[:0]
	return u.emit(out)
}

// completeUTF8 is the length of b without a trailing incomplete character.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// MeasureTokensPerSecond generates at least tokens tokens from an empty
// prompt (sampling at temperature 1, top-p 0.9, fixed seeds, as many runs
// as needed) and returns forward passes per second on the calling
// goroutine's share of the machine.
func MeasureTokensPerSecond(ctx context.Context, m *Model, tokens int) (float64, error) {
	if tokens < 1 {
		return 0, errors.New("llama2c: measure at least 1 token")
	}
	start := time.Now()
	done := 0
	for seed := uint64(1); done < tokens; seed++ {
		st := m.newState(min(m.cfg.SeqLen, tokens-done))
		sm := newSampler(Sampling{Temperature: 1, TopP: 0.9, Seed: seed}, m.cfg.Vocab)
		n, finish, err := m.run(ctx, st, sm, []int32{tokBOS}, tokens-done, func(int32, int32) error { return nil })
		if err != nil {
			return 0, err
		}
		done += n
		if finish == FinishStop {
			done++ // the pass that produced the stop token
		}
	}
	return float64(done) / time.Since(start).Seconds(), nil
}
