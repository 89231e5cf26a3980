package llama2c

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
)

// headerSize is the legacy header: seven little-endian int32.
const headerSize = 7 * 4

// Limits on header fields, far above any llama2.c model, so that a corrupt
// header is refused before any size arithmetic can overflow or a huge
// allocation is attempted.
const (
	maxDim    = 1 << 16
	maxHidden = 1 << 18
	maxLayers = 1 << 10
	maxHeads  = 1 << 10
	maxVocab  = 1 << 21
	maxSeqLen = 1 << 20
	// maxFloats bounds the weights of one checkpoint (64 GiB of float32).
	maxFloats = 1 << 34
)

// Config is a model's shape, as in the llama2.c checkpoint header.
type Config struct {
	Dim     int // transformer width
	Hidden  int // FFN inner width
	Layers  int
	Heads   int // query heads
	KVHeads int // key/value heads (grouped-query attention when < Heads)
	Vocab   int
	SeqLen  int // longest context, in tokens
}

func (c Config) headSize() int { return c.Dim / c.Heads }
func (c Config) kvDim() int    { return c.Dim / c.Heads * c.KVHeads }

// validate reports the first field of c that no runner can use.
func (c Config) validate() error {
	fields := []struct {
		name     string
		v, limit int
	}{
		{"dim", c.Dim, maxDim}, {"hidden_dim", c.Hidden, maxHidden},
		{"n_layers", c.Layers, maxLayers}, {"n_heads", c.Heads, maxHeads},
		{"n_kv_heads", c.KVHeads, maxHeads}, {"vocab_size", c.Vocab, maxVocab},
		{"seq_len", c.SeqLen, maxSeqLen},
	}
	for _, f := range fields {
		if f.v < 1 || f.v > f.limit {
			return fmt.Errorf("%s = %d is outside 1..%d", f.name, f.v, f.limit)
		}
	}
	switch {
	case c.Vocab < 3:
		return fmt.Errorf("vocab_size = %d leaves no room for the BOS (1) and EOS (2) tokens", c.Vocab)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("dim = %d is not a multiple of n_heads = %d", c.Dim, c.Heads)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("n_heads = %d is not a multiple of n_kv_heads = %d", c.Heads, c.KVHeads)
	case c.headSize()%2 != 0:
		return fmt.Errorf("head size dim/n_heads = %d is odd; RoPE needs it even", c.headSize())
	}
	return nil
}

// layout is the order and size of the weight tensors in a legacy checkpoint.
type layout struct {
	emb, rmsAtt, wq, wk, wv, wo, rmsFFN, w1, w2, w3, rmsFinal, freqCis, wcls int64
}

func layoutOf(c Config, shared bool) layout {
	dim, hid, l := int64(c.Dim), int64(c.Hidden), int64(c.Layers)
	kv := int64(c.kvDim())
	lay := layout{
		emb:      int64(c.Vocab) * dim,
		rmsAtt:   l * dim,
		wq:       l * dim * dim,
		wk:       l * dim * kv,
		wv:       l * dim * kv,
		wo:       l * dim * dim,
		rmsFFN:   l * dim,
		w1:       l * dim * hid,
		w2:       l * hid * dim,
		w3:       l * dim * hid,
		rmsFinal: dim,
		freqCis:  int64(c.SeqLen) * int64(c.headSize()), // real and imaginary halves
	}
	if !shared {
		lay.wcls = int64(c.Vocab) * dim
	}
	return lay
}

func (l layout) total() int64 {
	return l.emb + l.rmsAtt + l.wq + l.wk + l.wv + l.wo + l.rmsFFN + l.w1 + l.w2 + l.w3 + l.rmsFinal + l.freqCis + l.wcls
}

// parseHeader decodes and checks a legacy header. shared reports whether the
// classifier is the token embedding (positive vocab_size in the file).
func parseHeader(h []byte) (cfg Config, shared bool, err error) {
	if len(h) < headerSize {
		return Config{}, false, fmt.Errorf("header is %d bytes, want %d", len(h), headerSize)
	}
	var v [7]int64
	for i := range v {
		v[i] = int64(int32(binary.LittleEndian.Uint32(h[4*i:])))
	}
	vocab := v[5]
	shared = vocab > 0
	if vocab < 0 {
		vocab = -vocab
	}
	clamp := func(x int64) int { // keep out-of-range values out of range on 32-bit ints too
		return int(max(min(x, math.MaxInt32), math.MinInt32))
	}
	cfg = Config{Dim: clamp(v[0]), Hidden: clamp(v[1]), Layers: clamp(v[2]), Heads: clamp(v[3]),
		KVHeads: clamp(v[4]), Vocab: clamp(vocab), SeqLen: clamp(v[6])}
	if err := cfg.validate(); err != nil {
		return Config{}, false, fmt.Errorf("bad header: %w", err)
	}
	if n := layoutOf(cfg, shared).total(); n > maxFloats {
		return Config{}, false, fmt.Errorf("bad header: %d weights is more than this runner loads (%d)", n, int64(maxFloats))
	}
	return cfg, shared, nil
}

// checkpoint is a decoded legacy checkpoint.
type checkpoint struct {
	cfg     Config
	shared  bool
	weights []float32 // every tensor after the header, in file order
	hash    string    // hex SHA-256 of the whole checkpoint
}

// readCheckpoint decodes a checkpoint of size bytes from r, hashing as it
// reads so that the file is read once and never held twice in memory.
func readCheckpoint(r io.Reader, size int64) (*checkpoint, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 1<<16)
	var hdr [headerSize]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("truncated: %d bytes, shorter than the %d-byte header", size, headerSize)
		}
		return nil, fmt.Errorf("read header: %w", err)
	}
	cfg, shared, err := parseHeader(hdr[:])
	if err != nil {
		return nil, err
	}
	n := layoutOf(cfg, shared).total()
	want := headerSize + 4*n
	switch {
	case size < want:
		return nil, fmt.Errorf("truncated: %d bytes, the header (%+v) needs %d", size, cfg, want)
	case size > want:
		return nil, fmt.Errorf("%d bytes, %d more than the header (%+v) describes: not a legacy llama2.c checkpoint, or a different model version", size, size-want, cfg)
	}
	weights := make([]float32, n)
	var buf [4 << 10]byte
	for i := int64(0); i < n; {
		chunk := min(int64(len(buf)/4), n-i)
		if _, err := io.ReadFull(br, buf[:4*chunk]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("truncated while reading weights at float %d of %d", i, n)
			}
			return nil, fmt.Errorf("read weights: %w", err)
		}
		for j := int64(0); j < chunk; j++ {
			weights[i+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
		i += chunk
	}
	return &checkpoint{cfg: cfg, shared: shared, weights: weights, hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// weights are views of one checkpoint's tensors.
type weights struct {
	emb      []float32 // vocab × dim
	rmsAtt   []float32 // layers × dim
	wq       []float32 // layers × dim(out) × dim(in)
	wk, wv   []float32 // layers × kvDim × dim
	wo       []float32 // layers × dim × dim
	rmsFFN   []float32 // layers × dim
	w1, w3   []float32 // layers × hidden × dim
	w2       []float32 // layers × dim × hidden
	rmsFinal []float32 // dim
	wcls     []float32 // vocab × dim (emb when shared)
}

// split cuts ck.weights into tensors. The freq_cis tables are skipped: RoPE
// is computed from its formula, as llama2.c's runner does.
func (ck *checkpoint) split() weights {
	lay := layoutOf(ck.cfg, ck.shared)
	rest := ck.weights
	take := func(n int64) []float32 {
		t := rest[:n:n]
		rest = rest[n:]
		return t
	}
	var w weights
	w.emb = take(lay.emb)
	w.rmsAtt = take(lay.rmsAtt)
	w.wq = take(lay.wq)
	w.wk = take(lay.wk)
	w.wv = take(lay.wv)
	w.wo = take(lay.wo)
	w.rmsFFN = take(lay.rmsFFN)
	w.w1 = take(lay.w1)
	w.w2 = take(lay.w2)
	w.w3 = take(lay.w3)
	w.rmsFinal = take(lay.rmsFinal)
	take(lay.freqCis)
	if ck.shared {
		w.wcls = w.emb
	} else {
		w.wcls = take(lay.wcls)
	}
	return w
}
