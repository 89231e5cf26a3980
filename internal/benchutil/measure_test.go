//go:build unix

package benchutil

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

// ProcessCPU counts the work this process does.
func TestProcessCPUCountsWork(t *testing.T) {
	before := ProcessCPU()
	if before <= 0 {
		t.Fatalf("ProcessCPU = %v at the start of a test", before)
	}
	sum := sha256.Sum256(nil)
	for range 200000 {
		sum = sha256.Sum256(sum[:])
	}
	if after := ProcessCPU(); after <= before {
		t.Fatalf("ProcessCPU went from %v to %v over 200,000 hashes (%x)", before, after, sum[:2])
	}
}

// DurableWrites times every round and leaves no file behind.
func TestDurableWrites(t *testing.T) {
	dir := t.TempDir()
	times, err := DurableWrites(dir, 3, 1000, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 4 {
		t.Fatalf("%d rounds timed, want 4", len(times))
	}
	for _, d := range times {
		if d <= 0 {
			t.Fatalf("a round took %v", d)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("%d entries left in the directory", len(left))
	}
	if _, err := DurableWrites(filepath.Join(dir, "missing"), 1, 1, 1); err == nil {
		t.Fatal("a missing directory was measured")
	}
}
