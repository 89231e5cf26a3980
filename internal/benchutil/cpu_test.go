//go:build unix

package benchutil

import (
	"crypto/sha256"
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
