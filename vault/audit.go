package vault

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// HolderView is one shard of an element and how its holder answered a live
// check.
type HolderView struct {
	Index     int    `json:"index"`
	CID       string `json:"cid"`
	Peer      string `json:"peer"`
	Reachable bool   `json:"reachable"` // the holder proved it has the shard
	Status    string `json:"status"`    // ok, unreachable or lost
	// AwaySince: the holder has not answered any check since then (it is
	// replaced once that is Config.ReplaceAfter ago).
	AwaySince time.Time `json:"away_since,omitzero"`
	Error     string    `json:"error,omitempty"`
}

// AuditReport sums up one audit pass.
type AuditReport struct {
	Elements    int            `json:"elements"`
	Shards      int            `json:"shards"`
	Healthy     int            `json:"healthy"`     // passed the check
	Unreachable int            `json:"unreachable"` // the holder did not answer
	Lost        int            `json:"lost"`        // the holder lacks the shard, or it is corrupt
	Repaired    int            `json:"repaired"`    // rebuilt and placed on a new peer
	Items       []ElementAudit `json:"items"`
}

// ElementAudit is the audit of one element.
type ElementAudit struct {
	Type        passport.ElementType `json:"type"`
	Healthy     int                  `json:"healthy"`
	Unreachable int                  `json:"unreachable"`
	Lost        int                  `json:"lost"`
	Repaired    int                  `json:"repaired"`
	Error       string               `json:"error,omitempty"` // why a needed repair did not (fully) happen
}

// shardCheck is the outcome of checking one shard.
type shardCheck struct {
	index  int
	cid    cid.Cid
	holder peer.ID
	status shardStatus
	err    error
	data   []byte    // the shard, when the check fetched it
	away   time.Time // since when the holder has not answered (zero: it did now)
}

// challenge is a reserved audit nonce of one shard.
type challenge struct {
	index    int
	cid      cid.Cid
	holder   peer.ID
	nonceIdx uint64
	expect   [answerLen]byte
	fetch    bool // no precomputed answer left: fetch the shard instead
	prove    bool // a BLAKE3 shard: ask for a proof of storage
	size     int  // the shard's length
}

// reserve takes the next challenge of every shard of the element (t, key)
// and durably advances the counters, so that no nonce is used twice.
func (v *Vault) reserve(t passport.ElementType, key [32]byte) ([]challenge, [32]byte, error) {
	var (
		out  []challenge
		seed [32]byte
	)
	err := v.update(func(m *manifest) (bool, error) {
		e := m.element(t)
		if e == nil || e.Key != key {
			return false, fmt.Errorf("%w: %s (deleted or replaced meanwhile)", ErrNotFound, t)
		}
		seed = e.Seed
		changed := false
		for i, s := range e.Shards {
			c := challenge{index: i, cid: s.CID, holder: s.Holder, nonceIdx: s.Next, size: shard.ShardLen(e.EncSize, e.K)}
			switch {
			case shard.Provable(s.CID):
				c.prove = true
				s.Next++
				changed = true
			case len(s.Answers) == 0:
				c.fetch = true
			default:
				c.expect = s.Answers[0]
				s.Answers = s.Answers[1:]
				s.Next++
				changed = true
			}
			out = append(out, c)
		}
		return changed, nil
	})
	return out, seed, err
}

// check runs the reserved challenges in parallel: a proof of storage of a
// BLAKE3 shard, a challenge where an answer is precomputed, else a fetch
// checked against the CID.
func (v *Vault) check(ctx context.Context, cs []challenge, seed [32]byte) []shardCheck {
	out := make([]shardCheck, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = v.checkOne(ctx, c, seed)
		}()
	}
	wg.Wait()
	return out
}

func (v *Vault) checkOne(ctx context.Context, c challenge, seed [32]byte) shardCheck {
	r := shardCheck{index: c.index, cid: c.cid, holder: c.holder, status: statusOK}
	if c.prove {
		cctx, cancel := context.WithTimeout(ctx, challengeTimeout)
		defer cancel()
		r.err = shard.Prove(cctx, v.net, c.holder, c.cid, c.size, challengeNonce(seed, c.cid, c.nonceIdx))
	} else if c.fetch {
		gctx, cancel := context.WithTimeout(ctx, transferTimeout)
		defer cancel()
		r.data, r.err = shard.Get(gctx, v.net, c.holder, c.cid)
	} else {
		cctx, cancel := context.WithTimeout(ctx, challengeTimeout)
		defer cancel()
		var ans [32]byte
		ans, r.err = shard.Challenge(cctx, v.net, c.holder, c.cid, challengeNonce(seed, c.cid, c.nonceIdx))
		if r.err == nil && subtle.ConstantTimeCompare(ans[:answerLen], c.expect[:]) != 1 {
			r.err = fmt.Errorf("holder %s answered the challenge for shard %s wrongly: its copy is corrupt or gone", c.holder, c.cid)
			r.status = statusLost
			return r
		}
	}
	switch {
	case r.err == nil:
	case errors.Is(r.err, shard.ErrNotFound), errors.Is(r.err, shard.ErrCorrupt), errors.Is(r.err, shard.ErrBadProof):
		r.status = statusLost
	default:
		r.status = statusUnreachable
	}
	return r
}

// checkElement checks every shard of the element (t, key) and records the
// outcome (and fresh answers for shards it had to fetch) in the manifest.
func (v *Vault) checkElement(ctx context.Context, t passport.ElementType, key [32]byte) ([]shardCheck, error) {
	cs, seed, err := v.reserve(t, key)
	if err != nil {
		return nil, err
	}
	res := v.check(ctx, cs, seed)
	fresh := make(map[int][][answerLen]byte)
	for _, r := range res {
		if r.data != nil {
			fresh[r.index] = answers(seed, r.cid, cs[r.index].nonceIdx, r.data)
		}
	}
	now := time.UnixMilli(time.Now().UnixMilli())
	err = v.update(func(m *manifest) (bool, error) {
		e := m.element(t)
		if e == nil || e.Key != key {
			return false, nil
		}
		for i, r := range res {
			s := e.Shards[r.index]
			if !s.CID.Equals(r.cid) || s.Holder != r.holder {
				continue
			}
			s.Status = r.status
			switch {
			case r.status != statusUnreachable:
				s.Away = time.Time{}
			case s.Away.IsZero():
				s.Away = now
			}
			res[i].away = s.Away
			if a, ok := fresh[r.index]; ok && s.Next == cs[r.index].nonceIdx {
				s.Answers = a
			}
		}
		e.Audited = now
		return true, nil
	})
	return res, err
}

// Holders checks every shard of the element of type t live and reports who
// holds it and whether the holder proved it.
func (v *Vault) Holders(ctx context.Context, t passport.ElementType) ([]HolderView, error) {
	if err := typeOf(t); err != nil {
		return nil, err
	}
	v.mu.Lock()
	e := v.man.element(t)
	var key [32]byte
	if e != nil {
		key = e.Key
	}
	v.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, t)
	}
	res, err := v.checkElement(ctx, t, key)
	if err != nil {
		return nil, fmt.Errorf("vault: holders of %s: %w", t, err)
	}
	v.kickPublish()
	out := make([]HolderView, len(res))
	for i, r := range res {
		out[i] = HolderView{Index: r.index, CID: r.cid.String(), Peer: r.holder.String(), Reachable: r.status == statusOK, Status: r.status.String(), AwaySince: r.away}
		if r.err != nil {
			out[i].Error = r.err.Error()
		}
	}
	return out, nil
}

// Audit checks every shard of every element once and repairs the elements
// that need it: fewer than RepairThreshold shards passing, or any shard
// lost. The audit loop calls it every AuditInterval.
func (v *Vault) Audit(ctx context.Context) (*AuditReport, error) {
	v.auditMu.Lock()
	defer v.auditMu.Unlock()
	snap := v.snapshot()
	rep := &AuditReport{Elements: len(snap.Elements), Items: []ElementAudit{}}
	repaired := false
	for _, e := range snap.Elements {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("vault: audit interrupted: %w", err)
		}
		item := v.auditElement(ctx, e)
		repaired = repaired || item.Repaired > 0
		rep.Shards += e.N
		rep.Healthy += item.Healthy
		rep.Unreachable += item.Unreachable
		rep.Lost += item.Lost
		rep.Repaired += item.Repaired
		rep.Items = append(rep.Items, item)
	}
	if len(snap.Elements) > 0 {
		// The challenge counters moved, and maybe holders: the DHT copy
		// follows, so a restored manifest does not reuse many nonces.
		v.publishNow(ctx)
	}
	if repaired {
		v.log.Info("vault repaired", "shards", rep.Repaired)
	}
	return rep, nil
}

// auditElement checks one element and repairs it if needed.
func (v *Vault) auditElement(ctx context.Context, e *elementEntry) ElementAudit {
	item := ElementAudit{Type: e.Type}
	res, err := v.checkElement(ctx, e.Type, e.Key)
	if err != nil {
		item.Error = err.Error()
		return item
	}
	var bad []shardCheck
	for _, r := range res {
		switch r.status {
		case statusOK:
			item.Healthy++
		case statusLost:
			item.Lost++
			bad = append([]shardCheck{r}, bad...) // lost ones first: they are surely gone
		default:
			item.Unreachable++
			bad = append(bad, r)
		}
	}
	if item.Lost == 0 && item.Healthy >= v.threshold(e) {
		// Enough shards pass: replace only holders that stayed away.
		bad = slices.DeleteFunc(bad, func(r shardCheck) bool {
			return r.away.IsZero() || time.Since(r.away) < v.cfg.ReplaceAfter
		})
		if len(bad) == 0 {
			return item
		}
		v.log.Info("vault replaces holders that stayed away", "type", e.Type, "shards", len(bad), "after", v.cfg.ReplaceAfter)
	}
	n, err := v.repair(ctx, e, res, bad)
	item.Repaired = n
	if err != nil {
		item.Error = err.Error()
		v.log.Warn("vault repair incomplete", "type", e.Type, "repaired", n, "err", err)
	} else {
		v.log.Info("vault element repaired", "type", e.Type, "shards", n)
	}
	return item
}
