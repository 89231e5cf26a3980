package llama2c

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Special token ids of llama2.c tokenizers.
const (
	tokUnk = 0
	tokBOS = 1
	tokEOS = 2
)

// maxPieceLen bounds one token's bytes in a tokenizer file.
const maxPieceLen = 1 << 16

// tokenizer is a SentencePiece-style BPE vocabulary in llama2.c's
// tokenizer.bin format. It is immutable after parseTokenizer.
type tokenizer struct {
	pieces []string  // raw piece of each id, as in the file
	text   []string  // what each id decodes to ("<0xNN>" resolved to its byte)
	scores []float32 // merge priority of each id
	ids    map[string]int32
	merges map[[2]int32]int32 // adjacent pair → id of the concatenation
	bytes  [256]int32         // id of the "<0xNN>" token of each byte, or tokUnk
	space  int32              // id of " " (the dummy prefix), or -1
	// maxText is the most bytes of text one token stands for (at least 1).
	maxText int
}

// parseTokenizer decodes a tokenizer file holding exactly vocab tokens:
// max_token_length int32, then per token a float32 score, an int32 length
// and that many bytes.
func parseTokenizer(data []byte, vocab int) (*tokenizer, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("truncated: %d bytes, shorter than the 4-byte max_token_length", len(data))
	}
	if maxLen := int32(binary.LittleEndian.Uint32(data)); maxLen < 1 || maxLen > maxPieceLen {
		return nil, fmt.Errorf("bad header: max_token_length = %d is outside 1..%d", maxLen, maxPieceLen)
	}
	if vocab < 3 || vocab > maxVocab {
		return nil, fmt.Errorf("vocabulary of %d tokens is outside 3..%d", vocab, maxVocab)
	}
	if n := (len(data) - 4) / 8; n < vocab { // every token takes at least 8 bytes
		return nil, fmt.Errorf("truncated: %d bytes cannot hold %d tokens: is it the tokenizer of this model?", len(data), vocab)
	}
	t := &tokenizer{
		pieces: make([]string, vocab),
		text:   make([]string, vocab),
		scores: make([]float32, vocab),
		ids:    make(map[string]int32, vocab),
		merges: make(map[[2]int32]int32),
		space:  -1,
	}
	rest := data[4:]
	for i := range vocab {
		if len(rest) < 8 {
			return nil, fmt.Errorf("truncated at token %d of %d: is it the tokenizer of this model?", i, vocab)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(rest))
		n := int64(int32(binary.LittleEndian.Uint32(rest[4:])))
		rest = rest[8:]
		if n < 0 || n > maxPieceLen {
			return nil, fmt.Errorf("token %d: length %d is outside 0..%d", i, n, maxPieceLen)
		}
		if n > int64(len(rest)) {
			return nil, fmt.Errorf("truncated in token %d of %d (%d bytes announced, %d left)", i, vocab, n, len(rest))
		}
		if math.IsNaN(float64(score)) {
			return nil, fmt.Errorf("token %d: score is NaN", i)
		}
		t.pieces[i] = string(rest[:n])
		t.scores[i] = score
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d bytes left after %d tokens: the tokenizer has a different vocabulary size than the model", len(rest), vocab)
	}
	t.index()
	return t, nil
}

// index fills the lookup tables from pieces.
func (t *tokenizer) index() {
	for i := range t.bytes {
		t.bytes[i] = tokUnk
	}
	t.maxText = 1
	for i, p := range t.pieces {
		if _, dup := t.ids[p]; !dup {
			t.ids[p] = int32(i)
		}
		t.text[i] = p
		if b, ok := byteToken(p); ok {
			t.text[i] = string([]byte{b})
			if t.bytes[b] == tokUnk {
				t.bytes[b] = int32(i)
			}
		}
		t.maxText = max(t.maxText, len(t.text[i]))
	}
	if id, ok := t.ids[" "]; ok {
		t.space = id
	}
	for _, p := range t.pieces {
		id := t.ids[p]
		for k := 1; k < len(p); k++ {
			a, okA := t.ids[p[:k]]
			b, okB := t.ids[p[k:]]
			if okA && okB {
				if _, seen := t.merges[[2]int32{a, b}]; !seen {
					t.merges[[2]int32{a, b}] = id
				}
			}
		}
	}
}

// byteToken parses a "<0xNN>" byte-fallback piece.
func byteToken(p string) (byte, bool) {
	if len(p) != 6 || !strings.HasPrefix(p, "<0x") || p[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(p[3:5], 16, 8)
	return byte(v), err == nil
}

// encode tokenizes text as llama2.c does: BOS, a dummy-prefix space token
// when text is not empty, one token per UTF-8 character (its bytes as
// "<0xNN>" tokens when the character is not in the vocabulary), then
// repeated merging of the adjacent pair whose concatenation scores highest.
func (t *tokenizer) encode(text string) []int32 {
	toks := make([]int32, 0, len(text)+2)
	toks = append(toks, tokBOS)
	if text != "" {
		if t.space >= 0 {
			toks = append(toks, t.space)
		} else {
			toks = append(toks, t.bytes[' '])
		}
	}
	for i := 0; i < len(text); {
		j := i + 1
		for j < len(text) && j-i < 4 && text[j]&0xC0 == 0x80 {
			j++
		}
		if id, ok := t.ids[text[i:j]]; ok {
			toks = append(toks, id)
		} else {
			for k := i; k < j; k++ {
				toks = append(toks, t.bytes[text[k]])
			}
		}
		i = j
	}
	for {
		best, bestAt, bestID := float32(math.Inf(-1)), -1, int32(0)
		for i := 0; i+1 < len(toks); i++ {
			if id, ok := t.merges[[2]int32{toks[i], toks[i+1]}]; ok && t.scores[id] > best {
				best, bestAt, bestID = t.scores[id], i, id
			}
		}
		if bestAt < 0 {
			return toks
		}
		toks[bestAt] = bestID
		toks = append(toks[:bestAt+1], toks[bestAt+2:]...)
	}
}

// piece is the text of tok following prev: byte tokens are their byte, and
// the leading space of the first piece after BOS is dropped.
func (t *tokenizer) piece(prev, tok int32) string {
	s := t.text[tok]
	if prev == tokBOS && len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// decode joins the pieces of toks (a leading BOS is skipped).
func (t *tokenizer) decode(toks []int32) string {
	var b strings.Builder
	prev := int32(-1)
	for _, tok := range toks {
		if tok != tokBOS || prev >= 0 {
			b.WriteString(t.piece(prev, tok))
		}
		prev = tok
	}
	return b.String()
}

// marshalTokenizer writes pieces and scores in the tokenizer file format.
func marshalTokenizer(pieces []string, scores []float32) []byte {
	maxLen := 1
	size := 4
	for _, p := range pieces {
		maxLen = max(maxLen, len(p))
		size += 8 + len(p)
	}
	out := binary.LittleEndian.AppendUint32(make([]byte, 0, size), uint32(maxLen))
	for i, p := range pieces {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(scores[i]))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

// syntheticVocab is the byte-level vocabulary of random models: the three
// specials, the 256 byte tokens, printable ASCII, then common English pairs
// and " x" word starts (higher score first) until vocab ids are used; any
// left are unreachable filler pieces.
func syntheticVocab(vocab int) ([]string, []float32) {
	pieces := []string{"<unk>", "\n<s>\n", "\n</s>\n"}
	for b := range 256 {
		pieces = append(pieces, fmt.Sprintf("<0x%02X>", b))
	}
	for c := byte(' '); c <= '~'; c++ {
		pieces = append(pieces, string(c))
	}
	scores := make([]float32, len(pieces))
	const letters = "etaoinshrdlucmfwy"
	var merged []string
	for i := range len(letters) {
		merged = append(merged, " "+letters[i:i+1])
		for j := range len(letters) {
			merged = append(merged, letters[i:i+1]+letters[j:j+1])
		}
	}
	for i, m := range merged {
		pieces = append(pieces, m)
		scores = append(scores, -float32(i))
	}
	for i := 0; len(pieces) < vocab; i++ {
		pieces = append(pieces, fmt.Sprintf("<extra%d>", i))
		scores = append(scores, -1e6)
	}
	return pieces[:vocab], scores[:vocab]
}
