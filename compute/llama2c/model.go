package llama2c

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
)

// maxTokenizerFile bounds the tokenizer file read into memory.
const maxTokenizerFile = 256 << 20

// Model is a loaded llama2.c model: weights and tokenizer. It is immutable,
// so any number of Generate calls may run on it at once.
type Model struct {
	cfg  Config
	w    weights
	tok  *tokenizer
	hash string
}

// Config is the model's shape.
func (m *Model) Config() Config { return m.cfg }

// WeightsHash is the hex SHA-256 of the checkpoint file (for a Random
// model, of the checkpoint bytes it generated).
func (m *Model) WeightsHash() string { return m.hash }

// Load reads a legacy llama2.c checkpoint and its tokenizer.bin-format
// tokenizer. Errors name the file and what is wrong with it.
func Load(checkpointPath, tokenizerPath string) (*Model, error) {
	ck, err := loadCheckpoint(checkpointPath)
	if err != nil {
		return nil, err
	}
	tok, err := loadTokenizer(tokenizerPath, ck.cfg.Vocab)
	if err != nil {
		return nil, err
	}
	return &Model{cfg: ck.cfg, w: ck.split(), tok: tok, hash: ck.hash}, nil
}

func loadCheckpoint(path string) (*checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: open checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("llama2c: checkpoint %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("llama2c: checkpoint %s is not a regular file", path)
	}
	ck, err := readCheckpoint(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("llama2c: checkpoint %s: %w", path, err)
	}
	return ck, nil
}

func loadTokenizer(path string, vocab int) (*tokenizer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: tokenizer: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxTokenizerFile {
		return nil, fmt.Errorf("llama2c: tokenizer %s: not a regular file of at most %d bytes", path, maxTokenizerFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: tokenizer: %w", err)
	}
	tok, err := parseTokenizer(data, vocab)
	if err != nil {
		return nil, fmt.Errorf("llama2c: tokenizer %s: %w", path, err)
	}
	return tok, nil
}

// minRandomVocab is the smallest vocabulary of Random's byte-level
// tokenizer: three specials and 256 byte tokens.
const minRandomVocab = 3 + 256

// Random builds a model with random weights (deterministic for seed) and a
// synthetic byte-level tokenizer, for tests and demos. Zero fields of cfg
// take the shape of a small model (dim 64, hidden 172, 2 layers, 8 heads,
// half as many KV heads as heads, vocab 512, seq_len 256). It panics when cfg cannot describe
// a model (for example Dim not a multiple of Heads, or Vocab below 259):
// cfg is the caller's constant, not input.
func Random(cfg Config, seed int64) *Model {
	fill := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&cfg.Dim, 64)
	fill(&cfg.Hidden, 172)
	fill(&cfg.Layers, 2)
	fill(&cfg.Heads, 8)
	if cfg.Heads%2 == 0 {
		fill(&cfg.KVHeads, cfg.Heads/2)
	}
	fill(&cfg.KVHeads, cfg.Heads)
	fill(&cfg.Vocab, 512)
	fill(&cfg.SeqLen, 256)
	if err := cfg.validate(); err != nil {
		panic(fmt.Sprintf("llama2c.Random: %v", err))
	}
	if cfg.Vocab < minRandomVocab {
		panic(fmt.Sprintf("llama2c.Random: vocab %d is below %d, the byte-level tokenizer's size", cfg.Vocab, minRandomVocab))
	}
	data := randomCheckpoint(cfg, seed)
	ck, err := readCheckpoint(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		panic(fmt.Sprintf("llama2c.Random: generated checkpoint does not load: %v", err))
	}
	tok, err := parseTokenizer(marshalTokenizer(syntheticVocab(cfg.Vocab)), cfg.Vocab)
	if err != nil {
		panic(fmt.Sprintf("llama2c.Random: generated tokenizer does not load: %v", err))
	}
	return &Model{cfg: ck.cfg, w: ck.split(), tok: tok, hash: ck.hash}
}

// randomCheckpoint writes a legacy checkpoint of cfg with uniform random
// weights scaled by 1/√fan-in, unit norms and its own classifier (negative
// vocab_size). The classifier's rows for the special, byte and filler
// tokens are zero, so that sampling mostly picks the printable pieces of
// the synthetic vocabulary and rarely stops; its other rows are scaled for
// logits of about 2.5 standard deviations, so that the text varies.
func randomCheckpoint(cfg Config, seed int64) []byte {
	lay := layoutOf(cfg, false)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c6c616d613263)) // "llama2c"
	out := make([]byte, 0, headerSize+4*lay.total())
	for _, v := range []int{cfg.Dim, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.KVHeads, -cfg.Vocab, cfg.SeqLen} {
		out = binary.LittleEndian.AppendUint32(out, uint32(int32(v)))
	}
	put := func(n int64, gen func(i int64) float32) {
		for i := range n {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(gen(i)))
		}
	}
	uniform := func(scale float64) func(int64) float32 {
		return func(int64) float32 { return float32((2*rng.Float64() - 1) * scale) }
	}
	one := func(int64) float32 { return 1 }
	inDim, inHid := 1/math.Sqrt(float64(cfg.Dim)), 1/math.Sqrt(float64(cfg.Hidden))
	put(lay.emb, uniform(1))
	put(lay.rmsAtt, one)
	put(lay.wq, uniform(inDim))
	put(lay.wk, uniform(inDim))
	put(lay.wv, uniform(inDim))
	put(lay.wo, uniform(inDim))
	put(lay.rmsFFN, one)
	put(lay.w1, uniform(inDim))
	put(lay.w2, uniform(inHid))
	put(lay.w3, uniform(inDim))
	put(lay.rmsFinal, one)
	half := int64(cfg.headSize() / 2)
	angle := func(i int64) float64 {
		pos, k := i/half, i%half
		return float64(pos) / math.Pow(10000, float64(2*k)/float64(cfg.headSize()))
	}
	put(lay.freqCis/2, func(i int64) float32 { return float32(math.Cos(angle(i))) })
	put(lay.freqCis/2, func(i int64) float32 { return float32(math.Sin(angle(i))) })
	pieces, _ := syntheticVocab(cfg.Vocab)
	cls := uniform(2.5 * math.Sqrt(3/float64(cfg.Dim)))
	put(lay.wcls, func(i int64) float32 {
		v := cls(i) // drawn for every row, so that rows do not shift
		if id := i / int64(cfg.Dim); id < minRandomVocab || pieces[id][0] == '<' && len(pieces[id]) > 1 {
			return 0
		}
		return v
	})
	return out
}
