package main

import (
	"io"
	"testing"
	"time"
)

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{{"--nodes", "1"}, {"--nodes", "101"}, {"--bids", "0"}, {"--step", "0"}, {"--step", "101"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	c, err := parseFlags(nil, io.Discard)
	if err != nil || c.Nodes != 20 || c.Bids <= 0 || c.Step != 1 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

func TestAcceptsSignalsWhenAllNodesSawABid(t *testing.T) {
	a := &accepts{nodes: 2, at: map[string][]time.Time{}, done: map[string]chan struct{}{}}
	done := a.expect("h")
	a.seen("h", time.Now())
	select {
	case <-done:
		t.Fatal("signalled after one node of two")
	default:
	}
	a.seen("h", time.Now())
	select {
	case <-done:
	default:
		t.Fatal("not signalled after both nodes")
	}
	if got := len(a.times("h")); got != 2 {
		t.Fatalf("times = %d, want 2", got)
	}
}
