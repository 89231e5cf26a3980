package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/node"
	"github.com/tonmesh/tonmesh/testnet"
)

// Bounds of the process benchmark.
const (
	processTimeout   = 4 * time.Minute  // whole part, build included
	nodesTimeout     = 90 * time.Second // first daemon start → every node ready and connected
	healthTimeout    = 2 * time.Second  // one /healthz call
	pollInterval     = 50 * time.Millisecond
	testnetStopGrace = 45 * time.Second // testnet.Run gives each daemon 20 s
)

// ProcessResult holds the figures of the process testnet. Times count from
// the start of the first daemon process.
type ProcessResult struct {
	Nodes            int     `json:"nodes"`
	MinPeers         int     `json:"min_peers"`            // k in "connected to >= k peers"
	TestnetReadyS    float64 `json:"testnet_ready_s"`      // testnet.Run declared ready (every node >= 2 DHT peers)
	AllConnectedS    float64 `json:"all_connected_s"`      // every node connected to >= k peers
	StartToReadyP50S float64 `json:"start_to_ready_p50_s"` // process start → own /healthz dht_peers >= 1
	StartToReadyMaxS float64 `json:"start_to_ready_max_s"`
	IdleS            float64 `json:"idle_s"` // idle time before RSS was read
	IdleRSSP50MiB    float64 `json:"idle_rss_p50_mib"`
	IdleRSSMaxMiB    float64 `json:"idle_rss_max_mib"`
	IdleRSSMeanMiB   float64 `json:"idle_rss_mean_mib"`
	IdlePeersMin     int     `json:"idle_peers_min"` // connected peers per node at the RSS reading
	IdlePeersMean    float64 `json:"idle_peers_mean"`
	PollIntervalMS   int     `json:"poll_interval_ms"` // resolution of the ready/connected times
}

// nodeTiming is what the poller of one daemon saw.
type nodeTiming struct {
	proc      daemonProc
	ready     time.Time // /healthz first showed dht_peers >= 1
	connected time.Time // /healthz first showed peers >= k
}

// runProcess runs an N-node testnet of daemon processes of bin, measures
// it and stops it.
func runProcess(ctx context.Context, c benchConfig, bin string, p *benchutil.Progress) (*ProcessResult, error) {
	ctx, cancel := context.WithTimeout(ctx, processTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "tonmesh-benchnet-")
	if err != nil {
		return nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)

	netDir := filepath.Join(dir, "net")
	runCtx, stop := context.WithCancel(ctx)
	var runErr error
	runDone := make(chan struct{})
	readyAt := make(chan time.Time, 1)
	var tnOut io.Writer = io.Discard
	if c.verbose {
		tnOut = os.Stderr
	}
	p.Printf("process testnet: starting %d daemons in %s", c.nodes, netDir)
	go func() {
		defer close(runDone)
		runErr = testnet.Run(runCtx, testnet.Options{
			Dir: netDir, Nodes: c.nodes, Binary: bin, Out: tnOut, Ready: nodesTimeout,
			OnReady: func(*testnet.Manifest) { readyAt <- time.Now() },
		})
	}()
	defer func() {
		stop()
		p.Printf("process testnet: stopping the daemons")
		select {
		case <-runDone:
			if runErr != nil && !errors.Is(runErr, context.Canceled) {
				p.Printf("process testnet: stop: %v", runErr)
			}
		case <-time.After(testnetStopGrace):
			p.Printf("process testnet: daemons did not stop within %s; they get SIGTERM when this process exits", testnetStopGrace)
		}
	}()

	timings, err := watchNodes(runCtx, c, netDir, runDone, &runErr, p)
	if err != nil {
		return nil, err
	}
	var ready time.Time
	select {
	case ready = <-readyAt:
	case <-runDone:
		return nil, fmt.Errorf("process testnet: testnet stopped before it was ready: %w", runErr)
	case <-time.After(nodesTimeout):
		return nil, errors.New("process testnet: every node is connected but testnet.Run never reported ready; see the daemon logs")
	}
	res := timingFigures(c, timings, ready)

	p.Printf("process testnet: idle %s before reading RSS", c.idle)
	select {
	case <-time.After(c.idle):
	case <-runDone:
		return nil, fmt.Errorf("process testnet: the testnet stopped while idle: %v", runErr)
	case <-ctx.Done():
		return nil, fmt.Errorf("process testnet: %w", ctx.Err())
	}
	if err := idleFigures(ctx, res, timings); err != nil {
		return nil, err
	}
	res.IdleS = benchutil.Seconds(c.idle)
	return res, nil
}

// buildBinary compiles ./cmd/tonmesh into bin; the working directory must be
// the repository root (scripts/bench-network changes to it).
func buildBinary(ctx context.Context, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tonmesh")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build the tonmesh binary (run from the repository root, as scripts/bench-network does): %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// watchNodes finds every daemon under netDir as it starts and polls its
// /healthz until it has a DHT peer and at least k connected peers.
func watchNodes(ctx context.Context, c benchConfig, netDir string, runDone <-chan struct{}, runErr *error, p *benchutil.Progress) ([]nodeTiming, error) {
	ctx, cancel := context.WithTimeout(ctx, nodesTimeout)
	defer cancel()
	var (
		timings []nodeTiming
		polls   sync.WaitGroup
		seen    = make(map[int]bool) // pid
		results = make(chan nodeTiming, c.nodes)
	)
	defer polls.Wait() // cancel (above) ends the pollers
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	last := ""
	for {
		if len(seen) < c.nodes {
			procs, err := scanDaemons(netDir)
			if err != nil {
				return nil, err
			}
			for _, d := range procs {
				if seen[d.pid] {
					continue
				}
				seen[d.pid] = true
				polls.Go(func() {
					if t, ok := pollNode(ctx, d, c.minPeers); ok {
						select {
						case results <- t:
						case <-ctx.Done():
						}
					}
				})
			}
		}
	drain:
		for {
			select {
			case t := <-results:
				timings = append(timings, t)
			default:
				break drain
			}
		}
		if len(timings) == c.nodes {
			return timings, nil
		}
		if s := fmt.Sprintf("process testnet: %d/%d daemons running, %d/%d ready and connected to >= %d peers", len(seen), c.nodes, len(timings), c.nodes, c.minPeers); s != last {
			p.Printf("%s", s)
			last = s
		}
		select {
		case <-tick.C:
		case <-runDone:
			return nil, fmt.Errorf("process testnet: the testnet stopped early: %w", *runErr)
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("process testnet: %w", ctx.Err())
			}
			return nil, fmt.Errorf("process testnet: after %s only %d/%d nodes had a DHT peer and >= %d connected peers (%d daemons found); lower --min-peers or see the daemon logs: %w",
				nodesTimeout, len(timings), c.nodes, c.minPeers, len(seen), ctx.Err())
		}
	}
}

// pollNode polls one daemon's /healthz until it is ready and connected.
func pollNode(ctx context.Context, d daemonProc, k int) (nodeTiming, bool) {
	t := nodeTiming{proc: d}
	var client *node.Client
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if client == nil {
			client, _ = node.ClientForHome(node.Home(d.home)) // nil until the API is up
		}
		if client != nil {
			hctx, cancel := context.WithTimeout(ctx, healthTimeout)
			h, err := client.Health(hctx)
			cancel()
			now := time.Now()
			if err == nil {
				if t.ready.IsZero() && h.DHTPeers >= 1 {
					t.ready = now
				}
				if t.connected.IsZero() && h.Peers >= k {
					t.connected = now
				}
				if !t.ready.IsZero() && !t.connected.IsZero() {
					return t, true
				}
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return t, false
		}
	}
}

// timingFigures computes the start-up figures; times count from the first
// daemon's start.
func timingFigures(c benchConfig, ts []nodeTiming, testnetReady time.Time) *ProcessResult {
	t0 := ts[0].proc.started
	var allConnected time.Time
	startToReady := make([]time.Duration, 0, len(ts))
	for _, t := range ts {
		if t.proc.started.Before(t0) {
			t0 = t.proc.started
		}
		if t.connected.After(allConnected) {
			allConnected = t.connected
		}
		startToReady = append(startToReady, t.ready.Sub(t.proc.started))
	}
	slices.Sort(startToReady)
	return &ProcessResult{
		Nodes:            c.nodes,
		MinPeers:         c.minPeers,
		TestnetReadyS:    benchutil.Seconds(testnetReady.Sub(t0)),
		AllConnectedS:    benchutil.Seconds(allConnected.Sub(t0)),
		StartToReadyP50S: benchutil.Seconds(benchutil.Percentile(startToReady, 50)),
		StartToReadyMaxS: benchutil.Seconds(startToReady[len(startToReady)-1]),
		PollIntervalMS:   int(pollInterval / time.Millisecond),
	}
}

// idleFigures reads every daemon's RSS, then its connected peers.
func idleFigures(ctx context.Context, res *ProcessResult, ts []nodeTiming) error {
	if err := rssFigures(res, ts); err != nil {
		return fmt.Errorf("process testnet: %w", err)
	}
	return peerFigures(ctx, res, ts)
}

// rssFigures reads every daemon's resident memory.
func rssFigures(res *ProcessResult, ts []nodeTiming) error {
	rss := make([]int64, 0, len(ts))
	for _, t := range ts {
		b, err := rssBytes(t.proc.pid)
		if err != nil {
			return fmt.Errorf("%s: %w (did the daemon exit? see its daemon.log)", t.proc.home, err)
		}
		rss = append(rss, b)
	}
	slices.Sort(rss)
	var sum int64
	for _, b := range rss {
		sum += b
	}
	const mib = 1 << 20
	res.IdleRSSP50MiB = float64(rss[(len(rss)-1)/2]) / mib
	res.IdleRSSMaxMiB = float64(rss[len(rss)-1]) / mib
	res.IdleRSSMeanMiB = float64(sum) / float64(len(rss)) / mib
	return nil
}

// peerFigures reads every daemon's connected peers from its /healthz.
func peerFigures(ctx context.Context, res *ProcessResult, ts []nodeTiming) error {
	res.IdlePeersMin = -1
	total := 0
	for _, t := range ts {
		client, err := node.ClientForHome(node.Home(t.proc.home))
		if err != nil {
			return fmt.Errorf("process testnet: %w", err)
		}
		hctx, cancel := context.WithTimeout(ctx, healthTimeout)
		h, err := client.Health(hctx)
		cancel()
		if err != nil {
			return fmt.Errorf("process testnet: read %s health: %w", t.proc.home, err)
		}
		total += h.Peers
		if res.IdlePeersMin < 0 || h.Peers < res.IdlePeersMin {
			res.IdlePeersMin = h.Peers
		}
	}
	res.IdlePeersMean = float64(total) / float64(len(ts))
	return nil
}
