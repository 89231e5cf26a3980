package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"--sizes", "221MiB"}, {"--sizes", "1GB"}, {"--sizes", "4"}, {"--ops", "-1"},
		{"--k", "5", "--n", "4"}, {"--raw-mib", "0"}, {"--dir", "/nonexistent/x"}, {"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	c, err := parseFlags(nil)
	if err != nil || len(c.sizes) != 3 || c.sizes[0] != 1<<10 || c.sizes[2] != 10<<20 || c.k != 4 || c.n != 6 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if label(1<<10) != "1 KiB" || label(10<<20) != "10 MiB" || label(100) != "100 B" {
		t.Fatal("label")
	}
}

// TestRunMeasuresEverything runs the whole benchmark at the smallest
// sizes and checks that every figure was measured and reported.
func TestRunMeasuresEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the benchmark")
	}
	c, err := parseFlags([]string{"--sizes", "1KiB,64KiB", "--ops", "2", "--k", "2", "--n", "3", "--raw-mib", "2", "--dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res := run(context.Background(), c, &benchutil.Progress{W: &log, Start: time.Now()})
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v\n%s", res.Failures, log.String())
	}
	if len(res.Sizes) != 2 {
		t.Fatalf("sizes measured: %+v", res.Sizes)
	}
	for _, s := range res.Sizes {
		for name, o := range map[string]Op{"put": s.Put, "get": s.Get} {
			if o.MBps <= 0 || o.Latency.N != 2 || o.Latency.P50MS <= 0 || o.Latency.P99MS < o.Latency.P50MS {
				t.Errorf("%s %s: %+v", s.Label, name, o)
			}
		}
		if s.Ratios.PutVsStream <= 0 || s.Ratios.GetVsCrypto <= 0 || s.ElementBytes < 1<<10 {
			t.Errorf("%s: %+v", s.Label, s)
		}
	}
	if r := res.Raw; r.StreamOneMBps <= 0 || r.StreamAllMBps <= 0 || r.SealSplitMBps <= 0 || r.RebuildOpenMBp <= 0 {
		t.Errorf("raw figures: %+v", r)
	}
	var table bytes.Buffer
	printTable(&table, res)
	for _, want := range []string{"1 KiB", "64 KiB", "put", "get", "p99 ms", "libp2p streams owner -> 3 holders", "Reed-Solomon 2+1"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "sizes", "raw", "config"} {
		if back[k] == nil {
			t.Errorf("JSON lacks %q: %s", k, raw)
		}
	}
}
