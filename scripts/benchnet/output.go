package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// printTable writes the human-readable report.
func printTable(out io.Writer, c benchConfig, r *Result) {
	m := r.Machine
	fmt.Fprintf(out, "tonmesh network benchmark: %d nodes on 127.0.0.1 (%d CPUs, %s, %s/%s), took %.0f s\n",
		c.nodes, m.CPUs, m.GoVersion, m.GOOS, m.GOARCH, r.TookS)
	switch {
	case r.Process != nil && r.Netns != nil:
		printProcessBeside(out, r.Process, r.Netns)
	case r.Process != nil:
		printProcess(out, r.Process)
	case r.Netns != nil:
		fmt.Fprintf(out, "\n(network namespaces)")
		printProcess(out, r.Netns)
	}
	if cr := r.Compare; cr != nil {
		printCompare(out, c, cr)
	}
	benchutil.PrintFailures(out, r.Failures)
}

func printProcess(out io.Writer, p *ProcessResult) {
	fmt.Fprintf(out, "\nProcess testnet: %d `tonmesh daemon` processes (times from the first process start; poll every %d ms)\n", p.Nodes, p.PollIntervalMS)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  testnet ready (every node >= 2 DHT peers)\t%.2f s\n", p.TestnetReadyS)
	fmt.Fprintf(w, "  all nodes connected to >= %d peers\t%.2f s\n", p.MinPeers, p.AllConnectedS)
	fmt.Fprintf(w, "  node start-to-ready (process start -> /healthz dht_peers >= 1)\tp50 %.2f s\tmax %.2f s\n", p.StartToReadyP50S, p.StartToReadyMaxS)
	fmt.Fprintf(w, "  idle RSS per node (after %.0f s idle)\tp50 %.1f MiB\tmax %.1f MiB\tmean %.1f MiB\n", p.IdleS, p.IdleRSSP50MiB, p.IdleRSSMaxMiB, p.IdleRSSMeanMiB)
	fmt.Fprintf(w, "  connected peers per node at idle\tmin %d\tmean %.1f\n", p.IdlePeersMin, p.IdlePeersMean)
	w.Flush()
}

func printCompare(out io.Writer, c benchConfig, r *CompareResult) {
	fmt.Fprintf(out, "\nIn-process: %d tonmesh p2p.Networks vs %d bare go-libp2p hosts (kad-dht + gossipsub defaults), one process, measured interleaved\n", r.Nodes, r.Nodes)
	const rowFmt = "  %-34s %12s %12s %13s\n"
	fmt.Fprintf(out, rowFmt, "", "tonmesh", "bare libp2p", "tonmesh/bare")
	row := func(name string, tm, bare float64, unit string) {
		fmt.Fprintf(out, rowFmt, name, fmt.Sprintf("%.2f %s", tm, unit), fmt.Sprintf("%.2f %s", bare, unit), fmt.Sprintf("%.2fx", benchutil.Ratio(tm, bare)))
	}
	row("DHT get p50", r.DHTGet.Tonmesh.P50MS, r.DHTGet.Bare.P50MS, "ms")
	row("DHT get p99", r.DHTGet.Tonmesh.P99MS, r.DHTGet.Bare.P99MS, "ms")
	row("gossip 1 KiB to all p50", r.Gossip.Tonmesh.P50MS, r.Gossip.Bare.P50MS, "ms")
	row("gossip 1 KiB to all p99", r.Gossip.Tonmesh.P99MS, r.Gossip.Bare.P99MS, "ms")
	row("DHT put p50 (extra)", r.DHTPut.Tonmesh.P50MS, r.DHTPut.Bare.P50MS, "ms")
	row("DHT put p99 (extra)", r.DHTPut.Tonmesh.P99MS, r.DHTPut.Bare.P99MS, "ms")
	row("start -> DHT bootstrapped (extra)", r.TonmeshBootstrapS, r.BareBootstrapS, "s")
	fmt.Fprintf(out, "  samples: %d gets of %d-byte values (failed: tonmesh %d, bare %d); %d messages (not delivered to all within %s: tonmesh %d, bare %d)\n",
		c.gets, r.DHTValueBytes, r.DHTGet.Tonmesh.Failed, r.DHTGet.Bare.Failed, c.msgs, deliveryTimeout, r.Gossip.Tonmesh.Failed, r.Gossip.Bare.Failed)
}

// printProcessBeside prints the loopback and namespace testnets' figures in
// two columns.
func printProcessBeside(out io.Writer, lo, ns *ProcessResult) {
	fmt.Fprintf(out, "\nProcess testnet: %d `tonmesh daemon` processes on 127.0.0.1 and %d in network namespaces (own IP each, one bridge); times from the first process start, poll every %d ms\n", lo.Nodes, ns.Nodes, lo.PollIntervalMS)
	const rowFmt = "  %-44s %12s %12s %15s\n"
	fmt.Fprintf(out, rowFmt, "", "loopback", "namespaces", "netns/loopback")
	row := func(name string, a, b float64, unit string) {
		fmt.Fprintf(out, rowFmt, name, fmt.Sprintf("%.2f %s", a, unit), fmt.Sprintf("%.2f %s", b, unit), fmt.Sprintf("%.2fx", benchutil.Ratio(b, a)))
	}
	row("testnet ready (every node >= 2 DHT peers)", lo.TestnetReadyS, ns.TestnetReadyS, "s")
	row(fmt.Sprintf("all nodes connected to >= %d peers", lo.MinPeers), lo.AllConnectedS, ns.AllConnectedS, "s")
	row("node start-to-ready p50", lo.StartToReadyP50S, ns.StartToReadyP50S, "s")
	row("node start-to-ready max", lo.StartToReadyMaxS, ns.StartToReadyMaxS, "s")
	row("idle RSS per node p50", lo.IdleRSSP50MiB, ns.IdleRSSP50MiB, "MiB")
	row("idle RSS per node max", lo.IdleRSSMaxMiB, ns.IdleRSSMaxMiB, "MiB")
	row("connected peers per node at idle (mean)", lo.IdlePeersMean, ns.IdlePeersMean, "")
	fmt.Fprintf(out, "  the loopback testnet's ready time includes funding every node from the faucet and waiting for the compute offer; the namespace one does neither\n")
}
