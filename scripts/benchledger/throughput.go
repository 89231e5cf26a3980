package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/channel"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/xssnick/tonutils-go/address"
)

// maxPresigned caps the vouchers signed ahead of an acceptance run (memory).
const maxPresigned = 200_000

// voucherStep is the nanoTON between consecutive vouchers of a channel.
const voucherStep = 1_000

// Rate is a throughput figure: Ops operations in Seconds.
type Rate struct {
	Ops     int64   `json:"ops"`
	Seconds float64 `json:"seconds"`
	PerS    float64 `json:"per_s"`
}

func rateOf(ops int64, d time.Duration) Rate {
	r := Rate{Ops: ops, Seconds: benchutil.Seconds(d)}
	if d > 0 {
		r.PerS = math.Round(float64(ops) / d.Seconds())
	}
	return r
}

// tempStore is a ledger.Store in its own temporary directory.
type tempStore struct {
	*ledger.Store
	dir string
}

func openTempStore(base, name string) (*tempStore, error) {
	dir, err := os.MkdirTemp(base, "bench-ledger-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create a temporary store directory under %s (pick another with --dir): %w", base, err)
	}
	s, err := ledger.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &tempStore{Store: s, dir: dir}, nil
}

// close closes the store and removes its directory.
func (s *tempStore) close() error {
	err := s.Store.Close()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// measureVerify counts Ed25519 verifications of a voucher-sized message
// in workers goroutines for d.
func measureVerify(ctx context.Context, workers int, d time.Duration) (Rate, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Rate{}, err
	}
	msg := make([]byte, channel.SigningSize)
	sig := ed25519.Sign(key, msg)
	var ops atomic.Int64
	var bad atomic.Bool
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var n int64
			for time.Now().Before(deadline) && ctx.Err() == nil {
				for range 64 {
					if !ed25519.Verify(pub, msg, sig) {
						bad.Store(true)
						return
					}
				}
				n += 64
			}
			ops.Add(n)
		})
	}
	wg.Wait()
	if bad.Load() {
		return Rate{}, errors.New("a valid Ed25519 signature failed to verify")
	}
	return rateOf(ops.Load(), time.Since(start)), ctx.Err()
}

// measureWrites counts durable writes of voucher-sized records (the key
// and value sizes a payee writes) through ledger.Store for d: writers
// goroutines, each committing batches of batch writes.
func measureWrites(ctx context.Context, base string, writers, batch int, d time.Duration) (Rate, error) {
	s, err := openTempStore(base, "writes")
	if err != nil {
		return Rate{}, err
	}
	defer s.close()
	space, err := s.Space("bench")
	if err != nil {
		return Rate{}, err
	}
	val := make([]byte, channel.WireSize)
	var ops atomic.Int64
	errs := make([]error, writers)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			key := make([]byte, 34) // the size of a payee's voucher key
			key[0] = byte(w)
			for seq := uint64(0); time.Now().Before(deadline) && ctx.Err() == nil; {
				b := space.NewBatch()
				for range batch {
					binary.BigEndian.PutUint64(key[26:], seq)
					seq++
					b.Set(key, val)
				}
				if err := b.Commit(); err != nil {
					errs[w] = err
					return
				}
				ops.Add(int64(batch))
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return Rate{}, err
	}
	return rateOf(ops.Load(), took), ctx.Err()
}

// acceptBench is a payee tracking channels paid by one key.
type acceptBench struct {
	store  *tempStore
	payee  *channel.Payee
	key    ed25519.PrivateKey
	params []channel.Params
}

func newAcceptBench(ctx context.Context, base string, channels int) (*acceptBench, error) {
	s, err := openTempStore(base, "accept")
	if err != nil {
		return nil, err
	}
	ab := &acceptBench{store: s}
	if err := ab.init(ctx, channels); err != nil {
		s.close()
		return nil, err
	}
	return ab, nil
}

func (ab *acceptBench) init(ctx context.Context, channels int) error {
	space, err := ab.store.Space(channel.SpaceName)
	if err != nil {
		return err
	}
	if ab.payee, err = channel.NewPayee(space, emu.DefaultGlobalID); err != nil {
		return err
	}
	if _, ab.key, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return err
	}
	payer, payee := make([]byte, 32), make([]byte, 32)
	payer[0], payee[0] = 1, 2
	deposit := new(big.Int).Lsh(big.NewInt(1), 100)
	for i := range channels {
		p := channel.Params{
			Payer:    address.NewAddress(0, 0, payer),
			Payee:    address.NewAddress(0, 0, payee),
			PayerKey: ab.key.Public().(ed25519.PublicKey),
			GlobalID: emu.DefaultGlobalID,
			ID:       uint64(i),
			Timeout:  time.Hour,
		}
		if _, err := ab.payee.Track(ctx, p, deposit); err != nil {
			return fmt.Errorf("track channel %d: %w", i, err)
		}
		ab.params = append(ab.params, p)
	}
	return nil
}

// sign signs n vouchers of increasing cumulative for each channel, the
// channels in parallel.
func (ab *acceptBench) sign(n int) ([][]*channel.SignedVoucher, error) {
	out := make([][]*channel.SignedVoucher, len(ab.params))
	errs := make([]error, len(ab.params))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range ab.params {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ch, err := p.Address()
			if err != nil {
				errs[i] = err
				return
			}
			vs := make([]*channel.SignedVoucher, n)
			for j := range vs {
				cum := big.NewInt(int64(j+1) * voucherStep)
				if vs[j], err = (channel.Voucher{GlobalID: p.GlobalID, Channel: ch, Cumulative: cum}).Sign(ab.key); err != nil {
					errs[i] = err
					return
				}
			}
			out[i] = vs
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// measureAccept counts vouchers accepted (verified, stored durably,
// acknowledged) for d, with one goroutine per channel, each accepting its
// channel's vouchers in order. bound is an upper limit on the vouchers the
// run can accept (how many are signed beforehand); a run that uses them all
// before d ends is still a valid, shorter sample.
func measureAccept(ctx context.Context, base string, channels int, d time.Duration, bound int64) (Rate, error) {
	ab, err := newAcceptBench(ctx, base, channels)
	if err != nil {
		return Rate{}, err
	}
	defer ab.store.close()
	per := int(min(max(bound, 1000), maxPresigned)) / channels
	runs, err := ab.sign(per)
	if err != nil {
		return Rate{}, fmt.Errorf("sign vouchers: %w", err)
	}
	var ops atomic.Int64
	errs := make([]error, channels)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			var n int64
			for _, sv := range run {
				if !time.Now().Before(deadline) || ctx.Err() != nil {
					break
				}
				if _, err := ab.payee.Accept(ctx, sv); err != nil {
					errs[i] = fmt.Errorf("accept voucher %s of channel %d: %w", sv.Cumulative, i, err)
					break
				}
				n++
			}
			ops.Add(n)
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return Rate{}, err
	}
	if err := ab.checkStored(runs, ops.Load()); err != nil {
		return Rate{}, err
	}
	return rateOf(ops.Load(), took), ctx.Err()
}

// checkStored checks the payee holds, summed over channels, as many
// accepted vouchers as were counted: the figure counts real acceptances.
func (ab *acceptBench) checkStored(runs [][]*channel.SignedVoucher, counted int64) error {
	var held int64
	for _, t := range ab.payee.Channels() {
		if t.Latest != nil {
			held += new(big.Int).Div(t.Latest.Cumulative, big.NewInt(voucherStep)).Int64()
		}
	}
	if held != counted {
		return fmt.Errorf("counted %d accepted vouchers, but the payee holds %d", counted, held)
	}
	return nil
}
