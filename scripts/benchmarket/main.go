package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// config is the parsed command line.
type config struct {
	Nodes int
	Bids  int
	Step  int
	Dir   string
	JSON  bool
	Verb  bool
	// CPUProfile, if set, is where a CPU profile of the measure (bids
	// published and validated) is written.
	CPUProfile string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench-market", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Nodes, "nodes", 20, "in-process nodes on loopback")
	fs.IntVar(&c.Bids, "bids", 200, "bids published, one after the other")
	fs.IntVar(&c.Step, "step", 1, "the auction's minimum step in percent (1-100)")
	fs.StringVar(&c.Dir, "dir", "", "directory for the nodes' stores (default: a temporary one)")
	fs.BoolVar(&c.JSON, "json", false, "print JSON")
	fs.BoolVar(&c.Verb, "v", false, "print progress details")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the propagation measure to this file (read it with `go tool pprof`)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.Nodes < 2 || c.Nodes > 100:
		return c, errors.New("--nodes must be 2..100")
	case c.Bids < 1 || c.Bids > 5000:
		return c, errors.New("--bids must be 1..5000")
	case c.Step < 1 || c.Step > 100:
		return c, errors.New("--step must be 1..100")
	}
	return c, nil
}

// Result is everything one run measured; --json prints it.
type Result struct {
	Machine benchutil.Machine `json:"machine"`
	Nodes   int               `json:"nodes"`
	Bids    int               `json:"bids"`
	// ToAll is, per bid, the time from publishing to the last node's
	// validator accepting it; ToEach is the same for every (bid, node).
	ToAll  benchutil.Latency `json:"propagation_to_all_nodes"`
	ToEach benchutil.Latency `json:"propagation_to_each_node"`
	// ValidatePerS is bids validated per second of validator time, per
	// node (mean over nodes; one core); Ed25519PerS is raw crypto/ed25519
	// verifications per second on one goroutine in the same run, and
	// EdverifyPerS the same for internal/edverify, the verifier the
	// validator uses (same acceptance, about twice as fast).
	ValidatePerS    float64 `json:"bids_validated_per_s_per_node"`
	ValidateMinPerS float64 `json:"bids_validated_per_s_slowest_node"`
	Ed25519PerS     float64 `json:"ed25519_verify_per_s"`
	EdverifyPerS    float64 `json:"edverify_verify_per_s"`
	VerifiesPerBid  float64 `json:"ed25519_verifies_per_bid_validation"`
	// AlonePerS is node 0's bids validated per second of validator time
	// with the machine to itself (the other nodes off the topic), as the
	// raw verifies are measured; VerifiesPerBidAlone its cost in verifies.
	AlonePerS           float64 `json:"bids_validated_per_s_one_node_alone"`
	VerifiesPerBidAlone float64 `json:"ed25519_verifies_per_bid_validation_alone"`
	// FastVerifiesPerBidAlone is that cost in edverify verifications.
	FastVerifiesPerBidAlone float64  `json:"edverify_verifies_per_bid_validation_alone"`
	Rejected                uint64   `json:"bids_rejected"`
	Failures                []string `json:"failures,omitempty"`
	TookS                   float64  `json:"took_s"`
}

func main() {
	cmd := benchutil.Command{Name: "bench-market", Stdout: os.Stdout, Stderr: os.Stderr}
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(cmd.FlagStatus(err))
	}
	start := time.Now()
	res, err := run(context.Background(), c, cmd.Progress(c.Verb))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-market:", err)
		os.Exit(1)
	}
	res.TookS = benchutil.Seconds(time.Since(start))
	os.Exit(cmd.Finish(c.JSON, res, func(w io.Writer) { printTable(w, res) }, res.Failures))
}

func printTable(w io.Writer, r *Result) {
	fmt.Fprintf(w, "market bids on loopback: %d in-process nodes, %d bids published one after the other\n", r.Nodes, r.Bids)
	fmt.Fprintf(w, "(%s/%s, %d CPUs, %s; took %.1f s)\n\n", r.Machine.GOOS, r.Machine.GOARCH, r.Machine.CPUs, r.Machine.GoVersion, r.TookS)
	fmt.Fprintf(w, "%-48s %8s %10s %10s %10s\n", "propagation (publish -> validator accepted)", "n", "p50 ms", "p99 ms", "max ms")
	row := func(name string, l benchutil.Latency) {
		fmt.Fprintf(w, "%-48s %8d %10.3f %10.3f %10.3f\n", name, l.N, l.P50MS, l.P99MS, l.MaxMS)
	}
	row("to all nodes (per bid)", r.ToAll)
	row("to each node (per bid and node)", r.ToEach)
	fmt.Fprintf(w, "\n%-48s %12.0f\n", "bids validated per s per node (validator time)", r.ValidatePerS)
	fmt.Fprintf(w, "%-48s %12.0f\n", "  slowest node", r.ValidateMinPerS)
	fmt.Fprintf(w, "%-48s %12.0f\n", "raw crypto/ed25519 verifications per s", r.Ed25519PerS)
	fmt.Fprintf(w, "%-48s %12.0f\n", "raw edverify verifications per s (validator's)", r.EdverifyPerS)
	fmt.Fprintf(w, "%-48s %12.2f\n", "one bid validation costs, in crypto/ed25519 verifies", r.VerifiesPerBid)
	fmt.Fprintf(w, "%-48s %12.0f\n", "bids validated per s, one node alone", r.AlonePerS)
	fmt.Fprintf(w, "%-48s %12.2f  (%.2fx the raw crypto/ed25519 rate)\n", "  one bid costs, in crypto/ed25519 verifies", r.VerifiesPerBidAlone, benchutil.Ratio(r.AlonePerS, r.Ed25519PerS))
	fmt.Fprintf(w, "%-48s %12.2f  (%.2fx the raw edverify rate)\n", "  one bid costs, in edverify verifies", r.FastVerifiesPerBidAlone, benchutil.Ratio(r.AlonePerS, r.EdverifyPerS))
	if r.Rejected > 0 {
		fmt.Fprintf(w, "\nbids rejected by some validator: %d\n", r.Rejected)
	}
}
