package shard

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
)

// maxRound bounds the puts that one commit round takes.
const maxRound = 128

// pendingCommit is one received, checked put waiting for the committer.
type pendingCommit struct {
	q        *request
	data     []byte // a small shard's bytes
	part     string // a large shard's fsynced part file
	reserved bool   // quota was set aside for a new shard
	flight   string // key of that reservation in Holder.inflight
	res      chan *response
}

// discard removes what p received (a part file), for a put that is not
// committed.
func (p *pendingCommit) discard() {
	if p.part != "" {
		os.Remove(p.part)
		p.part = ""
	}
	p.data = nil
}

// commitLoop is the holder's committer: it takes the first waiting put,
// then every other one already queued (up to maxRound), stores them all
// with one fsync of the shard directory and one synced batch, and answers
// each put only then, so that a receipt is never signed for a shard that
// is not durable. It exits when Stop closes the queue.
func (h *Holder) commitLoop() {
	defer close(h.commitDone)
	round := make([]*pendingCommit, 0, maxRound)
	for first := range h.queue {
		round = append(round[:0], first)
	fill:
		for len(round) < maxRound {
			select {
			case p, ok := <-h.queue:
				if !ok {
					break fill
				}
				round = append(round, p)
			default:
				break fill
			}
		}
		h.commitRound(round)
		clear(round)
	}
}

// commitRound stores the round's new shards and adds the delete keys of
// shards held already, durably, then answers every put: nil for stored.
func (h *Holder) commitRound(round []*pendingCommit) {
	h.commitMu.Lock()
	defer h.commitMu.Unlock()
	b := h.store.sp.NewBatch()
	results := make([]*response, len(round))
	after := make(map[string]*meta, len(round)) // CID key → meta once the round is committed
	var (
		renamed     []string // files moved into place this round
		added       []string // flight keys of the shards new this round
		addedBytes  int64
		renameError error
	)
	for i, p := range round {
		k := p.q.CID.KeyString()
		m, seen := after[k]
		if !seen {
			var err error
			if m, err = h.store.meta(p.q.CID); err != nil && !errors.Is(err, ErrNotFound) {
				h.log.Error("read shard meta", "cid", p.q.CID, "err", err)
				results[i] = &response{Status: statusError, Reason: "storing the shard failed on the holder"}
				continue
			}
		}
		switch {
		case m != nil && m.hasKey(p.q.DeleteKey):
			// A concurrent put of the same shard and key won.
		case m != nil && len(m.Keys) >= maxDeleteKeys:
			results[i] = &response{Status: statusRefused, Reason: fmt.Sprintf(
				"shard %s already has %d delete keys, the most a holder keeps", p.q.CID, maxDeleteKeys)}
		case m != nil:
			m = &meta{Size: m.Size, Stored: m.Stored, File: m.File, Keys: append(slices.Clone(m.Keys), slices.Clone(p.q.DeleteKey))}
			b.Set(metaKey(p.q.CID), m.encode())
		case !p.reserved:
			// Held under another key when the put began, deleted since: it
			// needs quota that was not reserved.
			results[i] = &response{Status: statusError, Reason: "the shard was deleted during the put: put it again"}
		default:
			m = &meta{Size: p.q.Size, Stored: time.Now(), Keys: []ed25519.PublicKey{slices.Clone(p.q.DeleteKey)}, File: p.part != ""}
			if m.File {
				if err := os.Rename(p.part, h.store.path(p.q.CID)); err != nil {
					renameError = err
					results[i] = &response{Status: statusError, Reason: "storing the shard failed on the holder"}
					m = nil
					break
				}
				p.part = ""
				renamed = append(renamed, h.store.path(p.q.CID))
			} else {
				b.Set(dataKey(p.q.CID), p.data)
			}
			b.Set(metaKey(p.q.CID), m.encode())
			added = append(added, p.flight)
			addedBytes += int64(m.Size)
		}
		if m != nil {
			after[k] = m
		}
	}
	if renameError != nil {
		h.log.Error("move shard file into place", "err", renameError)
	}
	if err := h.commitBatch(b, len(renamed) > 0); err != nil {
		h.log.Error("store shards", "puts", len(round), "err", err)
		for _, f := range renamed {
			os.Remove(f)
		}
		for i := range results {
			if results[i] == nil {
				results[i] = &response{Status: statusError, Reason: "storing the shard failed on the holder"}
			}
		}
	} else if len(added) > 0 {
		h.mu.Lock()
		h.shards += len(added)
		h.used += addedBytes
		for _, k := range added {
			// The bytes count in used now: release their reservation here,
			// not when the put's handler ends after its answer.
			if f := h.inflight[k]; f != nil && !f.stored {
				f.stored = true
				h.reserved -= int64(f.size)
			}
		}
		h.mu.Unlock()
	}
	for i, p := range round {
		if p.part != "" { // not moved into place: not needed
			os.Remove(p.part)
		}
		p.res <- results[i]
	}
}

// commitBatch makes the round durable: the directory (for renamed files)
// first, then the batch of metas and small shards.
func (h *Holder) commitBatch(b *ledger.Batch, syncDir bool) error {
	if syncDir {
		if err := h.store.syncDir(); err != nil {
			return err
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return b.Commit()
}
