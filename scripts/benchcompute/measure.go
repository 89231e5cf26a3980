package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tonmesh/tonmesh/compute/llama2c"
	"github.com/tonmesh/tonmesh/internal/benchutil"
)

const (
	smallRequest  = `{"model":"fixture","messages":[{"role":"user","content":"Tell me a short story."}],"max_tokens":16}`
	streamRequest = `{"model":"fixture","messages":[{"role":"user","content":"Tell me a short story."}],"max_tokens":16,"stream":true}`
)

// measure runs every measure into res.
func measure(ctx context.Context, c config, prog *benchutil.Progress, res *Result) error {
	dir := c.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-compute-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	prog.Printf("starting 4 peers under %s", dir)
	b, err := start(ctx, c, dir, prog)
	defer b.close()
	if err != nil {
		return fmt.Errorf("start the network: %w", err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * c.Concurrency}}
	direct, through := b.fixture.URL+"/v1/chat/completions", b.api.URL+"/v1/chat/completions"
	// Warm up: the first request opens the payment channels (chain
	// transactions) and the connections.
	for range 3 {
		if _, err := complete(ctx, hc, through); err != nil {
			return fmt.Errorf("warm-up request through the network: %w", err)
		}
	}
	var failures []string
	latency := func(name, url string, f func(context.Context, *http.Client, string) (time.Duration, error)) benchutil.Latency {
		prog.Printf("%s: %d requests", name, c.Requests)
		var ds []time.Duration
		failed := 0
		for range c.Requests {
			d, err := f(ctx, hc, url)
			if err != nil {
				failed++
				if failed == 1 {
					failures = append(failures, fmt.Sprintf("%s: %v", name, err))
				}
				if ctx.Err() != nil {
					break
				}
				continue
			}
			ds = append(ds, d)
		}
		return benchutil.Summarize(ds, failed)
	}
	res.Direct.Latency = latency("latency, direct", direct, complete)
	res.Network.Latency = latency("latency, through the network", through, complete)
	res.Direct.TimeToFirstToken = latency("time to first token, direct", direct, firstToken)
	res.Network.TimeToFirstToken = latency("time to first token, through the network", through, firstToken)
	res.Overhead = Overhead{
		LatencyP50MS: round3(res.Network.Latency.P50MS - res.Direct.Latency.P50MS),
		LatencyP99MS: round3(res.Network.Latency.P99MS - res.Direct.Latency.P99MS),
		TTFTP50MS:    round3(res.Network.TimeToFirstToken.P50MS - res.Direct.TimeToFirstToken.P50MS),
	}
	prog.Printf("raw libp2p round trips: %d each way", c.Requests)
	if res.Raw, err = rawStream(ctx, b, c.Requests); err != nil {
		failures = append(failures, "raw libp2p: "+err.Error())
	}
	for _, n := range []int{c.Concurrency, c.HighConcurrency} {
		prog.Printf("requests per second: %d concurrent for %v", n, c.Duration)
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}}
		before, cpu0 := b.durability(), cpuTime()
		t := throughput(ctx, hc, through, n, c.Duration)
		if t.Requests > 0 {
			d, cpu := b.durability(), cpuTime()-cpu0
			t.CPUMSPerRequest = benchutil.Ratio(float64(cpu.Microseconds())/1000, float64(t.Requests))
			t.CommitsPerRequest = benchutil.Ratio(float64(d.Commits-before.Commits), float64(t.Requests))
			t.FsyncsPerRequest = benchutil.Ratio(float64(d.Fsyncs-before.Fsyncs), float64(t.Requests))
		}
		res.Throughput = append(res.Throughput, t)
		if t.Failed > 0 {
			failures = append(failures, fmt.Sprintf("throughput at %d: %d requests failed, the first with: %s", n, t.Failed, t.FirstError))
		}
	}
	prog.Printf("built-in runner: %d tokens", c.Tokens)
	if res.Runner, err = runner(ctx, c.Tokens); err != nil {
		failures = append(failures, "runner: "+err.Error())
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

func round3(x float64) float64 { return benchutil.Ratio(x, 1) }

// complete sends the small non-streaming request and reads the answer.
func complete(ctx context.Context, hc *http.Client, url string) (time.Duration, error) {
	start := time.Now()
	resp, err := post(ctx, hc, url, smallRequest)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("fixture.")) {
		return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	return time.Since(start), nil
}

// firstToken sends the streaming request and times the first chunk with
// content; it reads the stream to its end.
func firstToken(ctx context.Context, hc *http.Client, url string) (time.Duration, error) {
	start := time.Now()
	resp, err := post(ctx, hc, url, streamRequest)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	var ttft time.Duration
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if ttft == 0 && strings.Contains(line, `"content":"Once `) {
			ttft = time.Since(start)
		}
		if line == "data: [DONE]" {
			if ttft == 0 {
				return 0, errors.New("the stream had no content")
			}
			return ttft, nil
		}
	}
	return 0, fmt.Errorf("the stream ended without [DONE]: %v", sc.Err())
}

func post(ctx context.Context, hc *http.Client, url, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return hc.Do(req)
}

// throughput runs n concurrent request loops for d.
func throughput(ctx context.Context, hc *http.Client, url string, n int, d time.Duration) Throughput {
	var done, failed atomic.Int64
	var firstErr sync.Once
	var first string
	// Each loop starts requests until d is over and finishes the one it
	// is in, so that every started request counts (a slow machine still
	// measures n requests at least).
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(end) {
				if _, err := complete(ctx, hc, url); err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
						firstErr.Do(func() { first = err.Error() })
					}
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	return Throughput{Concurrency: n, Requests: int(done.Load()), Failed: int(failed.Load()), FirstError: first,
		PerS: benchutil.Ratio(float64(done.Load()), wall.Seconds())}
}

// runner measures the built-in runner on stories260K, or on a random model
// of the same shape when the checkpoint is not found.
func runner(ctx context.Context, tokens int) (Runner, error) {
	r := Runner{Tokens: tokens}
	var m *llama2c.Model
	if ck, tok, ok := llama2c.DefaultPaths(); ok {
		var err error
		if m, err = llama2c.Load(ck, tok); err != nil {
			return r, err
		}
		r.Model, r.Checkpoint = "stories260K", ck
	} else {
		m = llama2c.Random(llama2c.Config{Layers: 5, SeqLen: 512}, 1)
		r.Model = "random weights, stories260K's shape (checkpoint not found)"
	}
	tps, err := llama2c.MeasureTokensPerSecond(ctx, m, tokens)
	r.PerS = benchutil.Ratio(tps, 1)
	return r, err
}
