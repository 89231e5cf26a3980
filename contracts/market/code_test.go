package market

import (
	"bytes"
	"os"
	"testing"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// The embedded codes are the codes the record names, and the record was
// made from the sources as they are now: editing a .fc file without
// rerunning scripts/build-contracts fails here. The on-disk directory is
// checked too, so a record rewritten by hand without a rebuild is noticed.
func TestCodeMatchesRecord(t *testing.T) {
	if err := Layout().Verify(EmbeddedFiles()); err != nil {
		t.Fatalf("embedded files: %v", err)
	}
	if err := Layout().Verify(os.DirFS(".")); err != nil {
		t.Fatalf("files on disk: %v", err)
	}
	rec, err := EmbeddedRecord()
	if err != nil {
		t.Fatal(err)
	}
	// Each accessor returns its own contract, not the other one.
	for _, c := range []struct {
		file string
		load func() (*cell.Cell, error)
	}{
		{CollectionCodeFile, CollectionCode},
		{ItemCodeFile, ItemCode},
	} {
		code, err := c.load()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := code.Hash(), rec.CodeHashes[c.file]; !bytes.Equal(got, want) {
			t.Fatalf("%s: code hash %x, record says %x", c.file, got, want)
		}
	}
	if bytes.Equal(rec.CodeHashes[CollectionCodeFile], rec.CodeHashes[ItemCodeFile]) {
		t.Fatal("collection and item record the same code hash")
	}
}

// The committed record is byte for byte what the record tool would write
// for the hashes it holds, so rebuilding unchanged sources changes nothing.
func TestRecordFormatStable(t *testing.T) {
	raw, err := os.ReadFile(RecordFile)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Layout().ParseRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := Layout().FormatRecord(rec); got != string(raw) {
		t.Fatalf("record reformats as\n%s\nbut %s holds\n%s", got, RecordFile, raw)
	}
}
