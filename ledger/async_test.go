package ledger

import (
	"errors"
	"testing"
)

// A batch committed asynchronously is visible at once, counts as a commit
// once waited for, and a wait syncs the write-ahead log.
func TestCommitAsyncVisibleThenDurable(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sp, _ := s.Space("async")
	before := s.Durability()
	b := sp.NewBatch()
	b.Set([]byte("k"), []byte("v"))
	wait, err := b.CommitAsync()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := sp.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("before the wait: %q, %v; want the value (applied)", v, err)
	}
	if d := s.Durability(); d.Commits != before.Commits {
		t.Fatalf("%d commits counted before the wait, want %d", d.Commits, before.Commits)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	d := awaitFsyncs(t, s, before.Fsyncs+1)
	if d.Commits != before.Commits+1 {
		t.Fatalf("after the wait: %+v (before %+v), want one more commit", d, before)
	}
	if _, err := sp.Get([]byte("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}
