package llama2c

import (
	"slices"
	"testing"
)

func syntheticTokenizer(t testing.TB, vocab int) *tokenizer {
	t.Helper()
	tok, err := parseTokenizer(marshalTokenizer(syntheticVocab(vocab)), vocab)
	if err != nil {
		t.Fatalf("synthetic tokenizer: %v", err)
	}
	return tok
}

func TestTokenizerRoundTrip(t *testing.T) {
	toks := map[string]*tokenizer{"synthetic": syntheticTokenizer(t, 512)}
	if ck, tk, ok := DefaultPaths(); ok {
		m, err := Load(ck, tk)
		if err != nil {
			t.Fatal(err)
		}
		toks["tok512"] = m.tok
	}
	texts := []string{
		"", "a", " ", "  two leading spaces", "Once upon a time, there was a little girl.",
		"tabs\tand\nnewlines\r\n", "naïve café — “quotes” 東京 🙂", "\x00\x01\xff invalid \xc3",
		"<0x41> <s> </s> <unk>",
	}
	for name, tok := range toks {
		for _, text := range texts {
			ids := tok.encode(text)
			if ids[0] != tokBOS {
				t.Errorf("%s: encode(%q) starts with %d, want BOS", name, text, ids[0])
			}
			if text != "" && len(ids) < 2 {
				t.Errorf("%s: encode(%q) = %v: no dummy prefix", name, text, ids)
			}
			if got := tok.decode(ids); got != text {
				t.Errorf("%s: decode(encode(%q)) = %q (ids %v)", name, text, got, ids)
			}
		}
	}
}

func TestTokenizerMergesByScore(t *testing.T) {
	tok := syntheticTokenizer(t, 512)
	// " t" is the first pair of the synthetic vocabulary, so it has the best
	// score; "th" and "he" are below it.
	ids := tok.encode("the")
	want := []int32{tokBOS, tok.ids[" t"], tok.ids["he"]}
	if !slices.Equal(ids, want) {
		t.Errorf("encode(%q) = %v, want %v (pieces %q)", "the", ids, want, pieces(tok, ids))
	}
}

func TestTokenizerByteFallback(t *testing.T) {
	tok := syntheticTokenizer(t, 512)
	// "é" is not in the synthetic vocabulary: its two UTF-8 bytes become
	// byte tokens.
	ids := tok.encode("é")
	want := []int32{tokBOS, tok.space, 3 + 0xC3, 3 + 0xA9}
	if !slices.Equal(ids, want) {
		t.Fatalf("encode(é) = %v, want %v", ids, want)
	}
	if got := tok.piece(ids[2], ids[3]); got != "\xa9" {
		t.Errorf("piece of <0xA9> = %q, want the raw byte", got)
	}
	if got := tok.piece(tokBOS, tok.ids[" t"]); got != "t" {
		t.Errorf("first piece after BOS = %q, want its leading space dropped", got)
	}
	if got := tok.piece(tok.ids["a"], tok.ids[" t"]); got != " t" {
		t.Errorf("piece after a word = %q, want the space kept", got)
	}
}

func TestTokenizerStories260KKnownIDs(t *testing.T) {
	m := stories260K(t)
	ids := m.tok.encode("the")
	// tok512: 259 " t", 260 "he" (see the file); " the" is 265.
	if want := []int32{tokBOS, 265}; !slices.Equal(ids, want) {
		t.Errorf("encode(%q) = %v (%q), want %v", "the", ids, pieces(m.tok, ids), want)
	}
}

func TestByteToken(t *testing.T) {
	for p, want := range map[string]int{"<0x00>": 0, "<0xFF>": 255, "<0x0a>": 10, "<0xZZ>": -1, "<0x100>": -1, "0x41": -1, "<0x4>>": -1} {
		b, ok := byteToken(p)
		if (want < 0) == ok || (ok && int(b) != want) {
			t.Errorf("byteToken(%q) = %d, %v; want %d", p, b, ok, want)
		}
	}
}

func pieces(tok *tokenizer, ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = tok.pieces[id]
	}
	return out
}
