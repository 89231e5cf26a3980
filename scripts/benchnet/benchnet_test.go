package main

import (
	"encoding/binary"
	"os"
	"testing"
	"time"
)

func TestGossipProbeCountsOthersOnce(t *testing.T) {
	g := newGossipProbe()
	d := &delivery{from: 0, left: 2, done: make(chan struct{})}
	g.inflight[7] = d
	msg := make([]byte, 16)
	binary.BigEndian.PutUint64(msg, 7)
	other := make([]byte, 16)
	binary.BigEndian.PutUint64(other, 8)

	t0 := time.Unix(100, 0)
	g.received(0, msg, t0)             // the publisher's own copy
	g.received(1, other, t0)           // another message
	g.received(1, []byte{1, 2, 3}, t0) // too short to carry a sequence number
	g.received(1, msg, t0.Add(time.Second))
	select {
	case <-d.done:
		t.Fatal("done after one of two receivers")
	default:
	}
	g.received(2, msg, t0.Add(2*time.Second))
	select {
	case <-d.done:
	default:
		t.Fatal("not done after both receivers")
	}
	g.received(2, msg, t0.Add(3*time.Second)) // a late duplicate changes nothing
	if d.left != 0 || !d.last.Equal(t0.Add(2*time.Second)) {
		t.Errorf("left %d last %v, want 0 and the second receipt", d.left, d.last)
	}
}

func TestProcfsOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no procfs")
	}
	pid := os.Getpid()
	started, err := processStart(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !started.Before(time.Now()) {
		t.Errorf("process start %v is not in the past", started)
	}
	rss, err := rssBytes(pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 {
		t.Errorf("RSS = %d", rss)
	}
	if _, ok := daemonHome(pid); ok {
		t.Error("the test binary was taken for a daemon")
	}
	if _, err := rssBytes(-1); err == nil {
		t.Error("RSS of pid -1: no error")
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.nodes != 20 || c.gets != 200 || c.msgs != 300 || c.minPeers != 6 || c.idle != 5*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	if c, err = parseFlags([]string{"--nodes", "3"}); err != nil || c.minPeers != 2 {
		t.Errorf("--nodes 3: min peers %d, err %v; want 2", c.minPeers, err)
	}
	for _, bad := range [][]string{{"--nodes", "1"}, {"--gets", "0"}, {"--nodes", "5", "--min-peers", "5"}, {"extra"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
