package market

import (
	"bytes"
	"os"
	"testing"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// The embedded code is the code the record names, and the record was made
// from the sources as they are now: editing a .fc file without rerunning
// scripts/build-contracts fails here.
func TestCodeMatchesRecord(t *testing.T) {
	rec, err := EmbeddedRecord()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		load func() ([]byte, error)
		want []byte
	}{
		{CollectionCodeFile, hashOf(CollectionCode), rec.CollectionHash},
		{ItemCodeFile, hashOf(ItemCode), rec.ItemHash},
	} {
		got, err := c.load()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.want) {
			t.Fatalf("%s: embedded code hash %x, record says %x: rerun scripts/build-contracts", c.name, got, c.want)
		}
	}
	embedded, err := HashSources(EmbeddedSources())
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := HashSources(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, rec.SourceHash) || !bytes.Equal(embedded, rec.SourceHash) {
		t.Fatalf("sources hash %x (embedded %x), record says %x: the .fc files changed since the last compile; rerun scripts/build-contracts", onDisk, embedded, rec.SourceHash)
	}
	if rec.Compiler == "" {
		t.Fatalf("record names no compiler")
	}
}

func hashOf(load func() (*cell.Cell, error)) func() ([]byte, error) {
	return func() ([]byte, error) {
		c, err := load()
		if err != nil {
			return nil, err
		}
		return c.Hash(), nil
	}
}

func TestParseRecordRejectsIncomplete(t *testing.T) {
	full := Record{CollectionHash: make([]byte, 32), ItemHash: make([]byte, 32), SourceHash: make([]byte, 32), Compiler: "x"}
	if r, err := ParseRecord([]byte(full.Format())); err != nil || r.Compiler != "x" {
		t.Fatalf("round trip of a full record: %+v, %v", r, err)
	}
	if _, err := ParseRecord([]byte("collection-code-hash 00\n")); err == nil {
		t.Fatal("incomplete record accepted")
	}
	noItem := "collection-code-hash " + hex32 + "\nsource-sha256 " + hex32 + "\n"
	if _, err := ParseRecord([]byte(noItem)); err == nil {
		t.Fatal("record without the item hash accepted")
	}
	if _, err := ParseRecord([]byte("item-code-hash zz\n")); err == nil {
		t.Fatal("non-hex record accepted")
	}
	if _, err := ParseCode("x", []byte("not base64!")); err == nil {
		t.Fatal("bad base64 accepted")
	}
	if _, err := ParseCode("x", []byte("AAAA")); err == nil {
		t.Fatal("base64 that is no BOC accepted")
	}
}

const hex32 = "0000000000000000000000000000000000000000000000000000000000000000"
