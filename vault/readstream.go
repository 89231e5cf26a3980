package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/vault/shard"
)

// Streamed reads of striped elements. A read opens the element stripe by
// stripe while the holders' shards arrive and hands each stripe's
// plaintext on at once. A holder's chunks are taken at most streamAhead
// stripes ahead of the stripe being opened; beyond that its reader stops
// reading, and the stream's flow control stops the holder. So a read
// holds a few stripes of chunks per holder, whatever the element's size.
//
//   - K holders are asked first, in fetchOrder (checked ones first, data
//     shards, which need no reconstruction, before parity). Each stripe is
//     opened from K chunks: those of the holders that opened the stripe
//     before it, else the first K at hand in that order.
//   - A spare holder is asked when a holder fails, and when a stripe does
//     not open (an altered chunk): then every K of the chunks at hand are
//     tried, one spare more each time none opens. All spares are asked
//     when a stripe stalls (no K chunks within hedgeIdle of a chunk).
//   - A spare asked midway reads its shard from the start: the chunks of
//     the stripes already opened are hashed and dropped.
//   - A stripe is authenticated by its own tag under the element's key,
//     so its plaintext is sound without the shards' CIDs, which are
//     checked as the bytes pass: a shard that fails its CID at the end is
//     only reported (the audit finds its holder).

// streamAhead is how many stripes a holder's chunks may run ahead of the
// stripe being opened.
const streamAhead = 8

// maxOpenTries bounds the sets of K chunks a read tries on one stripe that
// does not open from the first.
const maxOpenTries = 64

// streamRate is the slowest a streamed shard may arrive (bytes/s) before
// its read times out.
const streamRate = 1 << 20

// streamRead is one streamed read. The consumer (streamStriped's
// goroutine) opens stripes; a reader goroutine per holder asked hands
// chunks over in ring. mu guards what follows it.
type streamRead struct {
	v      *Vault
	e      *elementEntry
	l      shard.Layout
	st     *shard.Striper
	ctx    context.Context // the readers' parent
	wg     sync.WaitGroup
	order  []int                // fetchOrder
	asked  int                  // holders asked: order[:asked]
	good   []int                // the slots that opened the last stripe
	bad    []bool               // per slot: proven to have sent an altered chunk
	stop   []context.CancelFunc // per slot: ends its reader
	notify chan struct{}

	mu      sync.Mutex
	pos     int           // the stripe being opened
	ring    [][][]byte    // [j % streamAhead][slot]: chunk j of the slot, once arrived
	reading []bool        // per slot: its reader may hand over more chunks
	free    [][]byte      // chunk memory to reuse
	moved   chan struct{} // closed when pos advances
	errs    []error
}

// streamStriped writes the plaintext of striped element e to w as it is
// opened. On error, what it wrote is authenticated plaintext, but not all.
func (v *Vault) streamStriped(ctx context.Context, e *elementEntry, w io.Writer) (err error) {
	fail := func(err error) error { return fmt.Errorf("vault: read %s: %w", e.Type, err) }
	l, err := shard.NewLayout(e.Size, e.K, e.N, e.Segment)
	if err != nil {
		return fail(err)
	}
	st, err := shard.NewStriper(e.Key, l)
	if err != nil {
		return fail(err)
	}
	r := &streamRead{
		v: v, e: e, l: l, st: st, ctx: ctx, order: fetchOrder(e),
		bad: make([]bool, e.N), stop: make([]context.CancelFunc, e.N),
		notify: make(chan struct{}, 1), ring: make([][][]byte, streamAhead),
		reading: make([]bool, e.N), moved: make(chan struct{}),
	}
	for j := range r.ring {
		r.ring[j] = make([][]byte, e.N)
	}
	// Nothing refers to the chunks or scratch once the readers are done.
	// After a read that succeeded, a holder found to have sent an altered
	// chunk is let send the rest of its shard (past the last stripe its
	// reader only hashes): once it has sent all of it, it checks the
	// shard, finds it corrupt and drops it, and the next audit repairs it.
	scratch := make([]byte, l.K*l.ChunkLen(0))
	defer func() {
		for i, stop := range r.stop {
			if stop != nil && (err != nil || !r.bad[i]) {
				stop()
			}
		}
		r.wg.Wait()
		for _, stop := range r.stop {
			if stop != nil {
				stop()
			}
		}
		r.recycle()
		clear(scratch)
	}()
	for range e.K {
		r.ask()
	}
	for j := range l.Stripes() {
		pt, err := r.open(ctx, j, scratch)
		if err != nil {
			return err
		}
		v.stripesRead.Add(1)
		if _, err := w.Write(pt); err != nil {
			return fail(fmt.Errorf("write plaintext: %w", err))
		}
		r.advance()
	}
	return nil
}

// ask starts reading the shard of the next holder in fetch order; false
// when every holder is asked.
func (r *streamRead) ask() bool {
	if r.asked == len(r.order) {
		return false
	}
	i := r.order[r.asked]
	r.asked++
	r.mu.Lock()
	r.reading[i] = true
	r.mu.Unlock()
	r.v.shardReads.Add(1)
	ctx, stop := context.WithCancel(r.ctx)
	r.stop[i] = stop
	r.wg.Go(func() { r.read(ctx, i) })
	return true
}

// open returns the plaintext of stripe j, in scratch, once K chunks of it
// open, asking spares as the rules above say.
func (r *streamRead) open(ctx context.Context, j int, scratch []byte) ([]byte, error) {
	hedge := time.NewTimer(hedgeIdle(r.l.ChunkLen(j)) * r.v.cfg.hedgeScale)
	defer hedge.Stop()
	tried := 0 // chunks at hand at the last try that failed
	for {
		if err := ctx.Err(); err != nil {
			// Before any failure it causes: the readers end with ctx.
			return nil, fmt.Errorf("vault: read %s: %w", r.e.Type, err)
		}
		have, pending := r.arrived(j)
		if len(have) > tried && len(have) >= r.l.K {
			if pt, ok := r.tryOpen(j, have, scratch); ok {
				return pt, nil
			}
			if tried == 0 {
				r.v.reopened.Add(1)
			}
			tried = len(have)
		}
		need := max(r.l.K, tried+1)
		if len(have)+pending < need && r.ask() {
			continue
		}
		if len(have)+pending < need {
			return nil, r.failed(j, len(have), tried)
		}
		select {
		case <-r.notify:
		case <-hedge.C:
			for r.ask() {
			}
		case <-ctx.Done():
		}
	}
}

// failed is the error of a read whose stripe j cannot be had.
func (r *streamRead) failed(j, have, tried int) error {
	r.mu.Lock()
	errs := errors.Join(r.errs...)
	r.mu.Unlock()
	if tried > 0 {
		return fmt.Errorf("vault: read %s: stripe %d of %d opens from none of the %d chunks that came (altered shards; `tonmesh passport audit` repairs them): %w: %w",
			r.e.Type, j+1, r.l.Stripes(), have, shard.ErrCorrupt, errs)
	}
	return fmt.Errorf("%w: %s: only %d of %d holders could send stripe %d of %d, %d needed (holders offline or shards lost; `tonmesh passport holders %s` shows which): %w",
		ErrUnavailable, r.e.Type, have, len(r.e.Shards), j+1, r.l.Stripes(), r.l.K, r.e.Type, errs)
}

// arrived lists the asked slots that hold stripe j's chunk, in fetch
// order, and counts those still reading that do not yet.
func (r *streamRead) arrived(j int) (have []int, pending int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	row := r.ring[j%streamAhead]
	for _, i := range r.order[:r.asked] {
		switch {
		case row[i] != nil:
			have = append(have, i)
		case r.reading[i]:
			pending++
		}
	}
	return have, pending
}

// tryOpen opens stripe j from K of the slots in have: the set that opened
// the stripe before (or the first K), and when that fails every other set
// of K in turn, up to maxOpenTries. A slot that is the only one of the
// failed set outside the set that opened is marked bad: its chunk was
// altered.
func (r *streamRead) tryOpen(j int, have []int, scratch []byte) ([]byte, bool) {
	r.mu.Lock()
	row := append([][]byte(nil), r.ring[j%streamAhead]...)
	r.mu.Unlock()
	chunks := make([][]byte, r.l.N)
	attempt := func(set []int) ([]byte, bool) {
		clear(chunks)
		for _, i := range set {
			chunks[i] = row[i]
		}
		pt, err := r.st.Open(j, chunks, scratch)
		return pt, err == nil
	}
	first := have[:r.l.K]
	if r.good != nil && subset(r.good, have) {
		first = r.good
	}
	if pt, ok := attempt(first); ok {
		r.good = append(r.good[:0], first...)
		return pt, true
	}
	failed := append([]int(nil), first...)
	tries := 0
	var pt []byte
	ok := false
	combinations(have, r.l.K, func(set []int) bool {
		tries++
		if pt, ok = attempt(set); ok {
			r.good = append(r.good[:0], set...)
		}
		return !ok && tries < maxOpenTries
	})
	if ok {
		if out := missing(failed, r.good); len(out) == 1 {
			r.bad[out[0]] = true
		}
	}
	return pt, ok
}

// advance moves on from the stripe just opened: its chunks' memory is
// reused, and readers waiting for room go on.
func (r *streamRead) advance() {
	r.mu.Lock()
	defer r.mu.Unlock()
	row := r.ring[r.pos%streamAhead]
	for i, b := range row {
		if b != nil {
			r.free = append(r.free, b[:cap(b)])
			row[i] = nil
		}
	}
	r.pos++
	close(r.moved)
	r.moved = make(chan struct{})
}

// read reads slot i's shard and hands its chunks over.
func (r *streamRead) read(ctx context.Context, i int) {
	err := r.readShard(ctx, i)
	r.mu.Lock()
	r.reading[i] = false
	if err != nil {
		r.errs = append(r.errs, err)
	}
	r.mu.Unlock()
	if errors.Is(err, shard.ErrCorrupt) {
		r.v.log.Warn("shard of a read is corrupt", "type", r.e.Type, "shard", i, "holder", r.e.Shards[i].Holder, "err", err)
	}
	r.signal()
}

func (r *streamRead) readShard(ctx context.Context, i int) error {
	s := r.e.Shards[i]
	size := r.l.ShardLen()
	ctx, cancel := context.WithTimeout(ctx, transferTimeout+time.Duration(size)*time.Second/streamRate)
	defer cancel()
	sr, err := shard.OpenGet(ctx, r.v.net, s.Holder, s.CID)
	if err != nil {
		return err
	}
	defer sr.Close()
	if sr.Size() != size {
		return fmt.Errorf("vault: shard %s from %s is %d bytes, want %d: %w", s.CID, s.Holder, sr.Size(), size, shard.ErrCorrupt)
	}
	var skip []byte
	for j := range r.l.Stripes() {
		c := r.l.ChunkLen(j)
		b, err := r.room(ctx, j)
		if err != nil {
			return err
		}
		if b == nil { // stripe j is opened already
			if skip == nil {
				skip = make([]byte, r.l.ChunkLen(0))
			}
			if err := sr.ReadFull(skip[:c]); err != nil {
				return err
			}
			continue
		}
		if err := sr.ReadFull(b[:c]); err != nil {
			r.deliver(i, -1, b)
			return err
		}
		r.deliver(i, j, b[:c])
	}
	if !sr.Verified() {
		return fmt.Errorf("vault: shard %s from %s does not match its CID: %w", s.CID, s.Holder, shard.ErrCorrupt)
	}
	return nil
}

// room waits until stripe j is within streamAhead of the stripe being
// opened and returns memory for its chunk, or nil when j is opened
// already.
func (r *streamRead) room(ctx context.Context, j int) ([]byte, error) {
	r.mu.Lock()
	for j >= r.pos+streamAhead {
		moved := r.moved
		r.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	if j < r.pos {
		return nil, nil
	}
	if n := len(r.free); n > 0 {
		b := r.free[n-1]
		r.free = r.free[:n-1]
		return b, nil
	}
	r.v.readChunks.Add(1)
	return r.v.chunks.getCap(r.l.ChunkLen(0))[:r.l.ChunkLen(0)], nil
}

// recycle hands the chunks' memory back to the vault's pool, once the
// readers are done.
func (r *streamRead) recycle() {
	for _, b := range r.free {
		r.v.chunks.put(b)
	}
	for _, row := range r.ring {
		for _, b := range row {
			if b != nil {
				r.v.chunks.put(b)
			}
		}
	}
}

// deliver hands chunk j of slot i over, or its memory back when the
// stripe is opened already (or j is -1).
func (r *streamRead) deliver(i, j int, b []byte) {
	r.mu.Lock()
	if j >= r.pos {
		r.ring[j%streamAhead][i] = b
	} else {
		r.free = append(r.free, b[:cap(b)])
	}
	r.mu.Unlock()
	r.signal()
}

func (r *streamRead) signal() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// subset reports whether every element of a is in b.
func subset(a, b []int) bool { return len(missing(a, b)) == 0 }

// missing lists the elements of a that are not in b.
func missing(a, b []int) []int {
	var out []int
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// combinations calls fn with every k-element subset of set, in order, as
// long as fn returns true. fn must not keep the slice.
func combinations(set []int, k int, fn func([]int) bool) {
	pick := make([]int, 0, k)
	var walk func(from int) bool
	walk = func(from int) bool {
		if len(pick) == k {
			return fn(pick)
		}
		for i := from; i <= len(set)-(k-len(pick)); i++ {
			pick = append(pick, set[i])
			more := walk(i + 1)
			pick = pick[:len(pick)-1]
			if !more {
				return false
			}
		}
		return true
	}
	walk(0)
}
