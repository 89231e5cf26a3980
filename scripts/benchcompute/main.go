package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// config is the parsed command line.
type config struct {
	Requests        int           `json:"requests"`         // per latency measure
	Concurrency     int           `json:"concurrency"`      // for requests per second
	HighConcurrency int           `json:"high_concurrency"` // the same, under more load
	Duration        time.Duration `json:"-"`
	DurationS       float64       `json:"duration_s"`
	Tokens          int           `json:"runner_tokens"`
	Payments        bool          `json:"payments"`
	Dir             string        `json:"-"`
	CPUProfile      string        `json:"-"`
	JSON            bool          `json:"-"`
	Verbose         bool          `json:"-"`
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench-compute", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Requests, "requests", 200, "requests per latency and time-to-first-token measure, each way")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "concurrent requests for the first requests-per-second measure")
	fs.IntVar(&c.HighConcurrency, "high-concurrency", 64, "concurrent requests for the second requests-per-second measure")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "length of the requests-per-second measure")
	fs.IntVar(&c.Tokens, "tokens", 3000, "tokens the built-in runner generates for its tokens-per-second figure")
	fs.BoolVar(&c.Payments, "payments", true, "pay each request by voucher (real ledgers on the emulated chain)")
	fs.StringVar(&c.Dir, "dir", "", "directory for the peers' stores (default: a temporary one)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (read it with `go tool pprof`)")
	fs.BoolVar(&c.JSON, "json", false, "print the results as JSON")
	fs.BoolVar(&c.Verbose, "v", false, "more progress")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.Requests < 1 || c.Requests > 1_000_000:
		return c, errors.New("--requests must be 1 to 1000000")
	case c.Concurrency < 1 || c.Concurrency > 1024 || c.HighConcurrency < 1 || c.HighConcurrency > 1024:
		return c, errors.New("--concurrency and --high-concurrency must be 1 to 1024")
	case c.Duration < 10*time.Millisecond:
		return c, errors.New("--duration must be at least 10ms")
	case c.Tokens < 1:
		return c, errors.New("--tokens must be at least 1")
	}
	c.DurationS = benchutil.Seconds(c.Duration)
	return c, nil
}

// Result is everything one run measured; --json prints it.
type Result struct {
	Machine    benchutil.Machine `json:"machine"`
	Config     config            `json:"config"`
	Direct     Way               `json:"direct"`
	Network    Way               `json:"through_network"`
	Raw        RawStream         `json:"raw_libp2p"`
	Overhead   Overhead          `json:"overhead"`
	Throughput []Throughput      `json:"throughput"`
	Runner     Runner            `json:"runner"`
	Failures   []string          `json:"failures,omitempty"`
	TookS      float64           `json:"took_s"`
}

// Way is one path to the backend.
type Way struct {
	Latency          benchutil.Latency `json:"latency_non_streaming"`
	TimeToFirstToken benchutil.Latency `json:"time_to_first_token"`
}

// Overhead is what the network adds over a direct call (through − direct).
type Overhead struct {
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	TTFTP50MS    float64 `json:"ttft_p50_ms"`
}

// RawStream is bare libp2p between the client's and the proxy's hosts, in
// the same run: a 1 KiB echo on a new stream each time, and on one stream
// kept open.
type RawStream struct {
	NewStream benchutil.Latency `json:"new_stream_round_trip"`
	Reused    benchutil.Latency `json:"reused_stream_round_trip"`
}

// Throughput is requests per second through one proxy, and what the four
// peers made durable meanwhile, per request.
type Throughput struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Failed      int     `json:"failed"`
	FirstError  string  `json:"first_error,omitempty"`
	PerS        float64 `json:"per_s"`
	// CommitsPerRequest are synced store commits; FsyncsPerRequest the WAL
	// fsyncs that carried them (concurrent commits share one), over all
	// four peers.
	CommitsPerRequest float64 `json:"commits_per_request"`
	FsyncsPerRequest  float64 `json:"fsyncs_per_request"`
	// CPUMSPerRequest is the process's CPU time (user and system) per
	// request: all four peers, the fixture and the HTTP client together.
	// Unlike requests/s it barely moves with other load on the machine.
	CPUMSPerRequest float64 `json:"cpu_ms_per_request"`
}

// Runner is the built-in llama2.c runner's speed.
type Runner struct {
	Model      string  `json:"model"`
	Tokens     int     `json:"tokens"`
	PerS       float64 `json:"tokens_per_s"`
	Checkpoint string  `json:"checkpoint,omitempty"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], benchutil.Command{Name: "bench-compute", Stdout: os.Stdout, Stderr: os.Stderr}))
}

func run(ctx context.Context, args []string, cmd benchutil.Command) int {
	c, err := parseFlags(args, cmd.Stderr)
	if err != nil {
		return cmd.FlagStatus(err)
	}
	prog := cmd.Progress(c.Verbose)
	if c.CPUProfile != "" {
		stopProfile, err := benchutil.StartCPUProfile(c.CPUProfile)
		if err != nil {
			fmt.Fprintf(cmd.Stderr, "%s: %v\n", cmd.Name, err)
			return 2
		}
		defer stopProfile()
	}
	start := time.Now()
	res := &Result{Machine: benchutil.ThisMachine(), Config: c}
	if err := measure(ctx, c, prog, res); err != nil {
		res.Failures = append(res.Failures, err.Error())
	}
	res.TookS = benchutil.Seconds(time.Since(start))
	return cmd.Finish(c.JSON, res, func(w io.Writer) { printTable(w, res) }, res.Failures)
}

func printTable(w io.Writer, r *Result) {
	pay := "paid by voucher"
	if !r.Config.Payments {
		pay = "payments off"
	}
	fmt.Fprintf(w, "compute on loopback: client -> proxy -> worker (4 in-process peers, %s) vs direct,\nagainst the same instant OpenAI-compatible fixture; %d requests per measure\n\n", pay, r.Config.Requests)
	fmt.Fprintf(w, "%-40s %10s %10s %10s\n", "measure", "p50 ms", "p99 ms", "failed")
	row := func(name string, l benchutil.Latency) {
		fmt.Fprintf(w, "%-40s %10.3f %10.3f %10d\n", name, l.P50MS, l.P99MS, l.Failed)
	}
	row("latency, direct", r.Direct.Latency)
	row("latency, through the network", r.Network.Latency)
	row("time to first token, direct", r.Direct.TimeToFirstToken)
	row("time to first token, through the network", r.Network.TimeToFirstToken)
	row("raw libp2p 1 KiB echo, new stream", r.Raw.NewStream)
	row("raw libp2p 1 KiB echo, reused stream", r.Raw.Reused)
	fmt.Fprintf(w, "\noverhead (through - direct): latency p50 %+.3f ms, p99 %+.3f ms; first token p50 %+.3f ms\n",
		r.Overhead.LatencyP50MS, r.Overhead.LatencyP99MS, r.Overhead.TTFTP50MS)
	for _, t := range r.Throughput {
		fmt.Fprintf(w, "through one proxy: %7.1f requests/s (%3d concurrent, %d done, %d failed); per request %.2f synced commits in %.2f fsyncs, %.2f ms CPU\n",
			t.PerS, t.Concurrency, t.Requests, t.Failed, t.CommitsPerRequest, t.FsyncsPerRequest, t.CPUMSPerRequest)
	}
	fmt.Fprintf(w, "built-in runner: %.0f tokens/s on %s (%d tokens, one goroutine)\n", r.Runner.PerS, r.Runner.Model, r.Runner.Tokens)
	fmt.Fprintf(w, "\n%d CPUs, %s, took %.1f s\n", r.Machine.CPUs, r.Machine.GoVersion, r.TookS)
}
