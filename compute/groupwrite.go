package compute

import (
	"io"
	"sync"
)

// maxGroupPending bounds what a groupWriter holds unwritten: past it, a
// writer waits for the stream (its flow control is the backend's too).
const maxGroupPending = 256 << 10

// groupWriter writes frames to a stream from its own goroutine, so that
// frames handed to it while a write is in progress leave together in the
// next write: a burst of records from a backend costs the stream (and
// every hop after it) one write instead of one per record, and the first
// record of a burst waits on nothing. Write only queues; its error is
// the first error of an earlier write. close writes what is queued, stops
// the goroutine and returns the first write error: call it exactly once.
type groupWriter struct {
	to io.Writer

	mu     sync.Mutex
	cond   *sync.Cond // signalled on every change of buf, err or closed
	buf    []byte     // queued, not yet written
	err    error      // the first write error
	closed bool
	exited chan struct{}
}

func newGroupWriter(to io.Writer) *groupWriter {
	g := &groupWriter{to: to, exited: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	go g.loop()
	return g
}

func (g *groupWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.err == nil && len(g.buf) >= maxGroupPending {
		g.cond.Wait()
	}
	if g.err != nil {
		return 0, g.err
	}
	g.buf = append(g.buf, p...)
	g.cond.Broadcast()
	return len(p), nil
}

// loop writes what is queued, a batch at a time, until close; after a
// write error it drops the rest (the stream is broken).
func (g *groupWriter) loop() {
	defer close(g.exited)
	var spare []byte
	for {
		g.mu.Lock()
		for len(g.buf) == 0 && !g.closed {
			g.cond.Wait()
		}
		if len(g.buf) == 0 {
			g.mu.Unlock()
			return // closed and drained
		}
		out := g.buf
		g.buf = spare[:0]
		g.cond.Broadcast()
		g.mu.Unlock()
		_, err := g.to.Write(out)
		if err != nil {
			g.mu.Lock()
			g.err, g.buf = err, nil
			g.cond.Broadcast()
			g.mu.Unlock()
			return
		}
		spare = out
	}
}

func (g *groupWriter) close() error {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
	<-g.exited
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}
