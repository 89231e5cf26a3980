package benchutil

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a set of durations, in milliseconds.
type Latency struct {
	N      int     `json:"n"`      // measured operations
	Failed int     `json:"failed"` // operations that produced no duration
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	MeanMS float64 `json:"mean_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// Summarize returns the nearest-rank p50 and p99, the mean and the maximum
// of ds, which it does not modify; failed is carried into the result as
// is. With no durations every figure is 0.
func Summarize(ds []time.Duration, failed int) Latency {
	l := Latency{N: len(ds), Failed: failed}
	if len(ds) == 0 {
		return l
	}
	s := slices.Sorted(slices.Values(ds))
	total := Total(s)
	l.P50MS = Millis(Percentile(s, 50))
	l.P99MS = Millis(Percentile(s, 99))
	l.MeanMS = Millis(total / time.Duration(len(s)))
	l.MaxMS = Millis(s[len(s)-1])
	return l
}

// Total is the sum of ds.
func Total(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

// Percentile is the nearest-rank p-th percentile of sorted: the smallest
// value with at least p% of the values at or below it. p is clamped to
// 1..100; an empty slice gives 0.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	p = min(max(p, 1), 100)
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n), 1..n
	return sorted[rank-1]
}

// Millis is d in milliseconds, rounded to the microsecond.
func Millis(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// Seconds is d in seconds, rounded to the millisecond.
func Seconds(d time.Duration) float64 { return round3(d.Seconds()) }

// Ratio is a/b rounded to three decimals, or 0 when b is 0.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round3(a / b)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
