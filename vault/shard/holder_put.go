package shard

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/p2p"
)

// servePut runs the holder's side of a put: refuse early what is oversize
// or over quota, acknowledge at once a shard already held under the same
// delete key, else take the data, check it against the CID, store it
// durably and only then sign the receipt.
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
		if _, fail := h.intact(q.CID); fail == nil {
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
		if fail := h.reserve(q.CID, q.Size); fail != nil {
			return h.answer(s, opPut, fail)
		}
		defer h.release(q.CID)
	}
	if err := h.answer(s, opPut, &response{Status: statusContinue}); err != nil {
		return err
	}
	data, err := p2p.ReadFrame(s, q.Size)
	if err != nil {
		return fmt.Errorf("receive shard %s from %s: %w", q.CID, from, err)
	}
	if len(data) != q.Size || !CheckCID(q.CID, data) {
		return h.answer(s, opPut, &response{Status: statusCorrupt, Reason: fmt.Sprintf(
			"the %d bytes sent do not match shard %s of %d bytes", len(data), q.CID, q.Size)})
	}
	if fail := h.commit(q, data, reserved); fail != nil {
		return h.answer(s, opPut, fail)
	}
	h.log.Debug("shard stored", "cid", q.CID, "size", q.Size, "from", from)
	return h.answer(s, opPut, h.receipt(q))
}

// reserve sets size bytes of the quota aside for a transfer of c. Puts of
// the same shard in transfer at once share one reservation.
func (h *Holder) reserve(c cid.Cid, size int) *response {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := c.KeyString()
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

// release ends one transfer's share of c's reservation (the shard was
// stored, or not).
func (h *Holder) release(c cid.Cid) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := c.KeyString()
	f := h.inflight[k]
	if f.puts--; f.puts == 0 {
		delete(h.inflight, k)
		h.reserved -= int64(f.size)
	}
}

// commit stores the shard, or adds the delete key of q to a shard held
// already, durably. reserved tells whether quota was set aside for a new
// shard.
func (h *Holder) commit(q *request, data []byte, reserved bool) *response {
	h.commitMu.Lock()
	defer h.commitMu.Unlock()
	m, err := h.store.meta(q.CID)
	switch {
	case err == nil && m.hasKey(q.DeleteKey):
		return nil // a concurrent put of the same shard and key won
	case err == nil:
		if len(m.Keys) >= maxDeleteKeys {
			return &response{Status: statusRefused, Reason: fmt.Sprintf(
				"shard %s already has %d delete keys, the most a holder keeps", q.CID, maxDeleteKeys)}
		}
		m.Keys = append(slices.Clone(m.Keys), slices.Clone(q.DeleteKey))
		if err := h.store.setMeta(q.CID, m); err != nil {
			h.log.Error("add delete key", "cid", q.CID, "err", err)
			return &response{Status: statusError, Reason: "storing the shard failed on the holder"}
		}
		return nil
	case !errors.Is(err, ErrNotFound):
		h.log.Error("read shard meta", "cid", q.CID, "err", err)
		return &response{Status: statusError, Reason: "storing the shard failed on the holder"}
	}
	if !reserved {
		// Held under another key when the put began, deleted since: it
		// needs quota that was not reserved.
		return &response{Status: statusError, Reason: "the shard was deleted during the put: put it again"}
	}
	m = &meta{Size: len(data), Stored: time.Now(), Keys: []ed25519.PublicKey{slices.Clone(q.DeleteKey)}}
	if err := h.store.put(q.CID, m, data); err != nil {
		h.log.Error("store shard", "cid", q.CID, "err", err)
		return &response{Status: statusError, Reason: "storing the shard failed on the holder"}
	}
	h.mu.Lock()
	h.shards++
	h.used += int64(len(data))
	h.mu.Unlock()
	return nil
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
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig) {
			return true
		}
	}
	return false
}
