package market

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
	CollectionCodeFile = "collection.code.b64"
	ItemCodeFile       = "item.code.b64"
	RecordFile         = "market.code.rec"
)

//go:embed *.fc collection.code.b64 item.code.b64 market.code.rec
var files embed.FS

// Record is what scripts/build-contracts wrote about the compiled code.
type Record struct {
	// CollectionHash and ItemHash are the compiled code cells'
	// representation hashes.
	CollectionHash, ItemHash []byte
	// SourceHash is HashSources over the *.fc files they were compiled from.
	SourceHash []byte
	// Compiler names the compiler and its version.
	Compiler string
}

// CollectionCode returns the collection contract's compiled code cell.
func CollectionCode() (*cell.Cell, error) { return embedded(CollectionCodeFile) }

// ItemCode returns the item contract's compiled code cell.
func ItemCode() (*cell.Cell, error) { return embedded(ItemCodeFile) }

func embedded(name string) (*cell.Cell, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("contracts/market: read embedded %s: %w", name, err)
	}
	return ParseCode(name, raw)
}

// ParseCode decodes a base64 BOC as func-js writes it; name is the file it
// came from, for the error.
func ParseCode(name string, b64 []byte) (*cell.Cell, error) {
	boc, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		return nil, fmt.Errorf("contracts/market: %s is not base64 (rerun scripts/build-contracts): %w", name, err)
	}
	c, err := cell.FromBOC(boc)
	if err != nil {
		return nil, fmt.Errorf("contracts/market: %s is not a BOC (rerun scripts/build-contracts): %w", name, err)
	}
	return c, nil
}

// EmbeddedRecord returns the build record compiled into the binary.
func EmbeddedRecord() (Record, error) {
	raw, err := files.ReadFile(RecordFile)
	if err != nil {
		return Record{}, fmt.Errorf("contracts/market: read embedded %s: %w", RecordFile, err)
	}
	return ParseRecord(raw)
}

// EmbeddedSources returns the FunC sources compiled into the binary.
func EmbeddedSources() fs.FS { return files }

// ParseRecord reads a record: lines "collection-code-hash HEX",
// "item-code-hash HEX", "source-sha256 HEX", "compiler TEXT".
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
		case "collection-code-hash":
			r.CollectionHash, err = hex.DecodeString(val)
		case "item-code-hash":
			r.ItemHash, err = hex.DecodeString(val)
		case "source-sha256":
			r.SourceHash, err = hex.DecodeString(val)
		case "compiler":
			r.Compiler = val
		}
		if err != nil {
			return Record{}, fmt.Errorf("contracts/market: record line %q: %w", key, err)
		}
	}
	if len(r.CollectionHash) != 32 || len(r.ItemHash) != 32 || len(r.SourceHash) != 32 {
		return Record{}, fmt.Errorf("contracts/market: record lacks a code hash or source-sha256 (rerun scripts/build-contracts)")
	}
	return r, nil
}

// Format renders r as ParseRecord reads it.
func (r Record) Format() string {
	return fmt.Sprintf("collection-code-hash %x\nitem-code-hash %x\nsource-sha256 %x\ncompiler %s\n",
		r.CollectionHash, r.ItemHash, r.SourceHash, r.Compiler)
}

// HashSources hashes every *.fc file at the top of fsys: SHA-256 over, in
// name order, name, a zero byte, the contents and a zero byte.
func HashSources(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "*.fc")
	if err != nil {
		return nil, fmt.Errorf("contracts/market: list sources: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("contracts/market: no *.fc sources found")
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("contracts/market: read %s: %w", n, err)
		}
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return h.Sum(nil), nil
}
