package vault

import "sync"

// maxPooled bounds the buffers kept for reuse: the largest an element's
// shards need (a 10 MiB element in 4 of 6 shards takes about 16 MiB to
// read whole; a striped put's ring of stripes takes 12 MiB, whatever the
// element's size).
const maxPooled = 64 << 20

// bufPool recycles the memory of an element's shards between Adds (the
// shards are sealed and split in it) and reads (they are fetched and
// decrypted in it), so that a large element does not cost a fresh, zeroed
// allocation of its size, and its garbage, every time. A buffer is put
// back only holding ciphertext or zeros: Add's shards are sealed in place
// (a striped put's ring is cleared if sealing stops midway); a read's
// shard buffer is cleared by shard.Buffer.Release once its plaintext is
// written out, and Element's plaintext memory is handed over to the
// element it decoded (the files stay there), or cleared if the read
// fails. The zero value is ready to use.
type bufPool struct{ p sync.Pool }

// get returns a buffer to reuse, or nil.
func (bp *bufPool) get() []byte {
	if p, ok := bp.p.Get().(*[]byte); ok {
		return *p
	}
	return nil
}

// getCap returns a buffer of at least n bytes of capacity, reused or new.
func (bp *bufPool) getCap(n int) []byte {
	if b := bp.get(); cap(b) >= n {
		return b[:0]
	} else if b != nil {
		bp.put(b)
	}
	return make([]byte, 0, n)
}

// put keeps b for reuse once nothing refers to it any more.
func (bp *bufPool) put(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooled {
		return
	}
	bp.p.Put(&b)
}
