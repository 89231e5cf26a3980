package channel

import (
	"bytes"
	"os"
	"testing"
)

// The embedded code is the code the record names, and the record was made
// from the sources as they are now: editing channel.fc without rerunning
// scripts/build-contracts fails here. The on-disk directory is checked too,
// so a record rewritten by hand without a rebuild is noticed.
func TestCodeMatchesRecord(t *testing.T) {
	if err := Layout().Verify(EmbeddedFiles()); err != nil {
		t.Fatalf("embedded files: %v", err)
	}
	if err := Layout().Verify(os.DirFS(".")); err != nil {
		t.Fatalf("files on disk: %v", err)
	}
	code, err := Code()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := EmbeddedRecord()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := code.Hash(), rec.CodeHashes[CodeFile]; !bytes.Equal(got, want) {
		t.Fatalf("Code() hash %x, record says %x", got, want)
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
