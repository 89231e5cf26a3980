package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// benchConfig is the parsed command line.
type benchConfig struct {
	duration time.Duration // per throughput figure
	channels int           // channels of the concurrent acceptance run
	sends    int
	dir      string
	json     bool
}

// Result is everything one run measured; --json prints it.
type Result struct {
	Machine  Machine       `json:"machine"`
	Config   Config        `json:"config"`
	Accept   *Accept       `json:"vouchers_accepted,omitempty"`
	Raw      *Raw          `json:"raw,omitempty"`
	Ratios   *Ratios       `json:"ratios,omitempty"`
	Send     *SendResult   `json:"send_to_confirmed,omitempty"`
	TonAPI   *TonAPIResult `json:"toncenter_vs_own_protocol,omitempty"`
	Failures []string      `json:"failures,omitempty"`
	TookS    float64       `json:"took_s"`
}

// Machine describes where the figures were taken.
type Machine struct {
	benchutil.Machine
	StoreDir   string `json:"store_dir"`
	Filesystem string `json:"filesystem,omitempty"`
}

// Config is what the run was asked to do.
type Config struct {
	DurationS float64 `json:"duration_s"`
	Channels  int     `json:"channels"`
	Sends     int     `json:"sends"`
}

// Accept is vouchers accepted per second: verified, durably stored, then
// acknowledged.
type Accept struct {
	Sequential Rate `json:"sequential_one_channel"`
	Concurrent Rate `json:"concurrent"`
}

// Raw is the raw costs an acceptance is made of, measured in the same run.
type Raw struct {
	Ed25519Verify         Rate `json:"ed25519_verify_1_goroutine"`
	Ed25519VerifyParallel Rate `json:"ed25519_verify_per_cpu"`
	WritesBatch1          Rate `json:"pebble_writes_batch_1"`
	WritesBatch1000       Rate `json:"pebble_writes_batch_1000"`
	WritesBatch1Parallel  Rate `json:"pebble_writes_batch_1_concurrent"`
}

// Ratios put acceptance beside its raw costs.
type Ratios struct {
	// SequentialVsWrite is sequential accepts / single durable writes.
	SequentialVsWrite float64 `json:"sequential_accept_per_batch_1_write"`
	// SequentialVsVerify is sequential accepts / single-goroutine verifies.
	SequentialVsVerify float64 `json:"sequential_accept_per_verify"`
	// ConcurrentVsVerify is concurrent accepts / verifies on every CPU.
	ConcurrentVsVerify float64 `json:"concurrent_accept_per_parallel_verify"`
	// ConcurrentVsWrite is concurrent accepts / concurrent durable writes.
	ConcurrentVsWrite float64 `json:"concurrent_accept_per_concurrent_write"`
}

func main() {
	cmd := benchutil.Command{Name: "bench-ledger", Stdout: os.Stdout, Stderr: os.Stderr}
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(cmd.FlagStatus(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res := run(ctx, c, cmd.Progress(false))
	stop()
	os.Exit(cmd.Finish(c.json, res, func(w io.Writer) { printTable(w, res) }, res.Failures))
}

func parseFlags(args []string) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench-ledger", flag.ContinueOnError)
	fs.DurationVar(&c.duration, "duration", 2*time.Second, "how long each throughput figure is measured")
	fs.IntVar(&c.channels, "channels", 32, "channels accepting vouchers at once in the concurrent run (and writers in the concurrent raw write run)")
	fs.IntVar(&c.sends, "sends", 200, "timed wallet sends on the emulated chain")
	fs.StringVar(&c.dir, "dir", os.TempDir(), "directory for the temporary stores (its disk's fsync is measured)")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scripts/bench-ledger [flags]\n\n"+
			"Measures voucher acceptance (verify + durable write) beside raw Ed25519\n"+
			"verifies and raw Pebble writes, and wallet send -> confirmed latency on the\n"+
			"emulated TON chain, in one run.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	case c.duration < 10*time.Millisecond || c.duration > time.Minute:
		return c, fmt.Errorf("--duration %s: use 10ms to 1m", c.duration)
	case c.channels < 1 || c.channels > 1024:
		return c, fmt.Errorf("--channels %d: use 1 to 1024", c.channels)
	case c.sends < 1 || c.sends > 100_000:
		return c, fmt.Errorf("--sends %d: use 1 to 100000", c.sends)
	}
	if st, err := os.Stat(c.dir); err != nil || !st.IsDir() {
		return c, fmt.Errorf("--dir %s: not a directory (%v)", c.dir, err)
	}
	return c, nil
}

// run measures everything; a part that fails is recorded in Failures and
// the others still run (unless interrupted).
func run(ctx context.Context, c benchConfig, p *benchutil.Progress) *Result {
	start := time.Now()
	res := &Result{
		Machine: Machine{Machine: benchutil.ThisMachine(), StoreDir: c.dir, Filesystem: filesystem(c.dir)},
		Config:  Config{DurationS: c.duration.Seconds(), Channels: c.channels, Sends: c.sends},
	}
	fail := func(part string, err error) { res.Failures = append(res.Failures, part+": "+err.Error()) }
	if err := runThroughput(ctx, c, p, res); err != nil {
		fail("throughput", err)
	}
	if ctx.Err() == nil {
		p.Printf("wallet send -> confirmed on the emulated chain, %d sends", c.sends)
		s, err := measureSend(ctx, c.dir, c.sends)
		if err != nil {
			fail("send", err)
		}
		res.Send = s
	}
	if ctx.Err() == nil {
		p.Printf("toncenter v2 API vs the own chain protocol: %d sends each, get-methods for %s each", c.sends, c.duration)
		t, err := measureTonAPI(ctx, c.dir, c.sends, c.duration)
		if err != nil {
			fail("toncenter", err)
		}
		res.TonAPI = t
	}
	if ctx.Err() != nil {
		fail("run", errors.New("interrupted"))
	}
	res.TookS = benchutil.Seconds(time.Since(start))
	return res
}

// runThroughput fills res.Raw, res.Accept and res.Ratios; the raw costs
// come first, and the verify rates bound how many vouchers are signed
// for the acceptance runs.
func runThroughput(ctx context.Context, c benchConfig, p *benchutil.Progress, res *Result) error {
	raw := &Raw{}
	steps := []struct {
		name string
		do   func() (Rate, error)
		into *Rate
	}{
		{"Ed25519 verify, 1 goroutine", func() (Rate, error) { return measureVerify(ctx, 1, c.duration) }, &raw.Ed25519Verify},
		{fmt.Sprintf("Ed25519 verify, %d goroutines", runtime.GOMAXPROCS(0)), func() (Rate, error) {
			return measureVerify(ctx, runtime.GOMAXPROCS(0), c.duration)
		}, &raw.Ed25519VerifyParallel},
		{"Pebble writes, batch of 1", func() (Rate, error) { return measureWrites(ctx, c.dir, 1, 1, c.duration) }, &raw.WritesBatch1},
		{"Pebble writes, batch of 1000", func() (Rate, error) { return measureWrites(ctx, c.dir, 1, 1000, c.duration) }, &raw.WritesBatch1000},
		{fmt.Sprintf("Pebble writes, batch of 1, %d writers", c.channels), func() (Rate, error) {
			return measureWrites(ctx, c.dir, c.channels, 1, c.duration)
		}, &raw.WritesBatch1Parallel},
	}
	for _, s := range steps {
		p.Printf("%s", s.name)
		r, err := s.do()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		*s.into = r
	}
	res.Raw = raw

	acc := &Accept{}
	// Acceptance cannot outrun verification: sign 20% more than that.
	bound := func(verify Rate) int64 { return int64(verify.PerS*c.duration.Seconds()*1.2) + 1 }
	var err error
	p.Printf("vouchers accepted, one channel")
	if acc.Sequential, err = measureAccept(ctx, c.dir, 1, c.duration, bound(raw.Ed25519Verify)); err != nil {
		return fmt.Errorf("vouchers accepted, one channel: %w", err)
	}
	p.Printf("vouchers accepted, %d channels at once", c.channels)
	if acc.Concurrent, err = measureAccept(ctx, c.dir, c.channels, c.duration, bound(raw.Ed25519VerifyParallel)); err != nil {
		return fmt.Errorf("vouchers accepted, %d channels: %w", c.channels, err)
	}
	res.Accept = acc
	res.Ratios = &Ratios{
		SequentialVsWrite:  benchutil.Ratio(acc.Sequential.PerS, raw.WritesBatch1.PerS),
		SequentialVsVerify: benchutil.Ratio(acc.Sequential.PerS, raw.Ed25519Verify.PerS),
		ConcurrentVsVerify: benchutil.Ratio(acc.Concurrent.PerS, raw.Ed25519VerifyParallel.PerS),
		ConcurrentVsWrite:  benchutil.Ratio(acc.Concurrent.PerS, raw.WritesBatch1Parallel.PerS),
	}
	return nil
}
