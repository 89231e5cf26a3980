package llama2c

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeModel writes a random checkpoint and the synthetic tokenizer for
// cfg into dir and returns their paths.
func writeModel(t *testing.T, dir string, cfg Config, seed int64) (ck, tok string) {
	t.Helper()
	ck, tok = filepath.Join(dir, "model.bin"), filepath.Join(dir, "tok.bin")
	if err := os.WriteFile(ck, randomCheckpoint(cfg, seed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tok, marshalTokenizer(syntheticVocab(cfg.Vocab)), 0o644); err != nil {
		t.Fatal(err)
	}
	return ck, tok
}

func TestLoadMatchesRandom(t *testing.T) {
	cfg := smallConfig()
	ck, tok := writeModel(t, t.TempDir(), cfg, 7)
	loaded, err := Load(ck, tok)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	r := Random(cfg, 7)
	if loaded.WeightsHash() != r.WeightsHash() || loaded.Config() != cfg {
		t.Errorf("loaded %+v %s, random %+v %s", loaded.Config(), loaded.WeightsHash(), cfg, r.WeightsHash())
	}
	a, _, _, _ := generate(t, loaded, "the", 20, Sampling{Temperature: 1, Seed: 4})
	b, _, _, _ := generate(t, r, "the", 20, Sampling{Temperature: 1, Seed: 4})
	if a != b {
		t.Errorf("loaded model says %q, Random %q", a, b)
	}
}

func TestLoadSharedClassifier(t *testing.T) {
	// A positive vocab_size means no separate classifier: same file minus
	// the classifier, with the sign flipped.
	cfg := smallConfig()
	data := randomCheckpoint(cfg, 1)
	data = data[:len(data)-4*cfg.Vocab*cfg.Dim]
	binary.LittleEndian.PutUint32(data[20:], uint32(cfg.Vocab))
	dir := t.TempDir()
	_, tok := writeModel(t, dir, cfg, 1)
	ck := filepath.Join(dir, "shared.bin")
	if err := os.WriteFile(ck, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(ck, tok)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if &m.w.wcls[0] != &m.w.emb[0] {
		t.Error("shared checkpoint: classifier is not the embedding")
	}
	generate(t, m, "x", 5, Sampling{})
}

func TestLoadBadFiles(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	goodCk, goodTok := writeModel(t, dir, cfg, 1)
	ck, _ := os.ReadFile(goodCk)
	tok, _ := os.ReadFile(goodTok)
	header := func(vals ...int32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	cases := []struct {
		name     string
		ck, tok  []byte
		wantFile string
		want     string
	}{
		{"empty checkpoint", []byte{}, tok, "ck", "truncated"},
		{"short header", ck[:10], tok, "ck", "truncated"},
		{"header only", ck[:headerSize], tok, "ck", "truncated"},
		{"weights cut", ck[:len(ck)-1], tok, "ck", "truncated"},
		{"trailing bytes", append(append([]byte{}, ck...), 0, 0, 0, 0), tok, "ck", "more than the header"},
		{"zero dim", header(0, 48, 2, 4, 2, 320, 64), tok, "ck", "dim = 0"},
		{"dim not a multiple of heads", header(30, 48, 2, 4, 2, 320, 64), tok, "ck", "multiple of n_heads"},
		{"heads not a multiple of kv heads", header(32, 48, 2, 4, 3, 320, 64), tok, "ck", "n_kv_heads"},
		{"odd head size", header(12, 48, 2, 4, 2, 320, 64), tok, "ck", "odd"},
		{"huge", header(1<<16, 1<<18, 1<<10, 1<<10, 1<<10, 1<<21, 1<<20), tok, "ck", "more than this runner loads"},
		{"min int vocab", header(32, 48, 2, 4, 2, -1<<31, 64), tok, "ck", "vocab_size"},
		{"text file", []byte("this is not a model at all, just some text\n"), tok, "ck", "bad header"},
		{"empty tokenizer", ck, []byte{}, "tok", "truncated"},
		{"tokenizer cut", ck, tok[:len(tok)/2], "tok", "truncated"},
		{"tokenizer too long", ck, append(append([]byte{}, tok...), 1, 2, 3), "tok", "different vocabulary size"},
		{"negative piece length", ck, append(header(7, 0, -5), make([]byte, 8*320)...), "tok", "length -5"},
		{"zero max length", ck, header(0), "tok", "max_token_length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			ckPath, tokPath := filepath.Join(d, "ck.bin"), filepath.Join(d, "tok.bin")
			if err := os.WriteFile(ckPath, c.ck, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tokPath, c.tok, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(ckPath, tokPath)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), c.wantFile+".bin") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v; want it to name %s.bin and say %q", err, c.wantFile, c.want)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.bin"), goodTok); err == nil || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing checkpoint: %v", err)
	}
	if _, err := Load(goodCk, dir); err == nil || !strings.Contains(err.Error(), "regular file") {
		t.Errorf("directory as tokenizer: %v", err)
	}
}

func TestDefaultPathsEnv(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{DefaultCheckpoint, DefaultTokenizer} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(ModelDirEnv, dir)
	ck, tok, ok := DefaultPaths()
	if !ok || ck != filepath.Join(dir, DefaultCheckpoint) || tok != filepath.Join(dir, DefaultTokenizer) {
		t.Errorf("DefaultPaths() = %q, %q, %v; want the files in $%s", ck, tok, ok, ModelDirEnv)
	}
	if dirs := modelDirs(); dirs[0] != dir || dirs[len(dirs)-1] != sharedModelDir || len(dirs) < 3 {
		t.Errorf("modelDirs() = %v", dirs)
	}
}

func TestDefaultPathsWalksUp(t *testing.T) {
	root := t.TempDir()
	models := filepath.Join(root, "shared", "models", "stories260K")
	work := filepath.Join(root, "main", "a", "b")
	for _, d := range []string{models, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{DefaultCheckpoint, DefaultTokenizer} {
		if err := os.WriteFile(filepath.Join(models, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(ModelDirEnv, "")
	t.Chdir(work)
	ck, _, ok := DefaultPaths()
	if want := filepath.Join(models, DefaultCheckpoint); !ok || filepath.Clean(ck) != want {
		t.Errorf("DefaultPaths() from %s = %q, %v; want %s", work, ck, ok, want)
	}
}
