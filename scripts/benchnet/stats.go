package main

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a set of durations, in milliseconds for JSON.
type Latency struct {
	N      int     `json:"n"`
	Failed int     `json:"failed"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
	MeanMS float64 `json:"mean_ms"`
}

// summarize returns the nearest-rank percentiles of ds; failed counts the
// operations that produced no duration.
func summarize(ds []time.Duration, failed int) Latency {
	l := Latency{N: len(ds), Failed: failed}
	if len(ds) == 0 {
		return l
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	l.P50MS = ms(percentile(s, 50))
	l.P99MS = ms(percentile(s, 99))
	l.MaxMS = ms(s[len(s)-1])
	l.MeanMS = ms(sum / time.Duration(len(s)))
	return l
}

// percentile is the nearest-rank p-th percentile of sorted s (non-empty).
func percentile(s []time.Duration, p int) time.Duration {
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// ratio is a/b to three decimals, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}
