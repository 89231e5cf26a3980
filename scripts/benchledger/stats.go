package main

import (
	"math"
	"slices"
	"time"
)

// Rate is a throughput figure: Ops operations in Seconds.
type Rate struct {
	Ops     int64   `json:"ops"`
	Seconds float64 `json:"seconds"`
	PerS    float64 `json:"per_s"`
}

func rateOf(ops int64, d time.Duration) Rate {
	r := Rate{Ops: ops, Seconds: round3(d.Seconds())}
	if d > 0 {
		r.PerS = math.Round(float64(ops) / d.Seconds())
	}
	return r
}

// Latency summarises durations, in milliseconds.
type Latency struct {
	N      int     `json:"n"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	MeanMS float64 `json:"mean_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// summarize returns nearest-rank percentiles, the mean and the maximum of ds.
func summarize(ds []time.Duration) Latency {
	l := Latency{N: len(ds)}
	if len(ds) == 0 {
		return l
	}
	s := slices.Sorted(slices.Values(ds))
	var total time.Duration
	for _, d := range s {
		total += d
	}
	l.P50MS = millis(nearestRank(s, 50))
	l.P99MS = millis(nearestRank(s, 99))
	l.MeanMS = millis(total / time.Duration(len(s)))
	l.MaxMS = millis(s[len(s)-1])
	return l
}

// nearestRank is the p-th percentile (1..100) of sorted, non-empty s: the
// smallest value with at least p% of the values at or below it.
func nearestRank(s []time.Duration, p int) time.Duration {
	i := int(math.Ceil(float64(p)*float64(len(s))/100)) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func millis(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// ratio is a/b to three decimals, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round3(a / b)
}
