package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

func testLayout() Layout {
	return Layout{
		Name:       "contracts/test",
		Codes:      []Code{{File: "a.code.b64", Key: "a-code-hash"}, {File: "b.code.b64", Key: "b-code-hash"}},
		RecordFile: "test.code.rec",
	}
}

// codeB64 is a small distinct cell per n, as func-js would write it.
func codeB64(t *testing.T, n uint64) ([]byte, []byte) {
	t.Helper()
	c := cell.BeginCell().MustStoreUInt(n, 32).EndCell()
	return []byte(base64.StdEncoding.EncodeToString(c.ToBOC()) + "\n"), c.Hash()
}

// consistentDir returns a directory whose record matches its code and
// sources.
func consistentDir(t *testing.T) fstest.MapFS {
	t.Helper()
	l := testLayout()
	a, ha := codeB64(t, 1)
	b, hb := codeB64(t, 2)
	fsys := fstest.MapFS{
		"main.fc":       {Data: []byte("() main() { }\n")},
		"prims.fc":      {Data: []byte(";; prims\n")},
		"README":        {Data: []byte("not a source")},
		"a.code.b64":    {Data: a},
		"b.code.b64":    {Data: b},
		"test.code.rec": {},
	}
	src, err := HashSources(fsys)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{CodeHashes: map[string][]byte{"a.code.b64": ha, "b.code.b64": hb}, SourceHash: src, Compiler: "func v0 (test)"}
	fsys["test.code.rec"] = &fstest.MapFile{Data: []byte(l.FormatRecord(rec))}
	return fsys
}

func TestHashSourcesFraming(t *testing.T) {
	fsys := fstest.MapFS{
		"b.fc":   {Data: []byte("bee")},
		"a.fc":   {Data: []byte("ay")},
		"x.txt":  {Data: []byte("ignored")},
		"d/c.fc": {Data: []byte("not at the top")},
	}
	got, err := HashSources(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("a.fc\x00ay\x00b.fc\x00bee\x00"))
	if !bytes.Equal(got, want[:]) {
		t.Fatalf("HashSources = %x, want %x", got, want)
	}
	if _, err := HashSources(fstest.MapFS{"x.txt": {}}); err == nil {
		t.Fatal("directory without sources hashed")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	l := testLayout()
	rec := Record{
		CodeHashes: map[string][]byte{"a.code.b64": bytes.Repeat([]byte{1}, 32), "b.code.b64": bytes.Repeat([]byte{2}, 32)},
		SourceHash: bytes.Repeat([]byte{3}, 32),
		Compiler:   "func v0.4.6 (@ton-community/func-js 0.11.0)",
	}
	text := l.FormatRecord(rec)
	want := "a-code-hash " + strings.Repeat("01", 32) + "\nb-code-hash " + strings.Repeat("02", 32) +
		"\nsource-sha256 " + strings.Repeat("03", 32) + "\ncompiler func v0.4.6 (@ton-community/func-js 0.11.0)\n"
	if text != want {
		t.Fatalf("FormatRecord =\n%s\nwant\n%s", text, want)
	}
	got, err := l.ParseRecord([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got.Compiler != rec.Compiler || !bytes.Equal(got.SourceHash, rec.SourceHash) ||
		!bytes.Equal(got.CodeHashes["a.code.b64"], rec.CodeHashes["a.code.b64"]) ||
		!bytes.Equal(got.CodeHashes["b.code.b64"], rec.CodeHashes["b.code.b64"]) {
		t.Fatalf("round trip: %+v, want %+v", got, rec)
	}
}

func TestParseRecordRejects(t *testing.T) {
	l := testLayout()
	h := strings.Repeat("00", 32)
	for name, text := range map[string]string{
		"empty":        "",
		"no b hash":    "a-code-hash " + h + "\nsource-sha256 " + h + "\n",
		"no source":    "a-code-hash " + h + "\nb-code-hash " + h + "\n",
		"short hash":   "a-code-hash 00\nb-code-hash " + h + "\nsource-sha256 " + h + "\n",
		"not hex":      "a-code-hash zz\nb-code-hash " + h + "\nsource-sha256 " + h + "\n",
		"other's keys": "code-hash " + h + "\nb-code-hash " + h + "\nsource-sha256 " + h + "\n",
	} {
		if _, err := l.ParseRecord([]byte(text)); err == nil {
			t.Errorf("%s: record accepted", name)
		}
	}
}

func TestParseCodeRejects(t *testing.T) {
	if _, err := ParseCode("x", []byte("not base64!")); err == nil {
		t.Fatal("bad base64 accepted")
	}
	if _, err := ParseCode("x", []byte("AAAA")); err == nil {
		t.Fatal("base64 that is no BOC accepted")
	}
	b64, hash := codeB64(t, 7)
	c, err := ParseCode("x", b64)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Hash(), hash) {
		t.Fatalf("decoded cell hash %x, want %x", c.Hash(), hash)
	}
}

func TestVerify(t *testing.T) {
	l := testLayout()
	if err := l.Verify(consistentDir(t)); err != nil {
		t.Fatalf("consistent directory: %v", err)
	}
	other, _ := codeB64(t, 3)
	for name, spoil := range map[string]func(fstest.MapFS){
		"source edited":  func(f fstest.MapFS) { f["main.fc"] = &fstest.MapFile{Data: []byte("() main() { throw(1); }\n")} },
		"source added":   func(f fstest.MapFS) { f["extra.fc"] = &fstest.MapFile{Data: []byte(";;\n")} },
		"code replaced":  func(f fstest.MapFS) { f["b.code.b64"] = &fstest.MapFile{Data: other} },
		"codes swapped":  func(f fstest.MapFS) { f["a.code.b64"], f["b.code.b64"] = f["b.code.b64"], f["a.code.b64"] },
		"code missing":   func(f fstest.MapFS) { delete(f, "a.code.b64") },
		"code garbled":   func(f fstest.MapFS) { f["a.code.b64"] = &fstest.MapFile{Data: []byte("!!")} },
		"record missing": func(f fstest.MapFS) { delete(f, "test.code.rec") },
		"no compiler": func(f fstest.MapFS) {
			rec := string(f["test.code.rec"].Data)
			rec = rec[:strings.Index(rec, "compiler ")]
			f["test.code.rec"] = &fstest.MapFile{Data: []byte(rec)}
		},
	} {
		fsys := consistentDir(t)
		spoil(fsys)
		if err := l.Verify(fsys); err == nil {
			t.Errorf("%s: Verify passed", name)
		}
	}
}

func TestWriteRecord(t *testing.T) {
	l := testLayout()
	want := consistentDir(t)
	dir := t.TempDir()
	for name, f := range want {
		if name == l.RecordFile {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.WriteRecord(dir, "func v0 (test)"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, l.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want[l.RecordFile].Data) {
		t.Fatalf("wrote\n%s\nwant\n%s", got, want[l.RecordFile].Data)
	}
	if err := l.Verify(os.DirFS(dir)); err != nil {
		t.Fatalf("written directory: %v", err)
	}
	if _, err := l.WriteRecord(dir, "two\nlines"); err == nil {
		t.Fatal("multi-line compiler description accepted")
	}
}

func TestLayoutCheck(t *testing.T) {
	for name, l := range map[string]Layout{
		"no codes":      {Name: "x", RecordFile: "x.rec"},
		"no record":     {Name: "x", Codes: []Code{{File: "a", Key: "k"}}},
		"key twice":     {Name: "x", RecordFile: "x.rec", Codes: []Code{{File: "a", Key: "k"}, {File: "b", Key: "k"}}},
		"file twice":    {Name: "x", RecordFile: "x.rec", Codes: []Code{{File: "a", Key: "k"}, {File: "a", Key: "j"}}},
		"reserved key":  {Name: "x", RecordFile: "x.rec", Codes: []Code{{File: "a", Key: "compiler"}}},
		"key has space": {Name: "x", RecordFile: "x.rec", Codes: []Code{{File: "a", Key: "code hash"}}},
	} {
		if _, err := l.ParseRecord(nil); err == nil || !strings.Contains(err.Error(), "layout") {
			t.Errorf("%s: ParseRecord error %v, want a layout error", name, err)
		}
	}
}
