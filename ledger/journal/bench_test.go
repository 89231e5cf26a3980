package journal

import (
	"context"
	"fmt"
	"math/big"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend compares one appending goroutine with 64 concurrent ones
// (group commit: one fsync per round) and, in the same run, raw single
// fsync'd Pebble writes. Read appends/s from the "appends/s" column.
func BenchmarkAppend(b *testing.B) {
	b.Run("raw-pebble-sync-write", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		defer s.Close()
		sp, err := s.Space("bench")
		if err != nil {
			b.Fatal(err)
		}
		val := make([]byte, 160)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := sp.Set([]byte(strconv.Itoa(i)), val); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	})
	for _, goroutines := range []int{1, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", goroutines), func(b *testing.B) {
			j := newJournal(b)
			ctx := context.Background()
			var n atomic.Int64
			b.ResetTimer()
			if goroutines == 1 {
				for i := 0; i < b.N; i++ {
					benchAppend(b, ctx, j, n.Add(1))
				}
			} else {
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((goroutines + procs - 1) / procs) // × GOMAXPROCS goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						benchAppend(b, ctx, j, n.Add(1))
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

func benchAppend(b *testing.B, ctx context.Context, j *Journal, i int64) {
	_, err := j.Append(ctx, Entry{
		Kind: KindChannelVoucher, Key: "v" + strconv.FormatInt(i, 10),
		Amount: big.NewInt(i), Counterparty: "UQbench", Payload: []byte(`{"job":"bench"}`),
	})
	if err != nil {
		b.Error(err)
	}
}
