package vault

import (
	"context"
	"fmt"

	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// readStriped reads a striped element. K shards are fetched as for any
// element (fetch.go: each hashed as it arrives, spares asked when needed),
// and meanwhile each stripe is opened as soon as K of its chunks have
// arrived: a stripe is authenticated by its own tag under the element's
// key, so its plaintext is sound before the shards' CIDs are checked. A
// stripe that does not open from the chunks that came first (one from a
// holder whose shard then fails its check) is opened again, with those
// after it, from the shards that passed, once K are in. The plaintext is
// opened in place into memory of its own, handed over to the element (its
// files stay there); the shards' memory, which holds only ciphertext, goes
// back to the pool.
func (v *Vault) readStriped(ctx context.Context, e *elementEntry) (*passport.Element, error) {
	fail := func(err error) (*passport.Element, error) { return nil, fmt.Errorf("vault: read %s: %w", e.Type, err) }
	l, err := shard.NewLayout(e.Size, e.K, e.N, e.Segment)
	if err != nil {
		return fail(err)
	}
	st, err := shard.NewStriper(e.Key, l)
	if err != nil {
		return fail(err)
	}
	buf, err := v.newBuffer(e)
	if err != nil {
		return nil, err
	}
	defer func() { v.bufs.put(buf.Recycle()) }()
	wake := make(chan struct{}, 1)
	progress := make([]*shard.Progress, e.N)
	for i := range progress {
		progress[i] = shard.NewProgress(func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
	}
	dst := v.bufs.getCap(l.OpenLen())
	fetched := make(chan struct{})
	opened := make(chan int, 1)
	go func() { opened <- openArriving(st, l, buf, progress, dst, wake, fetched) }()
	err = v.fetchInto(ctx, e, e.K, buf, progress)
	close(fetched)
	from := <-opened // the opener no longer reads buf nor writes dst
	drop := func() {
		clear(dst[:cap(dst)])
		v.bufs.put(dst)
	}
	if err != nil {
		drop()
		return nil, err
	}
	shards := buf.Shards()
	v.reopened.Add(int64(l.Stripes() - from))
	for j := from; j < l.Stripes() && err == nil; j++ {
		err = st.OpenStripeInto(dst, j, st.ChunksOf(shards, j))
	}
	if err == nil {
		plain := st.Opened(dst)
		var el *passport.Element
		if el, err = passport.UnmarshalElementIn(plain[:len(plain):len(plain)]); err == nil {
			return el, nil
		}
		err = fmt.Errorf("the decrypted element does not decode: %w", err)
	}
	drop()
	return fail(err)
}

// openArriving opens the stripes of l into dst in order, each as soon as K
// slots of buf hold its chunks (data slots first: they need no
// reconstruction), waiting on wake for more to arrive. It stops at the
// first stripe that does not open, or that has not arrived once fetched is
// closed, and returns how many it opened.
func openArriving(st *shard.Striper, l shard.Layout, buf *shard.Buffer, progress []*shard.Progress, dst []byte, wake, fetched <-chan struct{}) int {
	chunks := make([][]byte, l.N)
	for j := range l.Stripes() {
		for !arrived(l, buf, progress, j, chunks) {
			select {
			case <-wake:
			case <-fetched:
				if !arrived(l, buf, progress, j, chunks) {
					return j
				}
			}
		}
		if st.OpenStripeInto(dst, j, chunks) != nil {
			return j
		}
	}
	return l.Stripes()
}

// arrived reports whether K slots hold stripe j's chunk, and sets chunks
// to them (nil for the others), data slots first.
func arrived(l shard.Layout, buf *shard.Buffer, progress []*shard.Progress, j int, chunks [][]byte) bool {
	off, c := l.Offset(j), l.ChunkLen(j)
	n := 0
	for i := range chunks {
		chunks[i] = nil
		if n < l.K && progress[i].Load() >= off+c {
			// The slot exists: its fetch asked for it before any byte came.
			chunks[i] = buf.Slot(i)[off : off+c : off+c]
			n++
		}
	}
	return n == l.K
}
