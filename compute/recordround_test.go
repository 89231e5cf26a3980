package compute

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/journal"
)

// fakeJournal is a journalWriter that remembers each write's keys and
// fails every write that holds the key bad.
type fakeJournal struct {
	bad    string
	badErr error
	mu     sync.Mutex
	writes [][]string
}

func (f *fakeJournal) RecordAll(_ context.Context, es []journal.Entry) error {
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Key
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, keys)
	if slices.Contains(keys, f.bad) {
		return f.badErr
	}
	return nil
}

func (f *fakeJournal) Record(ctx context.Context, e journal.Entry) error {
	return f.RecordAll(ctx, []journal.Entry{e})
}

func (f *fakeJournal) written() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

// TestRecordRoundsTogether: entries recorded together are appended only
// when their round closes, all of them in one write; when that write
// fails each is appended alone and each caller gets its own entry's
// outcome; an entry made after the close opens the next round.
func TestRecordRoundsTogether(t *testing.T) {
	var r recordRounds
	closers := make(chan func(), 4)
	r.closeAfter = func(f func()) { closers <- f }
	j := &fakeJournal{bad: "k3", badErr: errors.New("disk full")}
	keys := []string{"k0", "k1", "k2", "k3"}
	record := func(keys []string) []error {
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i, k := range keys {
			wg.Go(func() { errs[i] = r.record(context.Background(), journal.Entry{Key: k}, j) })
		}
		closeRound := <-closers
		for { // until all have joined the round
			r.mu.Lock()
			n := len(r.open.entries)
			r.mu.Unlock()
			if n == len(keys) {
				break
			}
			runtime.Gosched()
		}
		if w := j.written(); len(w) != 0 {
			t.Fatalf("wrote %v before the round closed", w)
		}
		closeRound()
		wg.Wait()
		return errs
	}

	// All good: one write of the whole round.
	good := []string{"a0", "a1", "a2"}
	for i, err := range record(good) {
		if err != nil {
			t.Fatalf("entry %s: %v", good[i], err)
		}
	}
	if w := j.written(); len(w) != 1 || len(w[0]) != len(good) {
		t.Fatalf("writes %v, want the round of %d in one", w, len(good))
	}
	j.writes = nil

	// One bad entry: the round's write fails, then each goes alone.
	errs := record(keys)
	for i, err := range errs {
		if want := keys[i] == "k3"; (err != nil) != want || (want && !errors.Is(err, j.badErr)) {
			t.Errorf("entry %s: err %v", keys[i], err)
		}
	}
	w := j.written()
	if len(w) != 1+len(keys) || len(w[0]) != len(keys) {
		t.Fatalf("writes %v, want the round then each entry alone", w)
	}
	j.writes = nil

	// The next entry is a round of its own.
	done := make(chan error, 1)
	go func() { done <- r.record(context.Background(), journal.Entry{Key: "k4"}, j) }()
	(<-closers)()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.wg.Wait()
	if w := j.written(); len(w) != 1 || !slices.Equal(w[0], []string{"k4"}) {
		t.Fatalf("writes %v, want [[k4]]", w)
	}
}

// TestRecordRoundsCancelled: a caller whose context ends stops waiting;
// its entry is still appended with its round.
func TestRecordRoundsCancelled(t *testing.T) {
	var r recordRounds
	closers := make(chan func(), 1)
	r.closeAfter = func(f func()) { closers <- f }
	j := &fakeJournal{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.record(ctx, journal.Entry{Key: "k"}, j)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the context's", err)
	}
	(<-closers)()
	r.wg.Wait()
	if w := j.written(); len(w) != 1 || !slices.Equal(w[0], []string{"k"}) {
		t.Fatalf("writes %v, want [[k]]", w)
	}
}
