package vault

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/vault/shard"
)

// Hedging of reads. A read asks want holders, not all N: every extra
// holder asked moves a whole shard more over the owner's link (N/K times
// the element instead of once). The spares are asked only when needed:
//   - one for each holder that fails;
//   - all of them when the read stalls: nothing arrived within
//     hedgeIdle(shard size), or the others lag the first shard that
//     arrived by more than its own time plus hedgeSlack (a slow or
//     black-holed holder).
const (
	hedgeSlack   = 50 * time.Millisecond
	hedgeIdleMin = 500 * time.Millisecond
	// hedgeIdleRate is the slowest transfer (bytes/s) that a read waits
	// for before it asks the spares.
	hedgeIdleRate = 4 << 20
)

// hedgeIdle is how long a read waits for its first shard of per bytes.
func hedgeIdle(per int) time.Duration {
	return hedgeIdleMin + time.Duration(per)*time.Second/hedgeIdleRate
}

// fetchOrder lists e's shard indices in the order a read asks for them:
// those that passed their last check first, and among them data shards
// (index < K: decoding them needs no Reed-Solomon reconstruction).
func fetchOrder(e *elementEntry) []int {
	order := make([]int, len(e.Shards))
	for i := range order {
		order[i] = i
	}
	rank := func(i int) int {
		r := 0
		if e.Shards[i].Status != statusOK {
			r += 2
		}
		if i >= e.K {
			r++
		}
		return r
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rank(a), rank(b)) })
	return order
}

// fetch gets want intact shards of e into one buffer, each checked against
// its CID as it arrives, asking holders in fetchOrder and the spares as
// the hedging rules above say; it cancels what is still running once want
// are in. It fails when fewer than want can be had.
func (v *Vault) fetch(ctx context.Context, e *elementEntry, want int) (*shard.Buffer, error) {
	buf, err := shard.NewBufferIn(v.bufs.get(), e.EncSize, e.K, e.N)
	if err != nil {
		return nil, fmt.Errorf("vault: read %s: %w", e.Type, err)
	}
	type result struct {
		i   int
		err error
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(e.Shards))
	var wg sync.WaitGroup
	order := fetchOrder(e)
	next, pending := 0, 0
	ask := func() {
		i := order[next]
		next++
		pending++
		v.shardReads.Add(1)
		wg.Go(func() {
			s := e.Shards[i]
			gctx, gcancel := context.WithTimeout(fctx, transferTimeout)
			defer gcancel()
			data, err := shard.GetInto(gctx, v.net, s.Holder, s.CID, buf.Slot(i))
			if err == nil && len(data) != len(buf.Slot(i)) {
				err = fmt.Errorf("vault: shard %s from %s is %d bytes, want %d: %w", s.CID, s.Holder, len(data), len(buf.Slot(i)), shard.ErrCorrupt)
			}
			results <- result{i, err}
		})
	}
	askSpares := func() {
		for next < len(order) {
			ask()
		}
	}
	for next < min(want, len(order)) {
		ask()
	}
	begun := time.Now()
	hedge := time.NewTimer(hedgeIdle(len(buf.Slot(0))) * v.cfg.hedgeScale)
	defer hedge.Stop()
	got := 0
	var errs []error
	for got < want && pending > 0 {
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				errs = append(errs, r.err)
				if next < len(order) {
					ask()
				}
				continue
			}
			buf.Mark(r.i)
			if got++; got == 1 && got < want {
				hedge.Reset(time.Since(begun) + hedgeSlack*v.cfg.hedgeScale)
			}
		case <-hedge.C:
			askSpares()
		}
	}
	cancel()
	wg.Wait() // no transfer writes into the buffer any more
	if got < want {
		v.bufs.put(buf.Release())
		return nil, fmt.Errorf("%w: %s: only %d of %d shards could be fetched, %d needed (holders offline or shards lost; `tonmesh passport holders %s` shows which): %w",
			ErrUnavailable, e.Type, got, len(e.Shards), want, e.Type, errors.Join(errs...))
	}
	return buf, nil
}
