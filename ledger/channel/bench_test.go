package channel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/tonmesh/tonmesh/ledger"
)

// Run together so the figures come from one run on one machine:
//
//	go test -run '^$' -bench . ./ledger/channel/
//
// AcceptVoucher* report vouchers/s (signature check + durable write, the
// acknowledgement point); Ed25519Verify and LedgerBatchedWrites report the
// two raw costs it is made of.

func benchPayee(b *testing.B, channels int) (*Payee, ed25519.PrivateKey, []Params) {
	b.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	store, payee := openPayee(b, b.TempDir())
	b.Cleanup(func() { store.Close() })
	ps := make([]Params, channels)
	for i := range ps {
		ps[i] = testParams(b, key, uint64(i))
		if _, err := payee.Track(context.Background(), ps[i], big.NewInt(1<<62)); err != nil {
			b.Fatal(err)
		}
	}
	return payee, key, ps
}

func signRun(b *testing.B, key ed25519.PrivateKey, p Params, n int) []*SignedVoucher {
	b.Helper()
	ch, _ := p.Address()
	out := make([]*SignedVoucher, n)
	for i := range out {
		sv, err := Voucher{GlobalID: p.GlobalID, Channel: ch, Cumulative: big.NewInt(int64(i+1) * 1000)}.Sign(key)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = sv
	}
	return out
}

// One channel, one voucher at a time: every acknowledgement waits for its
// own fsync.
func BenchmarkAcceptVoucherSequential(b *testing.B) {
	payee, key, ps := benchPayee(b, 1)
	vs := signRun(b, key, ps[0], b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := payee.Accept(ctx, vs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "vouchers/s")
}

// 32 channels accepting at once: their writes share fsyncs (group commit).
func BenchmarkAcceptVoucherParallel32(b *testing.B) {
	const g = 32
	payee, key, ps := benchPayee(b, g)
	per := b.N/g + 1
	runs := make([][]*SignedVoucher, g)
	for i := range runs {
		runs[i] = signRun(b, key, ps[i], per)
	}
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, sv := range runs[i] {
				if _, err := payee.Accept(ctx, sv); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(g*per)/b.Elapsed().Seconds(), "vouchers/s")
}

func BenchmarkEd25519Verify(b *testing.B) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, SigningSize)
	sig := ed25519.Sign(key, msg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// Durable writes of voucher-sized values, 1,000 per batch (one fsync).
func BenchmarkLedgerBatchedWrites(b *testing.B) {
	for _, size := range []int{1, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			store, err := ledger.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			space, err := store.Space("bench")
			if err != nil {
				b.Fatal(err)
			}
			val := make([]byte, WireSize)
			b.ResetTimer()
			for done := 0; done < b.N; {
				batch := space.NewBatch()
				for j := 0; j < size && done < b.N; j++ {
					k := binary.BigEndian.AppendUint64(nil, uint64(done))
					batch.Set(k, val)
					done++
				}
				if err := batch.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}
