package vault

import "sync"

// maxPooled bounds the buffers kept for reuse: the largest an element's
// shards need (a 10 MiB element in 4 of 6 shards takes about 16 MiB).
const maxPooled = 64 << 20

// shardBufs recycles the memory of an element's shards between Adds (the
// shards are sealed and split in it) and reads (they are fetched and
// decrypted in it), so that a large element does not cost a fresh, zeroed
// allocation of its size, and its garbage, every time. A buffer is put
// back only holding ciphertext: Add's shards are sealed in place; a read
// hands its buffer over to the element it decoded (the files stay in the
// plaintext there), and a failed read's buffer is cleared by
// shard.Buffer.Release.
var shardBufs sync.Pool

// getShardBuf returns a buffer to reuse, or nil.
func getShardBuf() []byte {
	if p, ok := shardBufs.Get().(*[]byte); ok {
		return *p
	}
	return nil
}

// putShardBuf keeps b for reuse once nothing refers to it any more.
func putShardBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooled {
		return
	}
	shardBufs.Put(&b)
}
