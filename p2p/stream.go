package p2p

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// DefaultMaxFrame is the frame size limit to use when a protocol has no
// tighter one.
const DefaultMaxFrame = 4 << 20

// ErrFrameTooLarge is returned by ReadFrame for a length over its limit.
var ErrFrameTooLarge = errors.New("frame exceeds the size limit")

// smallFrame is the size up to which WriteFrame sends header and payload in
// one Write (one packet) instead of two.
const smallFrame = 16 << 10

// WriteFrame writes one frame: the payload's length as a uvarint, then the
// payload.
func WriteFrame(w io.Writer, payload []byte) error {
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(payload)))
	if len(payload) <= smallFrame {
		buf := make([]byte, 0, n+len(payload))
		buf = append(append(buf, hdr[:n]...), payload...)
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write frame: %w", err)
		}
		return nil
	}
	if _, err := w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("write frame header: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("write frame payload: %w", err)
	}
	return nil
}

// ReadFrame reads one frame of at most max bytes. A length over max is
// refused (ErrFrameTooLarge) before anything is allocated. It returns io.EOF
// if r ends cleanly before the frame starts and io.ErrUnexpectedEOF if it
// ends inside a frame. Lengths must be minimal uvarints.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	if max < 0 {
		return nil, errors.New("read frame: negative size limit")
	}
	length, err := readUvarint(r)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read frame length: %w", err)
	}
	if length > uint64(max) {
		return nil, fmt.Errorf("read frame: length %d: %w (%d bytes)", length, ErrFrameTooLarge, max)
	}
	buf := make([]byte, int(length))
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read frame payload: %w", err)
	}
	return buf, nil
}

// readUvarint reads a minimal uvarint one byte at a time, so it never
// consumes bytes past the header.
func readUvarint(r io.Reader) (uint64, error) {
	var (
		buf [binary.MaxVarintLen64]byte
		one [1]byte
	)
	for i := range buf {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			if err == io.EOF && i > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		buf[i] = one[0]
		if one[0] < 0x80 {
			v, _, err := wire.ParseUvarint(buf[:i+1])
			return v, err
		}
	}
	return 0, errors.New("varint overflows 64 bits")
}

// ProtocolID builds a stream protocol name: /tonmesh/<service>/<name>/<version>.
func ProtocolID(service, name, version string) protocol.ID {
	return protocol.ID("/tonmesh/" + service + "/" + name + "/" + version)
}

func checkProtocolID(p protocol.ID) error {
	parts := strings.Split(string(p), "/")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "tonmesh" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return fmt.Errorf("protocol %q is not of the form /tonmesh/<service>/<name>/<version>", p)
	}
	return nil
}

// StreamHandler serves one inbound stream. ctx ends at the handler's
// timeout or when the Network closes.
type StreamHandler func(ctx context.Context, s network.Stream) error

// Handle serves proto with h. Each stream gets a deadline timeout from now
// (and a ctx with the same deadline); it is reset if h returns an error and
// closed otherwise. proto must be /tonmesh/<service>/<name>/<version>; Handle
// panics on a malformed name, a nil handler or a non-positive timeout, which
// are programming errors.
func (n *Network) Handle(proto protocol.ID, h StreamHandler, timeout time.Duration) {
	if err := checkProtocolID(proto); err != nil {
		panic("p2p.Handle: " + err.Error())
	}
	if h == nil || timeout <= 0 {
		panic("p2p.Handle: handler must be non-nil and timeout positive")
	}
	n.host.SetStreamHandler(proto, func(s network.Stream) {
		n.serveStream(proto, h, timeout, s)
	})
}

// RemoveHandler stops serving proto.
func (n *Network) RemoveHandler(proto protocol.ID) {
	n.host.RemoveStreamHandler(proto)
}

func (n *Network) serveStream(proto protocol.ID, h StreamHandler, timeout time.Duration, s network.Stream) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		_ = s.Reset()
		return
	}
	n.handlers.Add(1)
	n.mu.Unlock()
	defer n.handlers.Done()

	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(n.ctx, deadline)
	defer cancel()
	if err := s.SetDeadline(deadline); err != nil {
		n.log.Debug("set stream deadline", "protocol", proto, "err", err)
	}
	if err := h(ctx, s); err != nil {
		n.log.Debug("stream handler failed; resetting stream", "protocol", proto, "peer", s.Conn().RemotePeer(), "err", err)
		n.metrics.streams.WithLabelValues(string(proto), resultRejected).Inc()
		_ = s.Reset()
		return
	}
	n.metrics.streams.WithLabelValues(string(proto), resultAccepted).Inc()
	_ = s.Close()
}

// RequestHandler answers one request frame with one response frame.
type RequestHandler func(ctx context.Context, from peer.ID, req []byte) ([]byte, error)

// HandleRequest serves proto with the one-request-one-response pattern that
// Request speaks: it reads one frame of at most maxReq bytes, calls h and
// writes its answer as one frame. Errors reset the stream.
func (n *Network) HandleRequest(proto protocol.ID, h RequestHandler, maxReq int, timeout time.Duration) {
	n.Handle(proto, func(ctx context.Context, s network.Stream) error {
		req, err := ReadFrame(s, maxReq)
		if err != nil {
			return err
		}
		n.metrics.frames.WithLabelValues(string(proto), directionIn).Inc()
		resp, err := h(ctx, s.Conn().RemotePeer(), req)
		if err != nil {
			return err
		}
		if err := WriteFrame(s, resp); err != nil {
			return err
		}
		n.metrics.frames.WithLabelValues(string(proto), directionOut).Inc()
		return nil
	}, timeout)
}

// Request opens a stream to p, sends req as one frame and returns the one
// response frame (at most maxResp bytes). The exchange ends when ctx does.
func (n *Network) Request(ctx context.Context, p peer.ID, proto protocol.ID, req []byte, maxResp int) ([]byte, error) {
	s, err := n.svcHost.NewStream(ctx, p, proto)
	if err != nil {
		return nil, fmt.Errorf("request %s from %s: open stream: %w", proto, p, err)
	}
	resp, err := n.exchange(ctx, s, proto, req, maxResp)
	if err != nil {
		_ = s.Reset()
		n.metrics.streams.WithLabelValues(string(proto), resultRejected).Inc()
		return nil, fmt.Errorf("request %s from %s: %w", proto, p, err)
	}
	_ = s.Close()
	n.metrics.streams.WithLabelValues(string(proto), resultAccepted).Inc()
	return resp, nil
}

func (n *Network) exchange(ctx context.Context, s network.Stream, proto protocol.ID, req []byte, maxResp int) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		if err := s.SetDeadline(dl); err != nil {
			return nil, fmt.Errorf("set deadline: %w", err)
		}
	}
	// Without a deadline, cancellation must still unblock reads and writes.
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()

	if err := WriteFrame(s, req); err != nil {
		return nil, ctxErrOr(ctx, err)
	}
	n.metrics.frames.WithLabelValues(string(proto), directionOut).Inc()
	if err := s.CloseWrite(); err != nil {
		return nil, ctxErrOr(ctx, fmt.Errorf("close write side: %w", err))
	}
	resp, err := ReadFrame(s, maxResp)
	if err != nil {
		if err == io.EOF {
			err = errors.New("peer closed the stream without answering")
		}
		return nil, ctxErrOr(ctx, err)
	}
	n.metrics.frames.WithLabelValues(string(proto), directionIn).Inc()
	return resp, nil
}

// ctxErrOr prefers ctx's error, which explains a reset stream better.
func ctxErrOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
