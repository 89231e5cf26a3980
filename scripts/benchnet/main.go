package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// benchConfig is the parsed command line.
type benchConfig struct {
	nodes       int
	gets        int
	msgs        int
	minPeers    int
	idle        time.Duration
	skipProcess bool
	netns       bool
	json        bool
	verbose     bool
	cpuProfile  string
}

// Result is everything the benchmark measured; --json prints it.
type Result struct {
	Machine  benchutil.Machine `json:"machine"`
	Process  *ProcessResult    `json:"process,omitempty"`
	Netns    *ProcessResult    `json:"netns_process,omitempty"` // --netns: the same testnet in network namespaces
	Compare  *CompareResult    `json:"in_process,omitempty"`
	Failures []string          `json:"failures,omitempty"`
	TookS    float64           `json:"took_s"`
}

func main() {
	cmd := benchutil.Command{Name: "bench-network", Stdout: os.Stdout, Stderr: os.Stderr}
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(cmd.FlagStatus(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res := run(ctx, c, cmd.Progress(c.verbose))
	stop()
	os.Exit(cmd.Finish(c.json, res, func(w io.Writer) { printTable(w, c, res) }, res.Failures))
}

func parseFlags(args []string) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench-network", flag.ContinueOnError)
	fs.IntVar(&c.nodes, "nodes", 20, "nodes in each network")
	fs.IntVar(&c.gets, "gets", 200, "DHT put+get rounds per side of the in-process comparison")
	fs.IntVar(&c.msgs, "msgs", 300, "gossip messages (1 KiB) per side of the in-process comparison")
	fs.IntVar(&c.minPeers, "min-peers", 0, "k: a daemon counts as connected with >= k peers (default min(nodes-1, 6))")
	fs.DurationVar(&c.idle, "idle", 5*time.Second, "idle time before the daemons' RSS is read")
	fs.BoolVar(&c.skipProcess, "skip-process", false, "skip the process testnet; run only the in-process comparison")
	fs.BoolVar(&c.netns, "netns", false, "also run the process testnet with every daemon in its own network namespace (root, Linux; figures beside loopback)")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON")
	fs.BoolVar(&c.verbose, "v", false, "verbose progress (testnet output, failed operations)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the in-process comparison to this file, samples labelled cluster=tonmesh or cluster=bare (`go tool pprof -tagfocus cluster=tonmesh`)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scripts/bench-network [flags]\n\n"+
			"Benchmarks a loopback tonmesh network: a testnet of daemon processes, and\n"+
			"tonmesh p2p networks beside bare go-libp2p hosts in one process.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	case c.nodes < 2 || c.nodes > 100:
		return c, fmt.Errorf("--nodes %d: use 2 to 100", c.nodes)
	case c.gets < 1 || c.msgs < 1:
		return c, fmt.Errorf("--gets %d --msgs %d: use at least 1 of each", c.gets, c.msgs)
	case c.minPeers < 0 || c.minPeers > c.nodes-1:
		return c, fmt.Errorf("--min-peers %d: use 1 to %d (nodes-1)", c.minPeers, c.nodes-1)
	case c.idle < 0:
		return c, fmt.Errorf("--idle %s: must not be negative", c.idle)
	}
	if c.minPeers == 0 {
		c.minPeers = min(c.nodes-1, 6)
	}
	return c, nil
}

// run measures both parts; a part that fails is recorded in Failures and
// the other part still runs (unless interrupted).
func run(ctx context.Context, c benchConfig, p *benchutil.Progress) *Result {
	start := time.Now()
	res := &Result{Machine: benchutil.ThisMachine()}
	if !c.skipProcess || c.netns {
		// One binary for both process testnets.
		bin, cleanup, err := buildTemp(ctx, p)
		if err != nil {
			res.Failures = append(res.Failures, err.Error())
		} else {
			defer cleanup()
			if !c.skipProcess {
				pr, err := runProcess(ctx, c, bin, p)
				if err != nil {
					res.Failures = append(res.Failures, err.Error())
				}
				res.Process = pr
			}
			if c.netns && ctx.Err() == nil {
				nr, err := runNetnsProcess(ctx, c, bin, p)
				if err != nil {
					res.Failures = append(res.Failures, err.Error())
				}
				res.Netns = nr
			}
		}
	}
	if ctx.Err() == nil {
		cr, err := runCompare(ctx, c, p)
		if err != nil {
			res.Failures = append(res.Failures, "in-process: "+err.Error())
		}
		res.Compare = cr
	} else {
		res.Failures = append(res.Failures, "interrupted")
	}
	res.TookS = benchutil.Seconds(time.Since(start))
	return res
}

// buildTemp builds the tonmesh binary into a new temporary directory;
// cleanup removes it.
func buildTemp(ctx context.Context, p *benchutil.Progress) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "tonmesh-benchnet-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	bin = filepath.Join(dir, "tonmesh")
	p.Printf("building %s", bin)
	bctx, cancel := context.WithTimeout(ctx, processTimeout)
	defer cancel()
	if err := buildBinary(bctx, bin); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("process testnet: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
