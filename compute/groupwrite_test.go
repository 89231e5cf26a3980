package compute

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"testing"
)

// gatedWriter records each Write it gets; each waits for a token on gate.
type gatedWriter struct {
	gate    chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	writes  [][]byte
	err     error
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.entered <- struct{}{}
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// TestGroupWriterCoalesces: what is queued while a write is in progress
// leaves in one write after it, in order, and close drains everything.
func TestGroupWriterCoalesces(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	g := newGroupWriter(w)
	if _, err := g.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	<-w.entered // the first write is in progress, holding "a" alone
	for _, s := range []string{"b", "c", "d"} {
		if _, err := g.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	w.gate <- struct{}{} // "a" done
	<-w.entered          // the next write has started: it holds b, c and d
	w.gate <- struct{}{}
	if err := g.close(); err != nil {
		t.Fatal(err)
	}
	if len(w.writes) != 2 || string(w.writes[0]) != "a" || string(w.writes[1]) != "bcd" {
		t.Fatalf("writes %q, want [a bcd]", w.writes)
	}
}

// TestGroupWriterError: a failed write fails the writes after it and close.
func TestGroupWriterError(t *testing.T) {
	boom := errors.New("stream reset")
	w := &gatedWriter{gate: make(chan struct{}, 8), entered: make(chan struct{}, 8), err: boom}
	g := newGroupWriter(w)
	w.gate <- struct{}{}
	if _, err := g.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	<-w.entered
	// Once the failure is seen, Write reports it; close reports it too.
	// The failed write of "a" is the last: "b" queued before the failure is
	// noticed is dropped with the broken stream.
	for {
		if _, err := g.Write([]byte("b")); err != nil {
			if !errors.Is(err, boom) {
				t.Fatalf("Write after the failure: %v, want %v", err, boom)
			}
			break
		}
		runtime.Gosched()
	}
	if err := g.close(); !errors.Is(err, boom) {
		t.Fatalf("close: %v, want %v", err, boom)
	}
}

// TestGroupWriterBounded: a writer waits while maxGroupPending bytes are
// queued behind a write in progress, and goes on once they are taken.
func TestGroupWriterBounded(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	g := newGroupWriter(w)
	if _, err := g.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	<-w.entered
	big := make([]byte, maxGroupPending)
	if _, err := g.Write(big); err != nil { // fills the queue
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = g.Write([]byte("z")) // waits: the queue is full
	}()
	select {
	case <-done:
		t.Fatal("a Write past the bound did not wait")
	default:
	}
	w.gate <- struct{}{} // "a" done; the big batch is taken, "z" may queue
	<-w.entered
	<-done
	w.gate <- struct{}{}
	<-w.entered // "z"
	w.gate <- struct{}{}
	if err := g.close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range w.writes {
		total += len(b)
	}
	if total != 1+maxGroupPending+1 || string(w.writes[len(w.writes)-1]) != "z" {
		t.Fatalf("%d writes of %d bytes in all", len(w.writes), total)
	}
}
