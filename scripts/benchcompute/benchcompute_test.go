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
	status := run(context.Background(), []string{"--requests", "3", "--concurrency", "2", "--high-concurrency", "4", "--duration", "300ms", "--tokens", "20", "--json", "--dir", t.TempDir()}, cmd)
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
	if len(res.Throughput) != 2 || res.Runner.PerS <= 0 || res.Runner.Model == "" {
		t.Fatalf("throughput %+v, runner %+v", res.Throughput, res.Runner)
	}
	for _, tp := range res.Throughput {
		if tp.Requests == 0 || tp.PerS <= 0 || tp.CommitsPerRequest <= 0 || tp.FsyncsPerRequest <= 0 || tp.CPUMSPerRequest <= 0 {
			t.Errorf("throughput %+v: want requests and the durable writes they cost", tp)
		}
	}
	if res.Raw.NewStream.N != 3 || res.Raw.Reused.N != 3 {
		t.Errorf("raw libp2p %+v: want 3 round trips each way", res.Raw)
	}
}

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{{"--requests", "0"}, {"--concurrency", "0"}, {"--high-concurrency", "2000"}, {"--duration", "1ns"}, {"--tokens", "0"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	if c, err := parseFlags(nil, io.Discard); err != nil || c.Requests <= 0 || !c.Payments {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}
