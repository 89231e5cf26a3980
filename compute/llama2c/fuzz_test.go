package llama2c

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unicode/utf8"
)

// FuzzReadCheckpoint feeds arbitrary bytes to the checkpoint reader: it
// must return an error or a checkpoint whose size matches its header,
// never panic or allocate beyond the bounds.
func FuzzReadCheckpoint(f *testing.F) {
	small := Config{Dim: 4, Hidden: 6, Layers: 1, Heads: 2, KVHeads: 1, Vocab: 3, SeqLen: 2}
	good := randomCheckpointBytes(small)
	f.Add(good)
	f.Add(good[:headerSize])
	f.Add(good[:len(good)-3])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		ck, err := readCheckpoint(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if want := headerSize + 4*layoutOf(ck.cfg, ck.shared).total(); int64(len(data)) != want {
			t.Fatalf("accepted %d bytes for a header needing %d", len(data), want)
		}
		w := ck.split()
		if len(w.wcls) != ck.cfg.Vocab*ck.cfg.Dim {
			t.Fatalf("classifier of %d floats for %+v", len(w.wcls), ck.cfg)
		}
	})
}

// randomCheckpointBytes is a tiny valid checkpoint with a shared
// classifier (randomCheckpoint needs the synthetic vocabulary's size).
func randomCheckpointBytes(cfg Config) []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(cfg.Dim))
	for _, v := range []int{cfg.Hidden, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.Vocab, cfg.SeqLen} {
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	return append(out, make([]byte, 4*layoutOf(cfg, true).total())...)
}

func FuzzParseTokenizer(f *testing.F) {
	f.Add(marshalTokenizer([]string{"<unk>", "<s>", "</s>", "a", "b", "ab", "<0x41>"}, []float32{0, 0, 0, 0, 0, 1, 0}), 7)
	f.Add(marshalTokenizer([]string{"", "", ""}, []float32{0, 0, 0}), 3)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 127}, 3)
	f.Fuzz(func(t *testing.T, data []byte, vocab int) {
		tok, err := parseTokenizer(data, vocab)
		if err != nil {
			return
		}
		// Whatever the vocabulary, encoding and decoding work and the ids
		// are in range.
		for _, s := range []string{"", "ab", "a\xffb é"} {
			for _, id := range tok.encode(s) {
				if id < 0 || int(id) >= vocab {
					t.Fatalf("encode(%q) gave id %d of %d", s, id, vocab)
				}
			}
		}
	})
}

// FuzzEncodeRoundTrip checks that any text survives encode and decode with
// the synthetic tokenizer (which has every byte token).
func FuzzEncodeRoundTrip(f *testing.F) {
	tok := syntheticTokenizer(f, 512)
	for _, s := range []string{"", "the cat", " lead", "é🙂\xff\x00", "<0x41>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2000 {
			return
		}
		ids := tok.encode(s)
		if got := tok.decode(ids); got != s {
			t.Fatalf("decode(encode(%q)) = %q", s, got)
		}
		if utf8.ValidString(s) && len(ids) > len(s)*4+2 {
			t.Fatalf("%d ids for %d bytes", len(ids), len(s))
		}
	})
}
