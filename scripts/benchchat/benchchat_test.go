package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	s := make([]time.Duration, 200)
	for i := range s {
		s[i] = time.Duration(200-i) * time.Millisecond
	}
	l := summarize(s, 2*time.Second)
	if l.N != 200 || l.P50MS != 100 || l.P99MS != 198 || l.PerS != 100 {
		t.Fatalf("summarize = %+v", l)
	}
	if got := nearestRank(nil, 50); got != 0 {
		t.Fatalf("nearestRank of nothing = %v", got)
	}
}

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{{"--messages", "0"}, {"--workers", "0"}, {"--size", "0"}, {"--size", "100000"}, {"--group", "1"}, {"--group", "-1"}, {"--group-messages", "0"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	if c, err := parseFlags(nil); err != nil || c.Messages <= 0 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}
