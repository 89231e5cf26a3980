package channel

import (
	"bytes"
	"os"
	"testing"
)

// The embedded code is the code the record names, and the record was made
// from the sources as they are now: editing channel.fc without rerunning
// scripts/build-contracts fails here.
func TestCodeMatchesRecord(t *testing.T) {
	code, err := Code()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := EmbeddedRecord()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code.Hash(), rec.CodeHash) {
		t.Fatalf("embedded code hash %x, record says %x: rerun scripts/build-contracts", code.Hash(), rec.CodeHash)
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

func TestParseRecordRejectsIncomplete(t *testing.T) {
	if _, err := ParseRecord([]byte("code-hash 00\n")); err == nil {
		t.Fatal("incomplete record accepted")
	}
	if _, err := ParseRecord([]byte("code-hash zz\nsource-sha256 00\n")); err == nil {
		t.Fatal("non-hex record accepted")
	}
	if _, err := ParseCode([]byte("not base64!")); err == nil {
		t.Fatal("bad base64 accepted")
	}
}
