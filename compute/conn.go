package compute

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// conn is what the compute protocols use of a stream: a libp2p stream, or
// one end of an in-memory pipe when a node routes through itself (a client
// that is its own proxy, a proxy that is its own worker).
type conn interface {
	io.ReadWriter
	Close() error
	Reset() error
	SetReadDeadline(time.Time) error
}

// pipeConn is one end of an in-memory pipe.
type pipeConn struct{ net.Conn }

func (p pipeConn) Reset() error { return p.Conn.Close() }

// buffered reads a conn through a buffer: a message's frame header and
// body come in one read of the stream instead of a read per header byte,
// and pending tells whether more has arrived already.
type buffered struct {
	conn
	r *bufio.Reader
}

func newBuffered(c conn) *buffered { return &buffered{conn: c, r: bufio.NewReaderSize(c, 4<<10)} }

func (b *buffered) Read(p []byte) (int, error) { return b.r.Read(p) }

// pending reports whether bytes that arrived are not read yet.
func (b *buffered) pending() bool { return b.r.Buffered() > 0 }

// tapped shows every byte read or written on a conn to the test tap.
type tapped struct {
	conn
	tap func([]byte)
}

func (t tapped) Read(b []byte) (int, error) {
	n, err := t.conn.Read(b)
	if n > 0 {
		t.tap(b[:n])
	}
	return n, err
}

func (t tapped) pending() bool { return hasPending(t.conn) }

// hasPending reports whether c has received bytes not read yet.
func hasPending(c conn) bool {
	p, ok := c.(interface{ pending() bool })
	return ok && p.pending()
}

// frameBatch gathers frames for one write to its conn: a proxy relays the
// records that arrived together from a worker in one write to the client.
type frameBatch struct {
	to  conn
	buf []byte
}

func (b *frameBatch) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// flush sends what was gathered.
func (b *frameBatch) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.to.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

func (t tapped) Write(b []byte) (int, error) {
	t.tap(b)
	return t.conn.Write(b)
}

func (s *Service) tapConn(c conn) conn {
	if s.tap == nil {
		return c
	}
	return tapped{conn: c, tap: s.tap}
}

// errStopping cancels requests in flight when the service stops.
var errStopping = errors.New("compute: the node is stopping")

// serveFunc serves one inbound conn from peer from.
type serveFunc func(ctx context.Context, c conn, from peer.ID) error

// handler adapts a serveFunc to a libp2p stream handler: the request is
// tracked (Stop waits for it) and cancelled when the service stops.
func (s *Service) handler(serve serveFunc) func(ctx context.Context, st network.Stream) error {
	return func(ctx context.Context, st network.Stream) error {
		ctx, done, err := s.track(ctx)
		if err != nil {
			return err
		}
		defer done()
		return serve(ctx, newBuffered(st), st.Conn().RemotePeer())
	}
}

// track registers a request with the service, or refuses it if the
// service is stopping. done must be called when it ends.
func (s *Service) track(ctx context.Context) (context.Context, func(), error) {
	s.mu.Lock()
	if s.stopped || s.runCtx == nil {
		s.mu.Unlock()
		return nil, nil, errStopping
	}
	s.handlers.Add(1)
	runCtx := s.runCtx
	s.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(runCtx, func() { cancel(errStopping) })
	return ctx, func() {
		stop()
		cancel(nil)
		s.handlers.Done()
	}, nil
}

// selfConn serves a request of this node to itself through an in-memory
// pipe and returns the caller's end.
func (s *Service) selfConn(serve serveFunc, timeout time.Duration) (conn, error) {
	ctx, done, err := s.track(context.Background())
	if err != nil {
		return nil, err
	}
	a, b := net.Pipe()
	go func() {
		defer done()
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := serve(ctx, newBuffered(pipeConn{b}), s.self); err != nil {
			s.log.Debug("request to self failed", "err", err)
		}
		_ = b.Close()
	}()
	return newBuffered(pipeConn{a}), nil
}

// openConn opens a protocol stream to p, or serves it in-process when p is
// this node (and has the role the protocol needs).
func (s *Service) openConn(ctx context.Context, p peer.ID, proto protocol.ID) (conn, error) {
	if p != s.self {
		st, err := s.net.Host().NewStream(ctx, p, proto)
		if err != nil {
			return nil, err
		}
		return newBuffered(st), nil
	}
	switch {
	case proto == WorkProtocol && s.worker != nil:
		return s.selfConn(s.serveWork, s.workTimeout())
	case proto == InferProtocol && s.proxy != nil:
		return s.selfConn(s.serveInfer, s.inferTimeout())
	}
	return nil, fmt.Errorf("this node does not serve %s", proto)
}
