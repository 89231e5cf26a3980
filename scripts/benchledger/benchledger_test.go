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

func TestRateOf(t *testing.T) {
	if r := rateOf(500, 250*time.Millisecond); r != (Rate{Ops: 500, Seconds: 0.25, PerS: 2000}) {
		t.Errorf("rateOf(500, 250ms) = %+v", r)
	}
	if r := rateOf(7, 0); r != (Rate{Ops: 7}) {
		t.Errorf("rateOf(7, 0) = %+v, want no rate", r)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -12345: "-12,345"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{{"--duration", "1ns"}, {"--channels", "0"}, {"--sends", "0"}, {"--dir", "/nonexistent/x"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

// TestRunMeasuresEverything runs the whole benchmark briefly and checks
// every figure was measured, the table names them and the JSON carries them.
func TestRunMeasuresEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the benchmark")
	}
	c, err := parseFlags([]string{"--duration", "50ms", "--sends", "5", "--channels", "4", "--dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res := run(context.Background(), c, &benchutil.Progress{W: &log, Start: time.Now()})
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v\n%s", res.Failures, log.String())
	}
	for name, r := range map[string]Rate{
		"accept sequential": res.Accept.Sequential, "accept concurrent": res.Accept.Concurrent,
		"verify": res.Raw.Ed25519Verify, "verify parallel": res.Raw.Ed25519VerifyParallel,
		"writes 1": res.Raw.WritesBatch1, "writes 1000": res.Raw.WritesBatch1000, "writes concurrent": res.Raw.WritesBatch1Parallel,
	} {
		if r.Ops <= 0 || r.PerS <= 0 {
			t.Errorf("%s: %+v, want a positive figure", name, r)
		}
	}
	if s := res.Send; s == nil || s.N != 5 || s.P50MS <= 0 || s.P99MS < s.P50MS || s.DeployMS <= 0 {
		t.Errorf("send = %+v", res.Send)
	}
	if a := res.TonAPI; a == nil || a.SendBoc.N != 5 || a.SendOwn.N != 5 || a.SendBoc.P50MS <= 0 || a.GetMethod.Ops <= 0 || a.GetMethodOwn.Ops <= 0 {
		t.Errorf("toncenter vs own protocol = %+v", res.TonAPI)
	}
	var table bytes.Buffer
	printTable(&table, res)
	for _, want := range []string{"sequential, one channel", "concurrent, 4 channels", "Ed25519 verify", "batches of 1000", "p99", "runGetMethod seqno"} {
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
	for _, k := range []string{"vouchers_accepted", "raw", "ratios", "send_to_confirmed", "toncenter_vs_own_protocol"} {
		if back[k] == nil {
			t.Errorf("JSON lacks %q: %s", k, raw)
		}
	}
}
