package shard

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/p2p"
)

// servePut runs the holder's side of a put: refuse early what is oversize
// or over quota, acknowledge at once a shard already held under the same
// delete key, else take the data (hashing it as it arrives; a large shard
// goes straight to its file), check it against the CID, have the committer
// store it durably and only then sign the receipt.
func (h *Holder) servePut(s network.Stream, from peer.ID, q *request) error {
	if q.Size > h.cfg.MaxShard {
		return h.answer(s, opPut, &response{Status: statusTooLarge, Reason: fmt.Sprintf(
			"a shard of %d bytes exceeds this holder's limit of %d bytes: split the element into more shards", q.Size, h.cfg.MaxShard)})
	}
	m, err := h.store.meta(q.CID)
	switch {
	case err == nil && m.Size != q.Size:
		return h.answer(s, opPut, &response{Status: statusCorrupt, Reason: fmt.Sprintf(
			"shard %s is %d bytes, not %d", q.CID, m.Size, q.Size)})
	case err == nil && m.hasKey(q.DeleteKey):
		if x, fail := h.intact(q.CID, checkFile); fail == nil {
			x.close()
			return h.answer(s, opPut, h.receipt(q))
		}
		m = nil // it was corrupted and dropped: take it again
	case err == nil:
		// Held under another delete key: the data proves the sender
		// has the shard before its key is added.
	case errors.Is(err, ErrNotFound):
		m = nil
	default:
		h.log.Error("read shard meta", "cid", q.CID, "err", err)
		return h.answer(s, opPut, &response{Status: statusError, Reason: "reading the holder's store failed"})
	}

	reserved := m == nil
	if reserved {
		if fail := h.reserve(q.CID.KeyString(), q.Size); fail != nil {
			return h.answer(s, opPut, fail)
		}
		defer h.release(q.CID.KeyString())
	}
	if err := h.answer(s, opPut, &response{Status: statusContinue}); err != nil {
		return err
	}
	p := &pendingCommit{q: q, reserved: reserved, flight: q.CID.KeyString(), res: make(chan *response, 1)}
	ok, err := h.receive(s, q, p)
	if err != nil {
		return fmt.Errorf("receive shard %s from %s: %w", q.CID, from, err)
	}
	if !ok {
		return h.answer(s, opPut, &response{Status: statusCorrupt, Reason: fmt.Sprintf(
			"the bytes sent do not match shard %s of %d bytes", q.CID, q.Size)})
	}
	h.queue <- p
	if fail := <-p.res; fail != nil {
		return h.answer(s, opPut, fail)
	}
	h.log.Debug("shard stored", "cid", q.CID, "size", q.Size, "from", from)
	return h.answer(s, opPut, h.receipt(q))
}

// receive reads the data frame of a put into p: a small shard into memory,
// a large one into a fresh part file, fsynced, hashing it on the way. It
// reports whether the bytes match q's CID; nothing is left on disk unless
// they do.
func (h *Holder) receive(s network.Stream, q *request, p *pendingCommit) (bool, error) {
	hh := newCIDHash(q.CID)
	ok, err := h.receiveData(s, q.Size, q.CID.String(), hh, p)
	if !ok || err != nil {
		return false, err
	}
	if !bytes.Equal(hh.Sum(nil), digestOf(q.CID)) {
		p.discard()
		return false, nil
	}
	return true, nil
}

// receiveData reads a data frame of size bytes into p (memory or an
// fsynced part file named after name), writing it to hh too. It reports
// false when the frame has another length; on error or false nothing is
// left on disk.
func (h *Holder) receiveData(s io.Reader, size int, name string, hh io.Writer, p *pendingCommit) (bool, error) {
	n, err := readUvarint(s)
	if err != nil {
		return false, fmt.Errorf("read frame length: %w", err)
	}
	if n != uint64(size) {
		return false, nil
	}
	if size <= inlineMax {
		p.data = make([]byte, size)
		if _, err := io.ReadFull(s, p.data); err != nil {
			return false, err
		}
		hh.Write(p.data)
		return true, nil
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return false, err
	}
	part := filepath.Join(h.store.dir, name+"."+hex.EncodeToString(rnd[:])+partSuffix)
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(part)
		}
	}()
	buf := getCopyBuf()
	defer putCopyBuf(buf)
	var written, flushed int64
	for left := size; left > 0; {
		k, err := io.ReadFull(s, buf[:min(left, len(buf))])
		if err != nil {
			return false, err
		}
		hh.Write(buf[:k])
		if _, err := f.Write(buf[:k]); err != nil {
			return false, err
		}
		left -= k
		// Let the disk take what has arrived while the rest arrives.
		if written += int64(k); written-flushed >= writebackChunk || left == 0 {
			startWriteback(f, flushed, written-flushed)
			flushed = written
		}
	}
	// Synced before the bytes are checked against their CID (a mismatch
	// is rare): a streamed put's sender sends its trailer meanwhile.
	if err := f.Sync(); err != nil {
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	ok, p.part = true, part
	return true, nil
}

// readUvarint reads a minimal uvarint one byte at a time, so that it never
// consumes bytes past it.
func readUvarint(r io.Reader) (uint64, error) {
	var buf [10]byte
	for i := range buf {
		if _, err := io.ReadFull(r, buf[i:i+1]); err != nil {
			if errors.Is(err, io.EOF) && i > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if buf[i] < 0x80 {
			v, _, err := wire.ParseUvarint(buf[:i+1])
			return v, err
		}
	}
	return 0, errors.New("varint overflows 64 bits")
}

// reserve sets size bytes of the quota aside for a transfer under the
// flight key k (a CID's key string, or a streamed put's own). Puts of the
// same shard in transfer at once share one reservation.
func (h *Holder) reserve(k string, size int) *response {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f, ok := h.inflight[k]; ok {
		if f.size != size {
			// Only one of the two sizes can match the CID.
			return &response{Status: statusError, Reason: "another put of this shard, with another size, is in progress: try again later"}
		}
		f.puts++
		return nil
	}
	if h.used+h.reserved+int64(size) > h.cfg.Quota {
		return &response{Status: statusQuota, Reason: fmt.Sprintf(
			"a shard of %d bytes does not fit: this holder keeps %d of its %d-byte quota (%d more in transfer); choose another holder",
			size, h.used, h.cfg.Quota, h.reserved)}
	}
	h.inflight[k] = &flight{size: size, puts: 1}
	h.reserved += int64(size)
	return nil
}

// release ends one transfer's share of the reservation under k (the shard
// was stored, or not).
func (h *Holder) release(k string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.inflight[k]
	if f.puts--; f.puts == 0 {
		delete(h.inflight, k)
		if !f.stored {
			h.reserved -= int64(f.size)
		}
	}
}

// receipt signs the holder's receipt for q's shard.
func (h *Holder) receipt(q *request) *response {
	r, err := signReceipt(h.key, h.self, q.CID, q.Size, time.Now())
	if err != nil {
		h.log.Error("sign receipt", "cid", q.CID, "err", err)
		return &response{Status: statusError, Reason: "signing the receipt failed on the holder"}
	}
	return &response{Status: statusOK, Receipt: r.Marshal()}
}

// verifyAny reports whether sig is a valid signature of msg by one of keys.
func verifyAny(keys []ed25519.PublicKey, msg, sig []byte) bool {
	for _, k := range keys {
		if edverify.Verify(k, msg, sig) {
			return true
		}
	}
	return false
}

// servePutStream runs the holder's side of a streamed put: refuse early
// what is oversize or over quota, take the data as it comes (into memory
// or its part file, hashed with BLAKE3 on the way), then the CID trailer;
// only bytes that match it are committed, under the trailer's delete key, durably, before the receipt is
// signed. The quota is reserved under a key of this put's own, as the CID
// is not known before the end.
func (h *Holder) servePutStream(s network.Stream, from peer.ID, q *request) error {
	if q.Size > h.cfg.MaxShard {
		return h.answer(s, opPutStream, &response{Status: statusTooLarge, Reason: fmt.Sprintf(
			"a shard of %d bytes exceeds this holder's limit of %d bytes: split the element into more shards", q.Size, h.cfg.MaxShard)})
	}
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return h.answer(s, opPutStream, &response{Status: statusError, Reason: "the holder could not draw a transfer ID"})
	}
	flight := "stream:" + string(rnd[:])
	if fail := h.reserve(flight, q.Size); fail != nil {
		return h.answer(s, opPutStream, fail)
	}
	defer h.release(flight)
	if err := h.answer(s, opPutStream, &response{Status: statusContinue}); err != nil {
		return err
	}
	p := &pendingCommit{q: q, reserved: true, flight: flight, res: make(chan *response, 1)}
	hh := newStreamHasher()
	ok, err := h.receiveData(s, q.Size, "stream."+hex.EncodeToString(rnd[:8]), hh, p)
	if err != nil {
		return fmt.Errorf("receive streamed shard from %s: %w", from, err)
	}
	if !ok {
		return h.answer(s, opPutStream, &response{Status: statusCorrupt, Reason: fmt.Sprintf(
			"the data frame is not the %d bytes announced", q.Size)})
	}
	tr, err := p2p.ReadFrame(s, 1+maxCIDLen+ed25519.PublicKeySize)
	if err != nil {
		p.discard()
		return fmt.Errorf("receive the trailer of a streamed shard from %s: %w", from, err)
	}
	c, key, err := decodeTrailer(tr)
	if err != nil {
		p.discard()
		return h.answer(s, opPutStream, &response{Status: statusRefused, Reason: err.Error()})
	}
	if !bytes.Equal(hh.Sum(nil), digestOf(c)) {
		p.discard()
		return h.answer(s, opPutStream, &response{Status: statusCorrupt, Reason: fmt.Sprintf(
			"the bytes sent do not match shard %s of %d bytes", c, q.Size)})
	}
	q.CID, q.DeleteKey = c, key
	h.queue <- p
	if fail := <-p.res; fail != nil {
		return h.answer(s, opPutStream, fail)
	}
	h.log.Debug("streamed shard stored", "cid", c, "size", q.Size, "from", from)
	return h.answer(s, opPutStream, h.receipt(q))
}
