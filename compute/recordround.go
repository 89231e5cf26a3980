package compute

import (
	"context"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/ledger/journal"
)

// recordRounds gathers the job_paid journal entries made within payLinger
// of each other and appends them together, in one synced write instead of
// one each. The payments of a
// round end together, but each party's entry follows a round trip of its
// own (the client's the proxy's confirmation, the worker's the proxy's
// notice), which spread them enough to cost a synced write each: most of
// the synced writes beside the answers were these. Nothing waits for an
// entry but the payment in the background that makes it.
type recordRounds struct {
	mu   sync.Mutex
	open *recordRound
	wg   sync.WaitGroup // rounds not finished: Stop waits for them
	// closeAfter runs f to close a round after payLinger; nil:
	// time.AfterFunc.
	closeAfter func(f func())
}

// recordRound is the entries appended together.
type recordRound struct {
	entries []journal.Entry
	errs    []error // set before done is closed, one per entry
	done    chan struct{}
}

// journalWriter appends entries durably (Payments has it): RecordAll
// several in one synced write, Record one.
type journalWriter interface {
	Record(ctx context.Context, e journal.Entry) error
	RecordAll(ctx context.Context, es []journal.Entry) error
}

// record adds e to the open round (opening one that is appended to j
// payLinger later) and waits until it is durable; it returns that entry's
// error.
func (r *recordRounds) record(ctx context.Context, e journal.Entry, j journalWriter) error {
	r.mu.Lock()
	rd := r.open
	if rd == nil {
		rd = &recordRound{done: make(chan struct{})}
		r.open = rd
		r.wg.Add(1)
		closeRound := func() { r.close(rd, j) }
		if r.closeAfter != nil {
			r.closeAfter(closeRound)
		} else {
			time.AfterFunc(payLinger, closeRound)
		}
	}
	i := len(rd.entries)
	rd.entries = append(rd.entries, e)
	r.mu.Unlock()
	select {
	case <-rd.done:
		return rd.errs[i]
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close ends round rd and appends its entries in one write. If that
// fails, each entry is appended on its own, so that one entry's error is
// not every entry's.
func (r *recordRounds) close(rd *recordRound, j journalWriter) {
	defer r.wg.Done()
	r.mu.Lock()
	if r.open == rd {
		r.open = nil
	}
	entries := rd.entries
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), paymentWait)
	defer cancel()
	errs := make([]error, len(entries))
	if err := j.RecordAll(ctx, entries); err != nil {
		var wg sync.WaitGroup
		for i, e := range entries {
			wg.Go(func() { errs[i] = j.Record(ctx, e) })
		}
		wg.Wait()
	}
	rd.errs = errs
	close(rd.done)
}

// record journals a paid job with the others of its round.
func (s *Service) record(ctx context.Context, e journal.Entry) error {
	return s.records.record(ctx, e, s.pay)
}
