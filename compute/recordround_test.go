package compute

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/journal"
)

// TestRecordRoundsTogether: entries recorded together are appended only
// when their round closes, all of them, and each caller gets its own
// entry's outcome; an entry made after the close opens the next round.
func TestRecordRoundsTogether(t *testing.T) {
	var r recordRounds
	closers := make(chan func(), 4)
	r.closeAfter = func(f func()) { closers <- f }
	var mu sync.Mutex
	var appended []string
	bad := errors.New("disk full")
	do := func(_ context.Context, e journal.Entry) error {
		mu.Lock()
		defer mu.Unlock()
		appended = append(appended, e.Key)
		if e.Key == "k3" {
			return bad
		}
		return nil
	}
	keys := []string{"k0", "k1", "k2", "k3"}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() { errs[i] = r.record(context.Background(), journal.Entry{Key: k}, do) })
	}
	closeFirst := <-closers
	for { // until all four have joined the round
		r.mu.Lock()
		n := len(r.open.entries)
		r.mu.Unlock()
		if n == len(keys) {
			break
		}
		runtime.Gosched()
	}
	mu.Lock()
	if len(appended) != 0 {
		t.Fatalf("appended %v before the round closed", appended)
	}
	mu.Unlock()
	closeFirst()
	wg.Wait()
	if len(appended) != len(keys) {
		t.Fatalf("appended %v, want all of %v", appended, keys)
	}
	for i, err := range errs {
		if want := keys[i] == "k3"; (err != nil) != want || (want && !errors.Is(err, bad)) {
			t.Errorf("entry %s: err %v", keys[i], err)
		}
	}
	// The next entry is a round of its own.
	done := make(chan error, 1)
	go func() { done <- r.record(context.Background(), journal.Entry{Key: "k4"}, do) }()
	(<-closers)()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.wg.Wait()
	if len(appended) != 5 || appended[4] != "k4" {
		t.Fatalf("appended %v", appended)
	}
}

// TestRecordRoundsCancelled: a caller whose context ends stops waiting;
// its entry is still appended with its round.
func TestRecordRoundsCancelled(t *testing.T) {
	var r recordRounds
	closers := make(chan func(), 1)
	r.closeAfter = func(f func()) { closers <- f }
	var appended sync.WaitGroup
	appended.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.record(ctx, journal.Entry{Key: "k"}, func(context.Context, journal.Entry) error { appended.Done(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the context's", err)
	}
	(<-closers)()
	appended.Wait()
	r.wg.Wait()
}
