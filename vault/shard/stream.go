package shard

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/tonmesh/tonmesh/p2p"
)

// Streamed transfers: a ShardWriter sends a shard while its owner is still
// making it (the CID follows the data, opPutStream), a ShardReader hands
// a shard's bytes on as they arrive and checks them against the CID at
// the end. Both hold one stream; Close (or Abort) releases it.

// ShardWriter streams one new BLAKE3 shard of a known size to a holder.
// Write it exactly Size bytes, then Finish. It is used by one goroutine.
type ShardWriter struct {
	holder peer.ID
	s      network.Stream
	stop   func() bool
	cancel context.CancelFunc
	size   int
	sent   int
	hashed int // bytes written or skipped
	hh     *streamHasher
	err    error
}

// OpenPut opens a streamed put of a shard of size bytes on holder and
// returns once the holder has agreed to take it: a refusal (ErrTooLarge, ErrQuota, ErrRefused, a holder failure)
// comes back here, before any data is made or sent. The put ends with ctx.
func OpenPut(ctx context.Context, net *p2p.Network, holder peer.ID, size int) (*ShardWriter, error) {
	if size <= 0 || size > MaxShardSize {
		return nil, fmt.Errorf("shard: put on %s: %w: %d bytes, the protocol carries 1..%d", holder, ErrTooLarge, size, MaxShardSize)
	}
	s, stop, cancel, err := dialShard(ctx, net, holder)
	if err != nil {
		return nil, fmt.Errorf("shard: put on %s: %w", holder, err)
	}
	w := &ShardWriter{holder: holder, s: s, stop: stop, cancel: cancel, size: size, hh: newStreamHasher()}
	q := &request{Op: opPutStream, Size: size}
	r, err := roundTrip(s, q)
	if err == nil {
		err = r.err()
		if err == nil && r.Status != statusContinue {
			err = errors.New("holder answered a streamed put before its data")
		}
	}
	if err == nil {
		if _, err = s.Write(binary.AppendUvarint(nil, uint64(size))); err != nil {
			err = fmt.Errorf("send shard: %w", err)
		}
	}
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("shard: put on %s: %w", holder, err)
	}
	return w, nil
}

// Write sends the next bytes of the shard.
func (w *ShardWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.sent+len(p) > w.size {
		w.err = fmt.Errorf("shard: put on %s: %d bytes written to a shard of %d", w.holder, w.sent+len(p), w.size)
		return 0, w.err
	}
	w.hh.Write(p)
	w.hashed += len(p)
	n, err := w.s.Write(p)
	w.sent += n
	if err != nil {
		w.err = fmt.Errorf("shard: put on %s: send shard: %w", w.holder, err)
	}
	return n, w.err
}

// Finish sends the CID of the bytes written and the shard's delete key
// (deleteKey of that CID: the public half of a key made for this one
// shard), waits for the holder's receipt (signed only once the shard is
// durable) and checks it. It releases the stream.
func (w *ShardWriter) Finish(deleteKey func(cid.Cid) ed25519.PublicKey) (cid.Cid, *Receipt, error) {
	defer w.Abort()
	if w.err == nil && w.sent != w.size {
		w.err = fmt.Errorf("shard: put on %s: %d of %d bytes written", w.holder, w.sent, w.size)
	}
	if w.err != nil {
		return cid.Undef, nil, w.err
	}
	c := cidOfDigest(multihash.BLAKE3, w.hh.Sum(nil))
	fail := func(err error) (cid.Cid, *Receipt, error) {
		return cid.Undef, nil, fmt.Errorf("shard: put %s on %s: %w", c, w.holder, err)
	}
	dk := deleteKey(c)
	if len(dk) != ed25519.PublicKeySize {
		return fail(fmt.Errorf("delete key is %d bytes, want an Ed25519 public key of %d", len(dk), ed25519.PublicKeySize))
	}
	// As in PutShard, the holder's answer decides, not the writes.
	sendErr := p2p.WriteFrame(w.s, encodeTrailer(c, dk))
	if sendErr == nil {
		sendErr = w.s.CloseWrite()
	}
	r, err := readResponse(w.s, opPutStream)
	if err != nil {
		return fail(errors.Join(sendErr, err))
	}
	if r.Status == statusContinue {
		return fail(errors.New("holder asked for the data twice"))
	}
	if err := r.err(); err != nil {
		return fail(err)
	}
	rcpt, err := UnmarshalReceipt(r.Receipt)
	if err == nil {
		err = rcpt.Verify()
	}
	if err == nil && (!rcpt.CID.Equals(c) || rcpt.Size != w.size || rcpt.Holder != w.holder) {
		err = fmt.Errorf("receipt names shard %s of %d bytes held by %s", rcpt.CID, rcpt.Size, rcpt.Holder)
	}
	if err != nil {
		return fail(fmt.Errorf("bad receipt, do not count this holder: %w", err))
	}
	_ = w.s.Close()
	return c, rcpt, nil
}

// Skip hashes the next bytes of the shard without sending them: once a
// write failed, the rest of the shard is skipped, so that CID still names
// the whole shard (to rebuild it and place it elsewhere).
func (w *ShardWriter) Skip(p []byte) {
	w.hh.Write(p)
	w.hashed += len(p)
}

// CID is the CID of the Size bytes written and skipped, or cid.Undef
// before all of them were.
func (w *ShardWriter) CID() cid.Cid {
	if w.hashed != w.size {
		return cid.Undef
	}
	return cidOfDigest(multihash.BLAKE3, w.hh.Sum(nil))
}

// Abort ends the put (resetting the stream unless Finish closed it);
// the holder stores nothing for a put cut off. Safe to call more than once.
func (w *ShardWriter) Abort() {
	if w.s == nil {
		return
	}
	_ = w.s.Reset()
	w.stop()
	w.cancel()
	w.s = nil
	if w.err == nil {
		w.err = errors.New("shard: put aborted")
	}
}

// ShardReader reads one shard from its holder as it arrives, hashing it;
// Verified reports at the end whether it matched the CID. It is used by
// one goroutine.
type ShardReader struct {
	holder peer.ID
	c      cid.Cid
	s      network.Stream
	stop   func() bool
	cancel context.CancelFunc
	left   int
	size   int
	hh     interface {
		io.Writer
		Sum([]byte) []byte
	}
}

// OpenGet asks holder for shard c and returns once the holder has answered
// and announced its size: ErrNotFound when it lacks the shard.
func OpenGet(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid) (*ShardReader, error) {
	if err := checkCIDFormat(c); err != nil {
		return nil, fmt.Errorf("shard: get %s: %w", c, err)
	}
	s, stop, cancel, err := dialShard(ctx, net, holder)
	if err != nil {
		return nil, fmt.Errorf("shard: get %s from %s: %w", c, holder, err)
	}
	r := &ShardReader{holder: holder, c: c, s: s, stop: stop, cancel: cancel, hh: newCIDHash(c)}
	resp, err := roundTrip(s, &request{Op: opGet, CID: c})
	if err == nil {
		err = resp.err()
	}
	var n uint64
	if err == nil {
		if n, err = readUvarint(s); err != nil {
			err = fmt.Errorf("read frame length: %w", err)
		} else if n > MaxShardSize {
			err = fmt.Errorf("read frame: length %d: %w (%d bytes)", n, p2p.ErrFrameTooLarge, MaxShardSize)
		}
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("shard: get %s from %s: %w", c, holder, err)
	}
	r.size, r.left = int(n), int(n)
	return r, nil
}

// Size is the shard's length as the holder announced it.
func (r *ShardReader) Size() int { return r.size }

// ReadFull fills p with the next bytes of the shard.
func (r *ShardReader) ReadFull(p []byte) error {
	if len(p) > r.left {
		return fmt.Errorf("shard: get %s from %s: %d bytes asked, %d left: %w", r.c, r.holder, len(p), r.left, ErrCorrupt)
	}
	if _, err := io.ReadFull(r.s, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("shard: get %s from %s: receive shard: %w", r.c, r.holder, err)
	}
	r.hh.Write(p)
	r.left -= len(p)
	return nil
}

// Verified reports whether every byte was read and they match the CID.
func (r *ShardReader) Verified() bool {
	return r.left == 0 && string(r.hh.Sum(nil)) == string(digestOf(r.c))
}

// Close releases the stream. Safe to call more than once.
func (r *ShardReader) Close() {
	if r.s == nil {
		return
	}
	if r.left == 0 {
		_ = r.s.Close()
	} else {
		_ = r.s.Reset()
	}
	r.stop()
	r.cancel()
	r.s = nil
}

// dialShard opens a shard stream to holder that ends with ctx (or after
// clientTimeout when ctx has no deadline); stop and cancel release what
// holds it open.
func dialShard(ctx context.Context, net *p2p.Network, holder peer.ID) (network.Stream, func() bool, context.CancelFunc, error) {
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, clientTimeout)
	}
	if err := findAddrs(ctx, net, holder); err != nil {
		cancel()
		return nil, nil, nil, err
	}
	s, err := net.Host().NewStream(ctx, holder, Protocol)
	if err != nil {
		cancel()
		return nil, nil, nil, fmt.Errorf("open stream: %w", err)
	}
	dl, _ := ctx.Deadline()
	if err := s.SetDeadline(dl); err != nil {
		_ = s.Reset()
		cancel()
		return nil, nil, nil, fmt.Errorf("set stream deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	return s, stop, cancel, nil
}
