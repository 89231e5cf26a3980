package build

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Record line keys shared by every layout.
const (
	sourceKey   = "source-sha256"
	compilerKey = "compiler"
)

// Code names one compiled contract of a Layout.
type Code struct {
	// File is the base64 BOC func-js wrote, e.g. "channel.code.b64".
	File string
	// Key is the record line that holds the code's hash, e.g. "code-hash".
	Key string
}

// Layout describes one directory of contracts: its compiled codes and its
// build record.
type Layout struct {
	// Name prefixes errors and names the directory for the record tool,
	// e.g. "contracts/channel".
	Name string
	// Codes are the compiled contracts, in the order the record lists them.
	Codes []Code
	// RecordFile is the build record's file name, e.g. "channel.code.rec".
	RecordFile string
}

// Record is what scripts/build-contracts wrote about a Layout's code.
type Record struct {
	// CodeHashes are the compiled code cells' representation hashes, by
	// Code.File.
	CodeHashes map[string][]byte
	// SourceHash is HashSources over the *.fc files the code was compiled
	// from.
	SourceHash []byte
	// Compiler names the compiler and its version.
	Compiler string
}

// ParseCode decodes a base64 BOC as func-js writes it; name is the file it
// came from, for the error.
func ParseCode(name string, b64 []byte) (*cell.Cell, error) {
	boc, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		return nil, fmt.Errorf("%s is not base64 (rerun scripts/build-contracts): %w", name, err)
	}
	c, err := cell.FromBOC(boc)
	if err != nil {
		return nil, fmt.Errorf("%s is not a BOC (rerun scripts/build-contracts): %w", name, err)
	}
	return c, nil
}

// HashSources hashes every *.fc file at the top of fsys: SHA-256 over, in
// name order, name, a zero byte, the contents and a zero byte.
func HashSources(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "*.fc")
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.fc sources found")
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read source %s: %w", n, err)
		}
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return h.Sum(nil), nil
}

// LoadCode reads and decodes the code file named file from fsys.
func (l Layout) LoadCode(fsys fs.FS, file string) (*cell.Cell, error) {
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", l.Name, file, err)
	}
	c, err := ParseCode(file, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Name, err)
	}
	return c, nil
}

// LoadRecord reads and parses l's record file from fsys.
func (l Layout) LoadRecord(fsys fs.FS) (Record, error) {
	raw, err := fs.ReadFile(fsys, l.RecordFile)
	if err != nil {
		return Record{}, fmt.Errorf("%s: read %s: %w", l.Name, l.RecordFile, err)
	}
	return l.ParseRecord(raw)
}

// ParseRecord reads a record in l's format (see the package doc). Lines
// with keys l does not know are ignored.
func (l Layout) ParseRecord(raw []byte) (Record, error) {
	if err := l.check(); err != nil {
		return Record{}, err
	}
	byKey := make(map[string]string, len(l.Codes))
	for _, c := range l.Codes {
		byKey[c.Key] = c.File
	}
	r := Record{CodeHashes: make(map[string][]byte, len(l.Codes))}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		var err error
		switch key {
		case sourceKey:
			r.SourceHash, err = hex.DecodeString(val)
		case compilerKey:
			r.Compiler = val
		default:
			if file, ok := byKey[key]; ok {
				r.CodeHashes[file], err = hex.DecodeString(val)
			}
		}
		if err != nil {
			return Record{}, fmt.Errorf("%s: %s line %q: %w (rerun scripts/build-contracts)", l.Name, l.RecordFile, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Record{}, fmt.Errorf("%s: read %s: %w", l.Name, l.RecordFile, err)
	}
	for _, c := range l.Codes {
		if len(r.CodeHashes[c.File]) != sha256.Size {
			return Record{}, fmt.Errorf("%s: %s lacks a 32-byte %s (rerun scripts/build-contracts)", l.Name, l.RecordFile, c.Key)
		}
	}
	if len(r.SourceHash) != sha256.Size {
		return Record{}, fmt.Errorf("%s: %s lacks a 32-byte %s (rerun scripts/build-contracts)", l.Name, l.RecordFile, sourceKey)
	}
	return r, nil
}

// FormatRecord renders r as ParseRecord reads it: one line per code in
// l.Codes order, then the source hash, then the compiler.
func (l Layout) FormatRecord(r Record) string {
	var b strings.Builder
	for _, c := range l.Codes {
		fmt.Fprintf(&b, "%s %x\n", c.Key, r.CodeHashes[c.File])
	}
	fmt.Fprintf(&b, "%s %x\n%s %s\n", sourceKey, r.SourceHash, compilerKey, r.Compiler)
	return b.String()
}

// Verify checks that fsys (a contract directory, or the embedded copy of
// one) is consistent: every code file decodes to the cell the record names,
// the *.fc files hash to the record's source hash, and the record names a
// compiler. The error says which part disagrees.
func (l Layout) Verify(fsys fs.FS) error {
	rec, err := l.LoadRecord(fsys)
	if err != nil {
		return err
	}
	for _, c := range l.Codes {
		code, err := l.LoadCode(fsys, c.File)
		if err != nil {
			return err
		}
		if got, want := code.Hash(), rec.CodeHashes[c.File]; !bytes.Equal(got, want) {
			return fmt.Errorf("%s: %s has code hash %x, %s says %x: rerun scripts/build-contracts", l.Name, c.File, got, l.RecordFile, want)
		}
	}
	src, err := HashSources(fsys)
	if err != nil {
		return fmt.Errorf("%s: %w", l.Name, err)
	}
	if !bytes.Equal(src, rec.SourceHash) {
		return fmt.Errorf("%s: sources hash %x, %s says %x: the .fc files changed since the last compile; rerun scripts/build-contracts", l.Name, src, l.RecordFile, rec.SourceHash)
	}
	if rec.Compiler == "" {
		return fmt.Errorf("%s: %s names no compiler: rerun scripts/build-contracts", l.Name, l.RecordFile)
	}
	return nil
}

// WriteRecord records the freshly compiled code in dir: it decodes every
// code file, hashes the *.fc sources, writes l.RecordFile there and
// returns what it wrote. scripts/build-contracts calls it (through
// contracts/record) after compiling.
func (l Layout) WriteRecord(dir, compiler string) (Record, error) {
	if err := l.check(); err != nil {
		return Record{}, err
	}
	if compiler == "" || strings.ContainsAny(compiler, "\r\n") {
		return Record{}, fmt.Errorf("%s: compiler description %q must be one non-empty line", l.Name, compiler)
	}
	fsys := os.DirFS(dir)
	rec := Record{CodeHashes: make(map[string][]byte, len(l.Codes)), Compiler: compiler}
	for _, c := range l.Codes {
		code, err := l.LoadCode(fsys, c.File)
		if err != nil {
			return Record{}, err
		}
		rec.CodeHashes[c.File] = code.Hash()
	}
	src, err := HashSources(fsys)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", l.Name, err)
	}
	rec.SourceHash = src
	path := filepath.Join(dir, l.RecordFile)
	if err := os.WriteFile(path, []byte(l.FormatRecord(rec)), 0o644); err != nil {
		return Record{}, fmt.Errorf("%s: write record: %w", l.Name, err)
	}
	return rec, nil
}

// check rejects a Layout whose record could not be read back: no codes, a
// code without a file or key, a file or key used twice, a key taken by the
// shared lines, or a key with a space.
func (l Layout) check() error {
	if len(l.Codes) == 0 || l.RecordFile == "" {
		return fmt.Errorf("%s: layout names no codes or no record file", l.Name)
	}
	keys := map[string]bool{sourceKey: true, compilerKey: true}
	files := map[string]bool{}
	for _, c := range l.Codes {
		if c.File == "" || c.Key == "" || strings.ContainsAny(c.Key, " \t\r\n") || keys[c.Key] || files[c.File] {
			return fmt.Errorf("%s: layout code %+v needs its own file and its own one-word key other than %s and %s", l.Name, c, sourceKey, compilerKey)
		}
		keys[c.Key] = true
		files[c.File] = true
	}
	return nil
}
