package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// BenchmarkThroughput runs requests through the network (paid by voucher)
// from BENCH_CONCURRENCY (default 8) concurrent loops, so that
// `go test -run '^$' -bench Throughput -cpuprofile cpu.prof` profiles the
// proxy path alone, without the start-up and the runner.
func BenchmarkThroughput(b *testing.B) {
	n := 8
	if v, err := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	net, err := start(ctx, c, b.TempDir(), &benchutil.Progress{W: io.Discard})
	defer net.close()
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}}
	url := net.api.URL + "/v1/chat/completions"
	for range 3 {
		if _, err := complete(ctx, hc, url); err != nil {
			b.Fatal(err)
		}
	}
	before, cpu0 := net.durability(), cpuTime()
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(max(1, n/2)) // GOMAXPROCS is 2 here; the product is n
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := complete(ctx, hc, url); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	d, cpu := net.durability(), cpuTime()-cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/req")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	b.ReportMetric(float64(d.Fsyncs-before.Fsyncs)/float64(b.N), "fsyncs/req")
}
