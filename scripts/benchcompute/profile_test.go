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

// BenchmarkLatency runs requests through the network (paid by voucher)
// one after the other, as the latency measure does, so that
// `go test -run '^$' -bench Latency -blockprofile block.prof` shows what a
// sequential request waits on.
func BenchmarkLatency(b *testing.B) {
	ctx := context.Background()
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	c.Payments = os.Getenv("BENCH_PAYMENTS") != "false"
	net, err := start(ctx, c, b.TempDir(), &benchutil.Progress{W: io.Discard})
	defer net.close()
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{}
	url := net.api.URL + "/v1/chat/completions"
	for range 3 {
		if _, err := complete(ctx, hc, url); err != nil {
			b.Fatal(err)
		}
	}
	// BENCH_GAP idles between requests, so that the background payment
	// of one is done before the next starts: the difference to no gap is
	// what the payments cost the answer path by running beside it.
	gap, _ := time.ParseDuration(os.Getenv("BENCH_GAP"))
	var took []time.Duration
	before, cpu0 := net.durability(), cpuTime()
	b.ResetTimer()
	for b.Loop() {
		d, err := complete(ctx, hc, url)
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, d)
		if gap > 0 {
			time.Sleep(gap)
		}
	}
	b.StopTimer()
	d := net.durability()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/req")
	b.ReportMetric(float64(d.Commits-before.Commits)/float64(b.N), "commits/req")
	b.ReportMetric(float64(d.Fsyncs-before.Fsyncs)/float64(b.N), "fsyncs/req")
	l := benchutil.Summarize(took, 0)
	b.ReportMetric(l.P50MS*1000, "p50-us")
	b.ReportMetric(l.P99MS*1000, "p99-us")
}
