package channel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/xssnick/tonutils-go/address"
)

// payeeFixture is a payee on its own store with one tracked channel.
type payeeFixture struct {
	dir    string
	store  *ledger.Store
	payee  *Payee
	key    ed25519.PrivateKey
	params Params
	ch     *address.Address
}

func testParams(t testing.TB, key ed25519.PrivateKey, id uint64) Params {
	t.Helper()
	a := make([]byte, 32)
	b := make([]byte, 32)
	a[0], b[0] = 1, 2
	return Params{
		Payer:    address.NewAddress(0, 0, a),
		Payee:    address.NewAddress(0, 0, b),
		PayerKey: key.Public().(ed25519.PublicKey),
		GlobalID: -3,
		ID:       id,
		Timeout:  time.Hour,
	}
}

func openPayee(t testing.TB, dir string) (*ledger.Store, *Payee) {
	t.Helper()
	store, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	space, err := store.Space(SpaceName)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	p, err := NewPayee(space, -3)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	return store, p
}

func newPayeeFixture(t testing.TB, deposit *big.Int) *payeeFixture {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &payeeFixture{dir: t.TempDir(), key: key, params: testParams(t, key, 1)}
	f.store, f.payee = openPayee(t, f.dir)
	t.Cleanup(func() { f.store.Close() })
	var err error
	f.ch, err = f.payee.Track(context.Background(), f.params, deposit)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *payeeFixture) sign(t testing.TB, gid int32, ch *address.Address, cum int64) *SignedVoucher {
	t.Helper()
	sv, err := Voucher{GlobalID: gid, Channel: ch, Cumulative: big.NewInt(cum)}.Sign(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

func TestPayeeAcceptsHighestAndRefusesTheRest(t *testing.T) {
	f := newPayeeFixture(t, big.NewInt(1000))
	ctx := context.Background()
	got, err := f.payee.Accept(ctx, f.sign(t, -3, f.ch, 100))
	if err != nil || got.Int64() != 100 {
		t.Fatalf("first voucher: +%v, %v", got, err)
	}
	got, err = f.payee.Accept(ctx, f.sign(t, -3, f.ch, 250))
	if err != nil || got.Int64() != 150 {
		t.Fatalf("second voucher: +%v, %v; want +150", got, err)
	}
	otherParams := f.params
	otherParams.ID = 2
	otherCh, _ := otherParams.Address()
	_, mallory, _ := ed25519.GenerateKey(rand.Reader)
	forged, _ := Voucher{GlobalID: -3, Channel: f.ch, Cumulative: big.NewInt(300)}.Sign(mallory)
	for name, c := range map[string]struct {
		sv   *SignedVoucher
		want error
	}{
		"equal":        {f.sign(t, -3, f.ch, 250), ErrStale},
		"lower":        {f.sign(t, -3, f.ch, 200), ErrStale},
		"over deposit": {f.sign(t, -3, f.ch, 1001), ErrOverDeposit},
		"wrong net":    {f.sign(t, -239, f.ch, 300), ErrWrongNetwork},
		"untracked":    {f.sign(t, -3, otherCh, 300), ErrWrongChannel},
		"forged":       {forged, ErrBadSignature},
	} {
		if _, err := f.payee.Accept(ctx, c.sv); !errors.Is(err, c.want) {
			t.Fatalf("%s: err = %v, want %v", name, err, c.want)
		}
	}
	latest, err := f.payee.Latest(f.ch)
	if err != nil || latest.Cumulative.Int64() != 250 {
		t.Fatalf("latest after refusals: %v, %v; want 250", latest, err)
	}
	if dep, paid, err := f.payee.Holding(f.ch); err != nil || dep.Int64() != 1000 || paid.Int64() != 250 {
		t.Fatalf("holding = %v, %v, %v; want deposit 1000, paid 250", dep, paid, err)
	}
	if _, _, err := f.payee.Holding(otherCh); !errors.Is(err, ErrWrongChannel) {
		t.Fatalf("holding of an untracked channel: %v", err)
	}
	// A top-up seen on chain raises the limit; a lower value is ignored.
	if err := f.payee.SetDeposited(ctx, f.ch, big.NewInt(2000)); err != nil {
		t.Fatal(err)
	}
	if err := f.payee.SetDeposited(ctx, f.ch, big.NewInt(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.payee.Accept(ctx, f.sign(t, -3, f.ch, 1500)); err != nil {
		t.Fatalf("voucher within the raised deposit: %v", err)
	}
	// Tracking params of another network is refused.
	wrongNet := f.params
	wrongNet.GlobalID = -239
	if _, err := f.payee.Track(ctx, wrongNet, big.NewInt(1)); !errors.Is(err, ErrWrongNetwork) {
		t.Fatalf("track on another network: %v", err)
	}
}

// An acknowledged voucher is on disk: a reopened payee has exactly the
// latest acknowledged voucher and deposit, and keeps refusing lower ones.
func TestPayeeRestartReadsBackLatest(t *testing.T) {
	f := newPayeeFixture(t, big.NewInt(1_000_000))
	ctx := context.Background()
	for i := int64(1); i <= 50; i++ {
		if _, err := f.payee.Accept(ctx, f.sign(t, -3, f.ch, i*10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.payee.SetDeposited(ctx, f.ch, big.NewInt(2_000_000)); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	store, p := openPayee(t, f.dir)
	f.store = store // closed by the fixture's cleanup
	latest, err := p.Latest(f.ch)
	if err != nil || latest == nil || latest.Cumulative.Int64() != 500 {
		t.Fatalf("latest after restart: %v, %v; want 500", latest, err)
	}
	if err := latest.Verify(f.params.PayerKey); err != nil {
		t.Fatalf("stored voucher no longer verifies: %v", err)
	}
	chs := p.Channels()
	if len(chs) != 1 || chs[0].Deposited.Int64() != 2_000_000 || chs[0].Latest.Cumulative.Int64() != 500 {
		t.Fatalf("channels after restart: %+v", chs)
	}
	if _, err := p.Accept(ctx, f.sign(t, -3, f.ch, 500)); !errors.Is(err, ErrStale) {
		t.Fatalf("replay after restart: %v, want ErrStale", err)
	}
	if got, err := p.Accept(ctx, f.sign(t, -3, f.ch, 1_500_000)); err != nil || got.Int64() != 1_499_500 {
		t.Fatalf("next voucher after restart: +%v, %v", got, err)
	}
}

// Concurrent vouchers on one channel: whatever order they land in, the
// stored voucher is the highest and the increments add up to it.
func TestPayeeConcurrentAccept(t *testing.T) {
	f := newPayeeFixture(t, big.NewInt(1_000_000))
	ctx := context.Background()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total = new(big.Int)
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(1); i <= 25; i++ {
				got, err := f.payee.Accept(ctx, f.sign(t, -3, f.ch, i*40-int64(g)))
				if errors.Is(err, ErrStale) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total.Add(total, got)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	latest, _ := f.payee.Latest(f.ch)
	if latest.Cumulative.Int64() != 1000 || total.Int64() != 1000 {
		t.Fatalf("latest %s, sum of increments %s; want both 1000", latest.Cumulative, total)
	}
}
