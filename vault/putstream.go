package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
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
// to the next closest peer) while the element is marshalled into
// stripe-major memory and sealed there, stripe by stripe as each segment
// is written (sealStripes). Each holder's sender sends its chunk of stripe
// j as soon as both its put is open and stripe j is sealed; the CIDs are
// hashed as the bytes go, and each holder's receipt (signed once the shard
// is durable) names its CID. A holder that fails midway leaves its shard
// whole in memory: once every stripe is sealed it is copied out and placed
// with a plain put on the next closest free peer, as place does.

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

// putStriped seals e (size bytes marshalled) striped and streams its
// shards to N holders as it seals them. The element is marshalled straight
// into the pooled memory where its stripes are sealed in place
// (stripe-major, shard.SpreadWriter), and each stripe is sealed as soon as
// its segment is written, while the holders are found and their puts
// opened: no plaintext copy is made, and none is left once every stripe
// is sealed.
func (v *Vault) putStriped(ctx context.Context, e *passport.Element, size int) (*putResult, error) {
	t0 := time.Now()
	l, err := shard.NewLayout(size, v.cfg.K, v.cfg.N, v.cfg.segment)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (vault.k is %d)", ErrInvalid, err, v.cfg.K)
	}
	entry, err := newEntry(e.Type, size, l.EncSize(), l.K, l.N)
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
	mem := v.bufs.getCap(l.StripedLen())[:l.StripedLen()]
	defer v.bufs.put(mem)
	pctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	sl := sealStripes(pctx, e, st, mem)
	// From here on the plaintext is in memory: every way out waits for the
	// sealing to stop and clears mem unless every stripe was sealed.
	defer func() {
		cancel()
		if <-sl.done; sl.err != nil {
			clear(mem)
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
	op, err := v.openPuts(pctx, l.ShardLen(), targets, cands)
	if err != nil {
		return nil, err
	}
	tOpened := time.Now()

	results := make([]sendResult, l.N)
	var wg sync.WaitGroup
	for i := range l.N {
		wg.Go(func() { results[i] = v.sendShard(op.writers[i], op.first[i], l, mem, i, sl.sealed[i]) })
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
	var retry []int
	for i, r := range results {
		res.ps[i] = placement{index: i, cid: r.cid}
		if r.err != nil {
			v.log.Debug("streamed shard put failed; placing the shard on the next closest peer", "peer", op.first[i], "err", r.err)
			retry = append(retry, i)
			continue
		}
		res.holders[i] = op.first[i]
	}
	for _, i := range retry {
		res.ps[i].data = l.ShardOf(mem, i, nil)
		res.ps[i].cid = shard.CIDOf(res.ps[i].data)
		if err := v.placeNext(ctx, res.ps[i], op, res.holders); err != nil {
			v.unplace(context.WithoutCancel(ctx), res.ps, res.holders)
			return nil, err
		}
	}
	entry.Shards = make([]*shardEntry, l.N)
	for i, p := range res.ps {
		// BLAKE3 shards need no precomputed answers (answers returns nil).
		entry.Shards[i] = &shardEntry{CID: p.cid, Holder: res.holders[i], Status: statusOK, Answers: answers(entry.Seed, p.cid, 0, p.data)}
		res.ps[i].data = nil
	}
	res.phases = []any{"lookup", tFound.Sub(t0), "open", tOpened.Sub(tFound), "seal", sl.took,
		"send", tSent.Sub(tOpened), "replaced", len(retry), "place", time.Since(tFound)}
	return res, nil
}

// stripeSealing is an element being marshalled into stripe-major memory
// and sealed stripe by stripe, in a goroutine of its own.
type stripeSealing struct {
	sealed []chan int    // per shard: the stripes sealed, in order; closed at the end
	done   chan struct{} // closed once nothing more is written to the memory
	err    error         // why not every stripe was sealed; set before done closes
	took   time.Duration // marshalling and sealing, from start to end
}

// sealStripes marshals e into mem (StripedLen bytes of st's layout) and
// seals each stripe as soon as its segment is written, telling every
// shard's sender. It stops early when ctx ends.
func sealStripes(ctx context.Context, e *passport.Element, st *shard.Striper, mem []byte) *stripeSealing {
	l := st.Layout()
	sl := &stripeSealing{sealed: make([]chan int, l.N), done: make(chan struct{})}
	for i := range sl.sealed {
		sl.sealed[i] = make(chan int, l.Stripes())
	}
	go func() {
		t0 := time.Now()
		defer func() {
			for _, c := range sl.sealed {
				close(c)
			}
			sl.took = time.Since(t0)
			close(sl.done)
		}()
		var stopped error // the put ended, or a stripe did not seal
		sw, err := l.SpreadWriter(mem, func(j int) error {
			if stopped = ctx.Err(); stopped != nil {
				return stopped
			}
			if stopped = st.SealStripe(j, mem); stopped != nil {
				return stopped
			}
			for _, c := range sl.sealed {
				c <- j
			}
			return nil
		})
		if err == nil {
			_, err = e.WriteTo(sw)
		}
		if err == nil {
			err = sw.Close()
		}
		switch {
		case stopped != nil:
			sl.err = stopped
		case err != nil: // the element is not what its size said, or over a limit
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
// unreachable) is replaced by the next closest free one.
func (v *Vault) openPuts(ctx context.Context, size int, targets []string, cands []peer.ID) (*openedPuts, error) {
	n := len(targets)
	if len(cands) < n {
		return nil, fmt.Errorf("%w: need %d peers to hold shards, found %d (connect more peers, or lower n)", ErrNotEnoughPeers, n, len(cands))
	}
	op := &openedPuts{choice: newChoice(cands, targets), writers: make([]*shard.ShardWriter, n), first: make([]peer.ID, n)}
	for i := range n {
		op.first[i] = op.next(i)
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
				return nil, fmt.Errorf("%w: need %d peers to hold shards, found %d that accepted one (%d refused or unreachable; last error: %w)",
					ErrNotEnoughPeers, n, len(cands)-refused, refused, last)
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

// placeNext puts a whole shard whose streamed put failed on the next
// closest free peers until one takes it.
func (v *Vault) placeNext(ctx context.Context, p placement, op *openedPuts, holders map[int]peer.ID) error {
	var last error
	for {
		h := op.next(p.index)
		if h == "" || ctx.Err() != nil {
			return fmt.Errorf("%w: need %d peers to hold shards, no free one accepted shard %d (last error: %w)",
				ErrNotEnoughPeers, len(op.writers), p.index, errors.Join(last, ctx.Err()))
		}
		if last = v.push(ctx, h, p); last == nil {
			holders[p.index] = h
			return nil
		}
		v.log.Debug("shard refused", "peer", h, "err", last)
	}
}

// sendResult is how one shard's streamed put ended.
type sendResult struct {
	cid cid.Cid
	err error
}

// sendShard sends shard i to holder through w, its chunk of each stripe
// (in stripe-major memory mem) as soon as ready names it, then finishes
// the put: its CID and the holder's verified receipt. After a failure it
// only drains ready.
func (v *Vault) sendShard(w *shard.ShardWriter, holder peer.ID, l shard.Layout, mem []byte, i int, ready <-chan int) sendResult {
	var err error
	for j := range ready {
		if err != nil {
			continue
		}
		_, err = w.Write(l.Chunk(mem, j, i))
		if err == nil && v.cfg.afterChunk != nil {
			v.cfg.afterChunk(holder, j)
		}
	}
	if err != nil {
		w.Abort()
		return sendResult{err: err}
	}
	c, _, err := w.Finish(func(c cid.Cid) ed25519.PublicKey { return v.keys.deleteKey(c).Public().(ed25519.PublicKey) })
	return sendResult{cid: c, err: err}
}
