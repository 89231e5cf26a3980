package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/p2p"
)

// MsgProtocol streams carry one or more exchanges, one after the other: the
// sender writes an envelope frame, the recipient answers with one response
// frame, and the sender may write the next envelope on the same stream
// instead of opening one per message (which costs about three times the
// exchange itself on loopback). A sender that closes its write side after
// the first envelope, as nodes did before, gets the same single answer; a
// recipient that closes the stream after its answer, as nodes did before,
// makes the sender open a new stream per message for a while (oneShot).
//
// A retry of an envelope on a fresh stream is safe: its ID makes a second
// copy a duplicate, which the recipient answers as delivered.
const (
	// msgStreamTimeout is how long the recipient serves one stream in all
	// (p2p.Handle's deadline), msgStreamReuse how long after opening the
	// sender reuses it, well before that deadline.
	msgStreamTimeout = 30 * time.Second
	msgStreamReuse   = 20 * time.Second
	// maxIdleStreams is how many idle streams are kept per peer.
	maxIdleStreams = 8
	// oneShotFor is how long a peer that closes streams after one answer is
	// sent one stream per message without trying reuse again.
	oneShotFor = 10 * time.Minute
)

// serveMsgs serves one MsgProtocol stream: envelope frames, each answered
// after it is durable (handleMsg), until the sender closes its write side,
// the stream's deadline passes, or the service stops serving the protocol
// (stopServingMsgs: then the next envelope is refused with a reset, so that
// the sender sees the recipient gone as for a new stream).
func (s *Service) serveMsgs(ctx, run context.Context, st network.Stream) error {
	reset := func() { _ = st.Reset() }
	defer context.AfterFunc(ctx, reset)()
	defer context.AfterFunc(run, reset)()
	from := st.Conn().RemotePeer()
	for first := true; ; first = false {
		req, err := p2p.ReadFrame(st, maxEnvelope)
		if errors.Is(err, io.EOF) && !first {
			return nil
		}
		if err != nil {
			return err
		}
		if s.msgsStopped.Load() {
			return errors.New("chat: the message protocol is no longer served")
		}
		resp, err := s.handleMsg(ctx, from, req)
		if err != nil {
			return err
		}
		if err := p2p.WriteFrame(st, resp); err != nil {
			return err
		}
	}
}

// stopServingMsgs stops serving MsgProtocol: the handler goes, and an
// envelope that arrives after on a stream opened before is refused.
func (s *Service) stopServingMsgs() {
	s.msgsStopped.Store(true)
	s.net.RemoveHandler(MsgProtocol)
}

// exchangeMsg sends one envelope to the recipient over MsgProtocol and
// returns its answer, on an idle stream to it if there is one (retrying on
// a new stream if that one fails), else on a new one, which is kept for
// the next message. sent, if not nil, runs once, after the envelope was
// first written and before its answer is read: work that may overlap the
// recipient's.
func (s *Service) exchangeMsg(ctx context.Context, to peer.ID, raw []byte, sent func()) ([]byte, error) {
	ran := false
	once := func() {
		if sent != nil && !ran {
			ran = true
			sent()
		}
	}
	retried := false
	if st := s.streams.take(to); st != nil {
		resp, reusable, err := roundTrip(ctx, st.s, raw, once)
		if err == nil {
			s.streams.keep(to, st, reusable)
			return resp, nil
		}
		_ = st.s.Reset()
		if ctx.Err() != nil {
			return nil, err
		}
		retried = true
	}
	st, err := s.net.Host().NewStream(ctx, to, MsgProtocol)
	if err != nil {
		return nil, fmt.Errorf("open stream to %s: %w", to, err)
	}
	resp, reusable, err := roundTrip(ctx, st, raw, once)
	if err != nil {
		_ = st.Reset()
		return nil, err
	}
	if retried {
		// A used stream failed where a new one answered: most likely the
		// peer closes streams after one answer, as nodes did before.
		s.streams.markOneShot(to)
	}
	s.streams.keep(to, &idleStream{s: st, opened: time.Now()}, reusable)
	return resp, nil
}

// roundTrip writes one envelope frame, runs sent (if not nil) and reads one
// response frame; ctx bounds it (the stream is reset when ctx ends first).
// reusable is false when that reset may have raced the answer.
func roundTrip(ctx context.Context, st network.Stream, raw []byte, sent func()) (resp []byte, reusable bool, err error) {
	if dl, ok := ctx.Deadline(); ok {
		if err := st.SetDeadline(dl); err != nil {
			return nil, false, fmt.Errorf("set deadline: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	if err := p2p.WriteFrame(st, raw); err != nil {
		stop()
		return nil, false, err
	}
	if sent != nil {
		sent()
	}
	resp, err = p2p.ReadFrame(st, 1024)
	reusable = stop()
	if err != nil {
		return nil, false, err
	}
	return resp, reusable && st.SetDeadline(time.Time{}) == nil, nil
}

// idleStream is a MsgProtocol stream between exchanges.
type idleStream struct {
	s      network.Stream
	opened time.Time
}

// streamPool keeps idle MsgProtocol streams per peer (at most
// maxIdleStreams, each reused until msgStreamReuse after it opened) and the
// peers that answer one envelope per stream. Close closes them all and
// keeps no more.
type streamPool struct {
	mu      sync.Mutex
	idle    map[peer.ID][]*idleStream
	oneShot map[peer.ID]time.Time // until when
	pruned  time.Time
	closed  bool
}

// take returns an idle stream to p young enough to reuse, or nil.
func (sp *streamPool) take(p peer.ID) *idleStream {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	now := time.Now()
	for ss := sp.idle[p]; len(ss) > 0; ss = sp.idle[p] {
		st := ss[len(ss)-1]
		sp.idle[p] = ss[:len(ss)-1]
		if now.Sub(st.opened) < msgStreamReuse {
			return st
		}
		_ = st.s.Close()
	}
	delete(sp.idle, p)
	return nil
}

// keep keeps st for the next message to p, or (not reusable, or no room)
// closes it.
func (sp *streamPool) keep(p peer.ID, st *idleStream, reusable bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	now := time.Now()
	if !reusable || sp.closed || len(sp.idle[p]) >= maxIdleStreams || now.Sub(st.opened) >= msgStreamReuse || now.Before(sp.oneShot[p]) {
		_ = st.s.Close()
		return
	}
	if sp.idle == nil {
		sp.idle = make(map[peer.ID][]*idleStream)
	}
	sp.idle[p] = append(sp.idle[p], st)
	if now.Sub(sp.pruned) > time.Second {
		sp.pruneLocked(now)
	}
}

// pruneLocked closes the streams too old to reuse and forgets expired
// one-shot marks.
func (sp *streamPool) pruneLocked(now time.Time) {
	sp.pruned = now
	for p, ss := range sp.idle {
		keep := ss[:0]
		for _, st := range ss {
			if now.Sub(st.opened) < msgStreamReuse {
				keep = append(keep, st)
			} else {
				_ = st.s.Close()
			}
		}
		if len(keep) == 0 {
			delete(sp.idle, p)
		} else {
			sp.idle[p] = keep
		}
	}
	for p, until := range sp.oneShot {
		if now.After(until) {
			delete(sp.oneShot, p)
		}
	}
}

func (sp *streamPool) markOneShot(p peer.ID) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.oneShot == nil {
		sp.oneShot = make(map[peer.ID]time.Time)
	}
	sp.oneShot[p] = time.Now().Add(oneShotFor)
	for _, st := range sp.idle[p] {
		_ = st.s.Close()
	}
	delete(sp.idle, p)
}

// close closes every idle stream; keep closes what it gets from then on.
func (sp *streamPool) close() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.closed = true
	for _, ss := range sp.idle {
		for _, st := range ss {
			_ = st.s.Close()
		}
	}
	sp.idle = nil
}
