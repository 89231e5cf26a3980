package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// TestRunMinimal runs the whole benchmark with minimal settings and checks
// that every figure was measured.
func TestRunMinimal(t *testing.T) {
	var out, errOut bytes.Buffer
	cmd := benchutil.Command{Name: "bench-compute", Stdout: &out, Stderr: &errOut}
	status := run(context.Background(), []string{"--requests", "3", "--concurrency", "2", "--duration", "300ms", "--tokens", "20", "--json", "--dir", t.TempDir()}, cmd)
	if status != 0 {
		t.Fatalf("status %d\nstderr:\n%s", status, errOut.String())
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	for name, l := range map[string]benchutil.Latency{"direct latency": res.Direct.Latency, "network latency": res.Network.Latency,
		"direct ttft": res.Direct.TimeToFirstToken, "network ttft": res.Network.TimeToFirstToken} {
		if l.N != 3 || l.Failed != 0 || l.P50MS <= 0 {
			t.Errorf("%s = %+v, want 3 measured requests", name, l)
		}
	}
	if res.Throughput.Requests == 0 || res.Throughput.PerS <= 0 || res.Runner.PerS <= 0 || res.Runner.Model == "" {
		t.Errorf("throughput %+v, runner %+v", res.Throughput, res.Runner)
	}
}

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{{"--requests", "0"}, {"--concurrency", "0"}, {"--duration", "1ns"}, {"--tokens", "0"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	if c, err := parseFlags(nil, io.Discard); err != nil || c.Requests <= 0 || !c.Payments {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}
