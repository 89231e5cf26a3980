package compute

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/xssnick/tonutils-go/address"
)

// payLinger is how long a payment waits for others on the same channel,
// so that one cumulative voucher (one signature, one synced write on each
// side, one round trip) pays them all: a client paying its proxy, a proxy
// paying a worker. It delays no answer (payments run after the answer),
// and what it leaves unpaid meanwhile keeps counting against the
// channel's deposit.
//
// Every synced write beside the answers costs them: the goroutine in
// fdatasync keeps its scheduler P until the runtime's monitor takes it
// back (it polls every 20 µs to 10 ms), so on a node with few cores the
// next answer's goroutines wait. A round is eight synced writes over
// client, proxy and worker (the bill, the two vouchers paid and accepted,
// the three journal entries); 20 ms makes that about one per request for
// sequential requests (5 ms made it 2.6) and changes nothing under load,
// where rounds fill anyway.
const payLinger = 20 * time.Millisecond

// payRounds gathers the payments on each channel into rounds.
type payRounds struct {
	mu   sync.Mutex
	open map[string]*payRound // channel → the round taking payments
	wg   sync.WaitGroup       // rounds not finished: Stop waits for them
	// closeAfter runs f to close a round after payLinger; nil:
	// time.AfterFunc (tests close rounds themselves).
	closeAfter func(f func())
}

// payRound is one voucher's worth of payments.
type payRound struct {
	total *big.Int // under payRounds.mu until the round closes
	done  chan struct{}
	// Set before done is closed:
	ch  *address.Address // the channel that took the payment
	cum *big.Int         // its cumulative total with this round
	err error
}

// payFunc pays total on one channel and returns the channel used and its
// new cumulative total.
type payFunc func(ctx context.Context, total *big.Int) (*address.Address, *big.Int, error)

// pay adds amount (positive) to the round open on channel key, opening one
// that do pays payLinger later, and waits for the round. Every payment of
// a round gets the same channel and cumulative total, which covers them
// all; a failed round fails them all (nothing of it was paid, or the
// voucher is kept and the next round's includes it).
func (r *payRounds) pay(ctx context.Context, key string, amount *big.Int, do payFunc) (*address.Address, *big.Int, error) {
	r.mu.Lock()
	if r.open == nil {
		r.open = make(map[string]*payRound)
	}
	rd := r.open[key]
	if rd == nil {
		rd = &payRound{total: new(big.Int), done: make(chan struct{})}
		r.open[key] = rd
		r.wg.Add(1)
		closeRound := func() { r.close(key, rd, do) }
		if r.closeAfter != nil {
			r.closeAfter(closeRound)
		} else {
			time.AfterFunc(payLinger, closeRound)
		}
	}
	rd.total.Add(rd.total, amount)
	r.mu.Unlock()
	select {
	case <-rd.done:
		return rd.ch, rd.cum, rd.err
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// close ends round rd on key and pays it: a payment from now on opens the
// next round.
func (r *payRounds) close(key string, rd *payRound, do payFunc) {
	defer r.wg.Done()
	r.mu.Lock()
	delete(r.open, key)
	total := rd.total
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), paymentWait)
	defer cancel()
	rd.ch, rd.cum, rd.err = do(ctx, total)
	close(rd.done)
}
