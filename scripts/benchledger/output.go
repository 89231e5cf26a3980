package main

import (
	"fmt"
	"io"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// printTable writes the human-readable report.
func printTable(out io.Writer, r *Result) {
	m := r.Machine
	fs := ""
	if m.Filesystem != "" {
		fs = " (" + m.Filesystem + ")"
	}
	fmt.Fprintf(out, "tonmesh ledger benchmark: %d CPUs, %s, %s/%s; stores under %s%s; %.1f s per figure; took %.0f s\n",
		m.CPUs, m.GoVersion, m.GOOS, m.GOARCH, m.StoreDir, fs, r.Config.DurationS, r.TookS)
	if r.Accept != nil && r.Raw != nil {
		printThroughput(out, r)
	}
	if s := r.Send; s != nil {
		fmt.Fprintf(out, "\nWallet send -> confirmed on the emulated chain (%s wallet, %d sends of %s TON, from the Send call until it returns)\n",
			s.Wallet, s.N, s.AmountTON)
		row := func(name, value string) { fmt.Fprintf(out, "  %-60s %10s\n", name, value) }
		row("p50", fmt.Sprintf("%.2f ms", s.P50MS))
		row("p99", fmt.Sprintf("%.2f ms", s.P99MS))
		row("mean", fmt.Sprintf("%.2f ms", s.MeanMS))
		row("max", fmt.Sprintf("%.2f ms", s.MaxMS))
		row("first send, which also deploys the wallet (not in the above)", fmt.Sprintf("%.2f ms", s.DeployMS))
	}
	if t := r.TonAPI; t != nil {
		printTonAPI(out, t)
	}
	benchutil.PrintFailures(out, r.Failures)
}

func printTonAPI(out io.Writer, t *TonAPIResult) {
	fmt.Fprintf(out, "\ntoncenter v2 API (HTTP jsonRPC on a node that reaches the chain host over libp2p) vs tonmesh's own chain protocol, same run\n")
	row := func(name, a, b string) { fmt.Fprintf(out, "  %-44s %16s %16s\n", name, a, b) }
	row("", "toncenter", "own protocol")
	ms := func(x float64) string { return fmt.Sprintf("%.2f ms", x) }
	row(fmt.Sprintf("send -> confirmed p50 (%d v5r1 transfers)", t.SendBoc.N), ms(t.SendBoc.P50MS), ms(t.SendOwn.P50MS))
	row("send -> confirmed p99", ms(t.SendBoc.P99MS), ms(t.SendOwn.P99MS))
	row("runGetMethod seqno, one caller", thousands(t.GetMethod.PerS)+" /s", thousands(t.GetMethodOwn.PerS)+" /s")
	fmt.Fprintf(out, "  %-44s %16.2f\n", "ratio sendBoc p50 / own p50", t.SendP50Ratio)
	fmt.Fprintf(out, "  %-44s %16.2f\n", "ratio runGetMethod calls/s / own", t.GetMethodsRatio)
}

func printThroughput(out io.Writer, r *Result) {
	a, raw, q := r.Accept, r.Raw, r.Ratios
	row := func(name string, x Rate, unit string) {
		fmt.Fprintf(out, "  %-60s %10s %s\n", name, thousands(x.PerS), unit)
	}
	fmt.Fprintln(out, "\nVouchers accepted (signature verified, stored durably, then acknowledged)")
	row("sequential, one channel", a.Sequential, "vouchers/s")
	row(fmt.Sprintf("concurrent, %d channels", r.Config.Channels), a.Concurrent, "vouchers/s")
	fmt.Fprintln(out, "\nRaw costs, same run")
	row("Ed25519 verify (57-byte voucher message), 1 goroutine", raw.Ed25519Verify, "verifies/s")
	row(fmt.Sprintf("Ed25519 verify, %d goroutines", r.Machine.CPUs), raw.Ed25519VerifyParallel, "verifies/s")
	row("Pebble durable writes, batches of 1 (one fsync each)", raw.WritesBatch1, "writes/s")
	row("Pebble durable writes, batches of 1000 (one fsync per batch)", raw.WritesBatch1000, "writes/s")
	row(fmt.Sprintf("Pebble durable writes, batches of 1, %d writers", r.Config.Channels), raw.WritesBatch1Parallel, "writes/s")
	fmt.Fprintln(out, "\nRatios")
	ratioRow := func(name string, x float64) { fmt.Fprintf(out, "  %-60s %10.2f\n", name, x) }
	ratioRow("sequential accept / durable write (batch of 1)", q.SequentialVsWrite)
	ratioRow("sequential accept / Ed25519 verify (1 goroutine)", q.SequentialVsVerify)
	ratioRow(fmt.Sprintf("concurrent accept / Ed25519 verify (%d goroutines)", r.Machine.CPUs), q.ConcurrentVsVerify)
	ratioRow(fmt.Sprintf("concurrent accept / durable write (batch of 1, %d writers)", r.Config.Channels), q.ConcurrentVsWrite)
}

// thousands formats x rounded to an integer with comma separators.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
