package main

import (
	"fmt"
	"io"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// printTable writes the human-readable report.
func printTable(out io.Writer, r *Result) {
	m, raw := r.Machine, r.Raw
	fmt.Fprintf(out, "tonmesh vault benchmark: %d in-process nodes on 127.0.0.1 (owner + %d holders), k=%d n=%d; %d CPUs, %s, %s/%s; took %.0f s\n",
		r.Config.Nodes, r.Config.N, r.Config.K, r.Config.N, m.CPUs, m.GoVersion, m.GOOS, m.GOARCH, r.TookS)
	fmt.Fprintln(out, "MB = 10^6 bytes of the element; operations one after another")
	if len(r.Sizes) > 0 {
		fmt.Fprintf(out, "\n  %-8s %-6s %5s %10s %10s %10s %14s %14s %7s %12s\n", "size", "op", "n", "MB/s", "p50 ms", "p99 ms", "/ raw stream", "/ raw crypto", "cores", "alloc MiB")
		for _, s := range r.Sizes {
			row := func(op string, o Op, vsStream, vsCrypto float64) {
				alloc := "-"
				if o.AllocMiB > 0 {
					alloc = fmt.Sprintf("%.3g", o.AllocMiB)
				}
				fmt.Fprintf(out, "  %-8s %-6s %5d %10.3g %10.2f %10.2f %14.3g %14.3g %7.2f %12s\n", s.Label, op, o.Latency.N, o.MBps, o.Latency.P50MS, o.Latency.P99MS, vsStream, vsCrypto, o.Cores, alloc)
			}
			row("put", s.Put, s.Ratios.PutVsStream, s.Ratios.PutVsCrypto)
			row("get", s.Get, s.Ratios.GetVsStream, s.Ratios.GetVsCrypto)
			row("stream", s.Stream, ratio(s.Stream.MBps, raw.StreamAllMBps), ratio(s.Stream.MBps, raw.RebuildOpenMBp))
			row("upload", s.Upload, ratio(s.Upload.MBps, raw.StreamAllMBps), ratio(s.Upload.MBps, raw.SealSplitMBps))
		}
	}
	fmt.Fprintln(out, "\nRaw limits, same run, same nodes")
	line := func(name string, v float64) { fmt.Fprintf(out, "  %-64s %10.1f MB/s\n", name, v) }
	line(fmt.Sprintf("libp2p stream owner -> 1 holder (%d MiB)", raw.StreamBytes>>20), raw.StreamOneMBps)
	line(fmt.Sprintf("libp2p streams owner -> %d holders at once (%d MiB in all)", r.Config.N, raw.StreamBytes>>20), raw.StreamAllMBps)
	line(fmt.Sprintf("disk: %d files × %s written + fsynced at once", r.Config.N, label(raw.DurableBytes)), raw.DurableMBps)
	line(fmt.Sprintf("AES-256-GCM seal + Reed-Solomon %d+%d encode (%s)", r.Config.K, r.Config.N-r.Config.K, label(raw.CryptoBytes)), raw.SealSplitMBps)
	line(fmt.Sprintf("Reed-Solomon reconstruct + AES-256-GCM open (%s)", label(raw.CryptoBytes)), raw.RebuildOpenMBp)
	for _, s := range r.Sizes {
		if s.Ratios.PutVsDisk > 0 {
			fmt.Fprintf(out, "  put / disk, %-51s %10.3g\n", s.Label, s.Ratios.PutVsDisk)
		}
	}
	fmt.Fprintf(out, "\nA put sends n/k = %.2f bytes per element byte to the holders and waits for their durable receipts,\nthen writes the manifest (fsync) and publishes it to the DHT. A get asks k holders (the others only when needed)\nand decodes the element whole in memory; a stream writes it out stripe by stripe as the chunks arrive.\nAn upload is a put of the element's binary encoding over the local API (PUT …/content), stored as it arrives.\ncores: CPU time of the whole process (owner and holders) over the operations' time, of the %d this machine has.\nalloc MiB: heap allocated per operation by the whole process (owner and holders; an upload's client too).\n",
		float64(r.Config.N)/float64(max(r.Config.K, 1)), m.CPUs)
	benchutil.PrintFailures(out, r.Failures)
}
