package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// Streamed put of a striped element (one larger than shard.DefaultSegment).
// Its shards' CIDs are known only once they are made, so each shard is
// placed by a placement target of its own instead (32 random bytes, used
// as a DHT key: the holder is the closest peer to it, as to a CID): the N
// holders are chosen and their puts opened (shard.OpenPut; a refusal moves
// to the next closest peer) while the plaintext (an element's encoding,
// from memory or from an upload) is written into a ring of a few stripes'
// memory and sealed there, stripe by stripe as each segment is written.
// Each holder's sender sends its chunk of stripe j as soon as both its put
// is open and stripe j is sealed, and a slot of the ring is written again
// only once every sender is done with the stripe in it: a put holds a few
// stripes, whatever the element's size. The CIDs are hashed as the bytes
// go, and each holder's receipt (signed once the shard is durable) names
// its CID. A holder that fails midway is skipped from then on, its shard
// still hashed; once the others are placed, its shard is rebuilt from K of
// them and placed with a plain put on the next closest free peer.

// putResult is a placed element, before the manifest names it.
type putResult struct {
	entry   *elementEntry
	ps      []placement
	holders map[int]peer.ID
	phases  []any // slog attributes: where the time went
}

// newEntry is the manifest entry of a new element, with a fresh challenge
// seed (and a fresh key unless the encoder drew one).
func newEntry(t passport.ElementType, size, encSize, k, n int) (*elementEntry, error) {
	now := time.UnixMilli(time.Now().UnixMilli())
	e := &elementEntry{Type: t, Added: now, Size: size, EncSize: encSize, K: k, N: n, Audited: now}
	if _, err := rand.Read(e.Seed[:]); err != nil {
		return nil, fmt.Errorf("draw challenge seed: %w", err)
	}
	return e, nil
}

// ringStripes is how many stripes a streamed put holds in memory at once:
// the one being written, those sealed and being sent.
const ringStripes = 8

// putStriped seals the plaintext that fill writes (size bytes: the
// encoding of an element of type t) striped, and streams its shards to N
// holders as it seals them. fill's error (an element that is not what it
// said, an upload cut off) ends the put with ErrInvalid, and no holder
// keeps a shard of it.
func (v *Vault) putStriped(ctx context.Context, t passport.ElementType, size int, fill func(io.Writer) error) (*putResult, error) {
	t0 := time.Now()
	l, err := shard.NewLayout(size, v.cfg.K, v.cfg.N, v.cfg.segment)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (vault.k is %d)", ErrInvalid, err, v.cfg.K)
	}
	entry, err := newEntry(t, size, l.EncSize(), l.K, l.N)
	if err != nil {
		return nil, err
	}
	entry.Segment = l.Segment
	if _, err := rand.Read(entry.Key[:]); err != nil {
		return nil, fmt.Errorf("draw key: %w", err)
	}
	st, err := shard.NewStriper(entry.Key, l)
	if err != nil {
		return nil, err
	}
	slots := min(ringStripes, l.Stripes())
	ring := newStripeRing(l, v.rings.getCap(slots * l.StripeLen())[:slots*l.StripeLen()], slots)
	defer func() {
		if v.cfg.ringReturned != nil {
			v.cfg.ringReturned(ring.mem)
		}
		v.rings.put(ring.mem)
	}()
	pctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	sl := ring.seal(pctx, st, fill)
	// From here on plaintext passes through the ring: every way out waits
	// for the sealing to stop, and clears the ring unless every stripe was
	// sealed.
	defer func() {
		cancel()
		if <-sl.done; sl.err != nil {
			clear(ring.mem)
		}
	}()
	v.adoptRemote(ctx)

	targets := make([]string, l.N)
	for i := range targets {
		var t [32]byte
		if _, err := rand.Read(t[:]); err != nil {
			return nil, fmt.Errorf("draw placement target: %w", err)
		}
		targets[i] = string(t[:])
	}
	cands := v.candidates(ctx, targets, nil)
	tFound := time.Now()
	op, err := v.openPuts(pctx, l.ShardLen(), targets, cands, 0)
	if err != nil {
		return nil, err
	}
	tOpened := time.Now()

	results := make([]sendResult, l.N)
	var wg sync.WaitGroup
	for i := range l.N {
		wg.Go(func() { results[i] = v.sendShard(op.writers[i], op.first[i], ring, i, sl) })
	}
	<-sl.done
	if sl.err != nil {
		cancel()
	}
	wg.Wait()
	tSent := time.Now()
	if sl.err != nil {
		return nil, sl.err
	}

	res := &putResult{entry: entry, ps: make([]placement, l.N), holders: make(map[int]peer.ID, l.N)}
	entry.Shards = make([]*shardEntry, l.N)
	var lost []int
	for i, r := range results {
		res.ps[i] = placement{index: i, cid: r.cid}
		// BLAKE3 shards need no precomputed answers.
		entry.Shards[i] = &shardEntry{CID: r.cid, Status: statusOK}
		if r.err != nil {
			v.log.Debug("streamed shard put failed; the shard is rebuilt and placed on the next closest peer", "peer", op.first[i], "err", r.err)
			entry.Shards[i].Status = statusLost
			lost = append(lost, i)
			continue
		}
		res.holders[i] = op.first[i]
		entry.Shards[i].Holder = op.first[i]
	}
	if err := v.placeLost(ctx, entry, lost, op, res.holders); err != nil {
		v.unplace(context.WithoutCancel(ctx), res.ps, res.holders)
		return nil, err
	}
	res.phases = []any{"lookup", tFound.Sub(t0), "open", tOpened.Sub(tFound), "seal", sl.took,
		"send", tSent.Sub(tOpened), "rebuilt", len(lost), "place", time.Since(tFound)}
	return res, nil
}

// placeLost rebuilds the shards of e whose streamed puts failed (lost)
// from K of those placed (rebuildStriped) and puts each on the next
// closest free peer to its placement target, recording its holder in e and
// holders.
func (v *Vault) placeLost(ctx context.Context, e *elementEntry, lost []int, op *openedPuts, holders map[int]peer.ID) error {
	if len(lost) == 0 {
		return nil
	}
	if placed := e.N - len(lost); placed < e.K {
		return fmt.Errorf("%w: %d of %d holders failed during the put, and %d shards do not rebuild the others (%d needed)",
			ErrNotEnoughPeers, len(lost), e.N, placed, e.K)
	}
	rebuilt, err := v.rebuildStriped(ctx, e, lost, func(ctx context.Context, size int) (*openedPuts, error) {
		return v.openNext(ctx, size, lost, op)
	})
	if err != nil {
		return err
	}
	for _, i := range lost {
		holders[i] = rebuilt[i]
		e.Shards[i].Holder, e.Shards[i].Status = rebuilt[i], statusOK
		v.rebuiltPuts.Add(1)
	}
	return nil
}

// openNext opens a streamed put of size bytes for each shard of lost on
// the next closest free peer to its placement target in op, as openPuts
// does for all of them.
func (v *Vault) openNext(ctx context.Context, size int, lost []int, op *openedPuts) (*openedPuts, error) {
	next := &choice{order: make([][]peer.ID, len(lost)), used: op.used}
	for k, i := range lost {
		next.order[k] = op.order[i]
	}
	return v.openOn(ctx, size, next, len(op.writers)-len(lost))
}

// rebuildStriped makes the shards lost of striped element e again, from
// a streamed read of the element: each stripe, opened from K chunks, is
// sealed again (the element's key and the stripe's nonce make the same
// chunks) and its chunk of each lost shard sent to that shard's new
// holder, whose streamed put open opened (one writer per shard of lost,
// in order). Only when a new shard's bytes match its CID in e is its
// holder told to keep it. It holds a stripe and the read's chunks, not
// the element, and returns the new holders by index.
func (v *Vault) rebuildStriped(ctx context.Context, e *elementEntry, lost []int, open func(ctx context.Context, size int) (*openedPuts, error)) (map[int]peer.ID, error) {
	l, err := shard.NewLayout(e.Size, e.K, e.N, e.Segment)
	if err != nil {
		return nil, err
	}
	st, err := shard.NewStriper(e.Key, l)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	op, err := open(pctx, l.ShardLen())
	if err != nil {
		return nil, err
	}
	defer op.abort() // after Finish: no-ops
	stripe := v.rings.getCap(l.StripeLen())[:l.StripeLen()]
	defer func() {
		clear(stripe) // plaintext when a stripe stopped midway
		v.rings.put(stripe)
	}()
	sw := l.SegmentWriter(func(int) ([]byte, error) { return stripe, nil }, func(j int) error {
		if err := st.SealStripe(j, stripe); err != nil {
			return err
		}
		for k, i := range lost {
			if _, err := op.writers[k].Write(l.StripeChunk(stripe, j, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err := v.streamStriped(pctx, e, sw); err != nil {
		return nil, err
	}
	if err := sw.Close(); err != nil {
		return nil, err
	}
	holders := make(map[int]peer.ID, len(lost))
	for k, i := range lost {
		w := op.writers[k]
		if c := w.CID(); !c.Equals(e.Shards[i].CID) {
			return nil, fmt.Errorf("vault: shard %d of %s made again is %s, not the %s its put hashed: the manifest is inconsistent; add the element again", i, e.Type, c, e.Shards[i].CID)
		}
		if _, _, err := w.Finish(func(c cid.Cid) ed25519.PublicKey { return v.keys.deleteKey(c).Public().(ed25519.PublicKey) }); err != nil {
			v.unplace(context.WithoutCancel(ctx), placementsOf(e, holders), holders)
			return nil, err
		}
		holders[i] = op.first[k]
	}
	return holders, nil
}

// placementsOf lists e's shards that holders names, to unplace them.
func placementsOf(e *elementEntry, holders map[int]peer.ID) []placement {
	ps := make([]placement, 0, len(holders))
	for i := range holders {
		ps = append(ps, placement{index: i, cid: e.Shards[i].CID})
	}
	return ps
}

// stripeRing is the memory of a streamed put's stripes in flight: slots of
// StripeLen bytes, stripe j in slot j mod the number of slots. A slot is
// written again only once every shard's sender has sent (or skipped) its
// chunk of the stripe in it.
type stripeRing struct {
	l    shard.Layout
	mem  []byte
	free []chan struct{} // per slot: holds a token while the slot may be written
	left []atomic.Int32  // per slot: the senders still to send the stripe in it
}

// newStripeRing shares out mem (slots·StripeLen bytes) into slots.
func newStripeRing(l shard.Layout, mem []byte, slots int) *stripeRing {
	r := &stripeRing{l: l, mem: mem, free: make([]chan struct{}, slots), left: make([]atomic.Int32, slots)}
	for i := range r.free {
		r.free[i] = make(chan struct{}, 1)
		r.free[i] <- struct{}{}
	}
	return r
}

// stripe is the memory of stripe j.
func (r *stripeRing) stripe(j int) []byte {
	at := j % len(r.free) * r.l.StripeLen()
	return r.mem[at : at+r.l.StripeLen() : at+r.l.StripeLen()]
}

// chunk is chunk i of stripe j.
func (r *stripeRing) chunk(j, i int) []byte { return r.l.StripeChunk(r.stripe(j), j, i) }

// acquire waits until stripe j's slot is free (or ctx ends) and returns
// its memory, to be sent by every one of the N senders.
func (r *stripeRing) acquire(ctx context.Context, j int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-r.free[j%len(r.free)]:
		r.left[j%len(r.free)].Store(int32(r.l.N))
		return r.stripe(j), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release tells that one sender is done with stripe j.
func (r *stripeRing) release(j int) {
	if r.left[j%len(r.free)].Add(-1) == 0 {
		r.free[j%len(r.free)] <- struct{}{}
	}
}

// stripeSealing is a plaintext being written into a ring and sealed
// stripe by stripe, in a goroutine of its own.
type stripeSealing struct {
	sealed []chan int    // per shard: the stripes sealed, in order; closed at the end
	done   chan struct{} // closed once nothing more is written to the ring
	err    error         // why not every stripe was sealed; set before sealed and done close
	took   time.Duration // writing and sealing, from start to end
}

// seal runs fill into the ring's memory and seals each stripe as soon as
// its segment is written, telling every shard's sender. It stops early
// when ctx ends.
func (r *stripeRing) seal(ctx context.Context, st *shard.Striper, fill func(io.Writer) error) *stripeSealing {
	l := st.Layout()
	sl := &stripeSealing{sealed: make([]chan int, l.N), done: make(chan struct{})}
	for i := range sl.sealed {
		// A stripe is sealed only once its slot is free, so at most one
		// per slot waits for each sender.
		sl.sealed[i] = make(chan int, len(r.free))
	}
	go func() {
		t0 := time.Now()
		defer func() {
			sl.took = time.Since(t0)
			for _, c := range sl.sealed {
				close(c)
			}
			close(sl.done)
		}()
		var stopped error // the put ended, or a stripe did not seal
		w := l.SegmentWriter(func(j int) ([]byte, error) {
			b, err := r.acquire(ctx, j)
			stopped = err
			return b, err
		}, func(j int) error {
			if stopped = st.SealStripe(j, r.stripe(j)); stopped != nil {
				return stopped
			}
			for _, c := range sl.sealed {
				c <- j
			}
			return nil
		})
		err := fill(w)
		if err == nil {
			err = w.Close()
		}
		switch {
		case stopped != nil:
			sl.err = stopped
		case err != nil: // the element is not what its size said, or the upload failed
			sl.err = fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}()
	return sl
}

// openedPuts is the streamed puts opened for an element's shards.
type openedPuts struct {
	*choice
	writers []*shard.ShardWriter
	first   []peer.ID // the holder of each writer
}

// openPuts chooses a distinct holder for every shard, the closest free
// candidate to the shard's placement target, and opens a streamed put of
// size bytes on each, in parallel; a holder that refuses (over its quota,
// unreachable) is replaced by the next closest free one. held is how many
// other peers hold a shard of the element already (for messages).
func (v *Vault) openPuts(ctx context.Context, size int, targets []string, cands []peer.ID, held int) (*openedPuts, error) {
	if len(cands) < len(targets) {
		return nil, fmt.Errorf("%w: need %d peers to hold shards, found %d (connect more peers, or lower n)", ErrNotEnoughPeers, len(targets)+held, len(cands)+held)
	}
	return v.openOn(ctx, size, newChoice(cands, targets), held)
}

// openOn opens a streamed put of size bytes for every shard of ch, on the
// next free candidate of each (in parallel), moving on to the next one
// after a refusal; held is as for openPuts.
func (v *Vault) openOn(ctx context.Context, size int, ch *choice, held int) (*openedPuts, error) {
	n := len(ch.order)
	op := &openedPuts{choice: ch, writers: make([]*shard.ShardWriter, n), first: make([]peer.ID, n)}
	for i := range n {
		if op.first[i] = op.next(i); op.first[i] == "" {
			return nil, fmt.Errorf("%w: need %d peers to hold shards, no free one is left for shard %d (connect more peers, or lower n)", ErrNotEnoughPeers, n+held, i)
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { op.writers[i], errs[i] = shard.OpenPut(ctx, v.net, op.first[i], size) })
	}
	wg.Wait()
	refused := 0
	for i := range n {
		last := errs[i]
		for last != nil {
			v.openRefused.Add(1)
			refused++
			v.log.Debug("streamed put refused; trying the next closest peer", "peer", op.first[i], "err", last)
			p := op.next(i)
			if p == "" || ctx.Err() != nil {
				op.abort()
				return nil, fmt.Errorf("%w: need %d peers to hold shards, %d refused or were unreachable and no free one is left (last error: %w)",
					ErrNotEnoughPeers, n+held, refused, last)
			}
			op.first[i] = p
			op.writers[i], last = shard.OpenPut(ctx, v.net, p, size)
		}
	}
	return op, nil
}

func (op *openedPuts) abort() {
	for _, w := range op.writers {
		if w != nil {
			w.Abort()
		}
	}
}

// sendResult is how one shard's streamed put ended.
type sendResult struct {
	cid cid.Cid
	err error
}

// sendShard sends shard i to holder through w, its chunk of each stripe
// of the ring as soon as sl says it is sealed, then, unless the sealing
// failed, finishes the put: its CID and the holder's verified receipt.
// After a failure it only hashes the rest (the CID of the shard to rebuild).
func (v *Vault) sendShard(w *shard.ShardWriter, holder peer.ID, ring *stripeRing, i int, sl *stripeSealing) sendResult {
	var err error
	for j := range sl.sealed[i] {
		chunk := ring.chunk(j, i)
		if err == nil {
			_, err = w.Write(chunk)
			if err == nil && v.cfg.afterChunk != nil {
				v.cfg.afterChunk(holder, j)
			}
		} else {
			w.Skip(chunk)
		}
		ring.release(j)
	}
	if err == nil && sl.err != nil { // set before sealed[i] closed
		err = sl.err
	}
	if err != nil {
		w.Abort()
		return sendResult{cid: w.CID(), err: err}
	}
	c, _, err := w.Finish(func(c cid.Cid) ed25519.PublicKey { return v.keys.deleteKey(c).Public().(ed25519.PublicKey) })
	if err != nil {
		c = w.CID()
	}
	return sendResult{cid: c, err: err}
}
