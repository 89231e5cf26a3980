package benchutil

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"
)

// ms1to is 1, 2, ..., n milliseconds.
func ms1to(n int) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = time.Duration(i+1) * time.Millisecond
	}
	return s
}

func TestPercentileNearestRank(t *testing.T) {
	for _, c := range []struct {
		name string
		s    []time.Duration
		p    int
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"1 value p1", ms1to(1), 1, time.Millisecond},
		{"1 value p50", ms1to(1), 50, time.Millisecond},
		{"1 value p99", ms1to(1), 99, time.Millisecond},
		{"2 values p1", ms1to(2), 1, time.Millisecond},
		{"2 values p50", ms1to(2), 50, time.Millisecond},
		{"2 values p51", ms1to(2), 51, 2 * time.Millisecond},
		{"2 values p99", ms1to(2), 99, 2 * time.Millisecond},
		{"100 values p1", ms1to(100), 1, time.Millisecond},
		{"100 values p50", ms1to(100), 50, 50 * time.Millisecond},
		{"100 values p99", ms1to(100), 99, 99 * time.Millisecond},
		{"100 values p100", ms1to(100), 100, 100 * time.Millisecond},
		{"200 values p1", ms1to(200), 1, 2 * time.Millisecond},
		{"200 values p99", ms1to(200), 99, 198 * time.Millisecond},
		{"101 values p50", ms1to(101), 50, 51 * time.Millisecond},
		{"p0 clamps to p1", ms1to(100), 0, time.Millisecond},
		{"p150 clamps to p100", ms1to(100), 150, 100 * time.Millisecond},
	} {
		if got := Percentile(c.s, c.p); got != c.want {
			t.Errorf("%s: Percentile = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	in := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	orig := slices.Clone(in)
	got := Summarize(in, 4)
	want := Latency{N: 3, Failed: 4, P50MS: 2, P99MS: 3, MeanMS: 2, MaxMS: 3}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if !slices.Equal(in, orig) {
		t.Errorf("Summarize reordered its input: %v", in)
	}

	if got := Summarize(ms1to(1), 0); got != (Latency{N: 1, P50MS: 1, P99MS: 1, MeanMS: 1, MaxMS: 1}) {
		t.Errorf("one value: %+v", got)
	}
	if got := Summarize(ms1to(2), 0); got != (Latency{N: 2, P50MS: 1, P99MS: 2, MeanMS: 1.5, MaxMS: 2}) {
		t.Errorf("two values: %+v", got)
	}
	if got := Summarize(ms1to(100), 1); got != (Latency{N: 100, Failed: 1, P50MS: 50, P99MS: 99, MeanMS: 50.5, MaxMS: 100}) {
		t.Errorf("1..100 ms: %+v", got)
	}
	if got := Summarize(nil, 7); got != (Latency{Failed: 7}) {
		t.Errorf("no values: %+v, want only Failed", got)
	}
}

func TestUnits(t *testing.T) {
	for d, want := range map[time.Duration]float64{
		0: 0, 1500 * time.Microsecond: 1.5, 1234567 * time.Nanosecond: 1.235, 1234499 * time.Nanosecond: 1.234, 2 * time.Second: 2000,
	} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %v, want %v", d, got, want)
		}
	}
	for d, want := range map[time.Duration]float64{
		0: 0, 1500 * time.Millisecond: 1.5, 1234567 * time.Microsecond: 1.235, 90 * time.Second: 90,
	} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %v, want %v", d, got, want)
		}
	}
}

func TestRatio(t *testing.T) {
	for _, c := range []struct{ a, b, want float64 }{
		{3, 2, 1.5}, {1, 3, 0.333}, {2, 3, 0.667}, {0, 5, 0},
		{1, 0, 0}, {0, 0, 0}, {-1, 0, 0}, {math.Inf(1), 0, 0},
	} {
		if got := Ratio(c.a, c.b); got != c.want {
			t.Errorf("Ratio(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestLatencyJSON pins the field names both benchmarks print.
func TestLatencyJSON(t *testing.T) {
	b, err := json.Marshal(Latency{N: 2, Failed: 1, P50MS: 1.5, P99MS: 2, MeanMS: 1.75, MaxMS: 2})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"n":2,"failed":1,"p50_ms":1.5,"p99_ms":2,"mean_ms":1.75,"max_ms":2}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}
