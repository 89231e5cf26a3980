package channel

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Files are the names of the build artefacts beside the sources.
const (
	CodeFile   = "channel.code.b64"
	RecordFile = "channel.code.rec"
)

//go:embed *.fc channel.code.b64 channel.code.rec
var files embed.FS

// Record is what scripts/build-contracts wrote about the compiled code.
type Record struct {
	// CodeHash is the compiled code cell's representation hash.
	CodeHash []byte
	// SourceHash is HashSources over the *.fc files it was compiled from.
	SourceHash []byte
	// Compiler names the compiler and its version.
	Compiler string
}

// Code returns the contract's compiled code cell.
func Code() (*cell.Cell, error) {
	raw, err := files.ReadFile(CodeFile)
	if err != nil {
		return nil, fmt.Errorf("contracts/channel: read embedded %s: %w", CodeFile, err)
	}
	return ParseCode(raw)
}

// ParseCode decodes a base64 BOC as func-js writes it.
func ParseCode(b64 []byte) (*cell.Cell, error) {
	boc, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		return nil, fmt.Errorf("contracts/channel: %s is not base64 (rerun scripts/build-contracts): %w", CodeFile, err)
	}
	c, err := cell.FromBOC(boc)
	if err != nil {
		return nil, fmt.Errorf("contracts/channel: %s is not a BOC (rerun scripts/build-contracts): %w", CodeFile, err)
	}
	return c, nil
}

// EmbeddedRecord returns the build record compiled into the binary.
func EmbeddedRecord() (Record, error) {
	raw, err := files.ReadFile(RecordFile)
	if err != nil {
		return Record{}, fmt.Errorf("contracts/channel: read embedded %s: %w", RecordFile, err)
	}
	return ParseRecord(raw)
}

// EmbeddedSources returns the FunC sources compiled into the binary.
func EmbeddedSources() fs.FS { return files }

// ParseRecord reads a record: lines "code-hash HEX", "source-sha256 HEX",
// "compiler TEXT".
func ParseRecord(raw []byte) (Record, error) {
	var r Record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "code-hash":
			r.CodeHash, err = hex.DecodeString(val)
		case "source-sha256":
			r.SourceHash, err = hex.DecodeString(val)
		case "compiler":
			r.Compiler = val
		}
		if err != nil {
			return Record{}, fmt.Errorf("contracts/channel: record line %q: %w", key, err)
		}
	}
	if len(r.CodeHash) != 32 || len(r.SourceHash) != 32 {
		return Record{}, fmt.Errorf("contracts/channel: record lacks code-hash or source-sha256 (rerun scripts/build-contracts)")
	}
	return r, nil
}

// Format renders r as ParseRecord reads it.
func (r Record) Format() string {
	return fmt.Sprintf("code-hash %x\nsource-sha256 %x\ncompiler %s\n", r.CodeHash, r.SourceHash, r.Compiler)
}

// HashSources hashes every *.fc file at the top of fsys: SHA-256 over, in
// name order, name, a zero byte, the contents and a zero byte.
func HashSources(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "*.fc")
	if err != nil {
		return nil, fmt.Errorf("contracts/channel: list sources: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("contracts/channel: no *.fc sources found")
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("contracts/channel: read %s: %w", n, err)
		}
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return h.Sum(nil), nil
}
