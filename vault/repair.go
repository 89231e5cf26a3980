package vault

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/shard"
)

// repair rebuilds the shards in bad (lost ones first) from K intact ones
// and places them on peers that hold no shard of e yet, as many as there
// are such peers; then it updates the manifest. It returns how many shards
// it replaced.
func (v *Vault) repair(ctx context.Context, e *elementEntry, res []shardCheck, bad []shardCheck) (int, error) {
	if len(bad) == 0 {
		return 0, nil
	}
	if e.Segment > 0 {
		return v.repairStriped(ctx, e, res, bad)
	}
	shards := make([][]byte, e.N)
	have := 0
	for _, r := range res {
		if r.data != nil {
			shards[r.index] = r.data
			have++
		}
	}
	if have < e.K {
		cur := e.clone()
		for _, r := range res {
			cur.Shards[r.index].Holder = r.holder
		}
		buf, err := v.fetch(ctx, cur, e.K)
		if err != nil {
			return 0, fmt.Errorf("vault: repair %s: %w", e.Type, err)
		}
		for i, d := range buf.Shards() {
			if d != nil && shards[i] == nil {
				shards[i] = d
			}
		}
	}
	// Shards that were fetched are intact whatever the check said; rebuild
	// only what is missing.
	var todo []shardCheck
	for _, r := range bad {
		if shards[r.index] == nil {
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	all, err := shard.Rebuild(e.EncSize, e.K, e.N, shards)
	if err != nil {
		return 0, fmt.Errorf("vault: repair %s: %w", e.Type, err)
	}
	ps := make([]placement, 0, len(todo))
	for _, r := range todo {
		if !shard.CheckCID(r.cid, all[r.index]) {
			return 0, fmt.Errorf("vault: repair %s: rebuilt shard %d does not match its CID %s: the manifest is inconsistent; add the element again", e.Type, r.index, r.cid)
		}
		ps = append(ps, placement{index: r.index, data: all[r.index], cid: r.cid})
	}
	return v.replaceShards(ctx, e, res, ps, func(ctx context.Context, ps []placement, _ []string, cands []peer.ID) (map[int]peer.ID, error) {
		return v.place(ctx, ps, cands, e.N-len(ps))
	})
}

// repairStriped is repair of a striped element: its bad shards are made
// again from a streamed read of the element, stripe by stripe
// (rebuildStriped), and streamed to new holders, each the closest free
// peer to the shard's CID: the repair holds a stripe, not the element.
func (v *Vault) repairStriped(ctx context.Context, e *elementEntry, res []shardCheck, bad []shardCheck) (int, error) {
	cur := e.clone()
	for _, r := range res {
		cur.Shards[r.index].Holder, cur.Shards[r.index].Status = r.holder, r.status
	}
	ps := make([]placement, len(bad))
	for k, r := range bad {
		ps[k] = placement{index: r.index, cid: r.cid}
	}
	return v.replaceShards(ctx, e, res, ps, func(ctx context.Context, ps []placement, keys []string, cands []peer.ID) (map[int]peer.ID, error) {
		lost := make([]int, len(ps))
		for k, p := range ps {
			lost[k] = p.index
		}
		return v.rebuildStriped(ctx, cur, lost, func(ctx context.Context, size int) (*openedPuts, error) {
			return v.openPuts(ctx, size, keys, cands, e.N-len(ps))
		})
	})
}

// replaceShards puts the shards ps of e, rebuilt, on peers that hold none
// of e yet (res names its holders), each the closest free one to its CID,
// as many as there are such peers, by put (given the shards, their CIDs'
// keys and the candidates); then it records them and asks the former
// holders to drop theirs. It returns how many it replaced, and
// ErrNotEnoughPeers for those it could not.
func (v *Vault) replaceShards(ctx context.Context, e *elementEntry, res []shardCheck, ps []placement,
	put func(ctx context.Context, ps []placement, keys []string, cands []peer.ID) (map[int]peer.ID, error)) (int, error) {
	exclude := make(map[peer.ID]bool, len(res))
	for _, r := range res {
		exclude[r.holder] = true
	}
	keys := make([]string, len(ps))
	for k, p := range ps {
		keys[k] = p.cid.KeyString()
	}
	cands := v.candidates(ctx, keys, exclude)
	var short error
	if len(cands) < len(ps) {
		short = fmt.Errorf("%w: need %d peers to hold shards, found %d (connect more peers)", ErrNotEnoughPeers, e.N, e.N-len(ps)+len(cands))
		ps, keys = ps[:len(cands)], keys[:len(cands)]
	}
	if len(ps) == 0 {
		return 0, short
	}
	holders, err := put(ctx, ps, keys, cands)
	if err != nil {
		return 0, fmt.Errorf("vault: repair %s: %w", e.Type, err)
	}
	if err := v.applyRepair(e, ps, holders); err != nil {
		v.unplace(context.WithoutCancel(ctx), ps, holders)
		return 0, err
	}
	v.dropOld(ctx, res, holders)
	return len(ps), short
}

// applyRepair records the new holders, with fresh answers computed from the
// rebuilt shards.
func (v *Vault) applyRepair(e *elementEntry, ps []placement, holders map[int]peer.ID) error {
	v.mu.Lock()
	next := make(map[int]uint64, len(ps))
	if cur := v.man.element(e.Type); cur != nil && cur.Key == e.Key {
		for _, p := range ps {
			next[p.index] = cur.Shards[p.index].Next
		}
	}
	v.mu.Unlock()
	fresh := make(map[int][][answerLen]byte, len(ps))
	for _, p := range ps {
		fresh[p.index] = answers(e.Seed, p.cid, next[p.index], p.data)
	}
	return v.update(func(m *manifest) (bool, error) {
		cur := m.element(e.Type)
		if cur == nil || cur.Key != e.Key {
			return false, fmt.Errorf("vault: repair %s: %w", e.Type, errors.New("the element was replaced or deleted during the repair"))
		}
		for _, p := range ps {
			s := cur.Shards[p.index]
			if !s.CID.Equals(p.cid) {
				return false, fmt.Errorf("vault: repair %s: shard %d changed during the repair", e.Type, p.index)
			}
			s.Holder = holders[p.index]
			s.Status = statusOK
			if s.Next == next[p.index] {
				s.Answers = fresh[p.index]
			} else {
				s.Answers = answers(e.Seed, p.cid, s.Next, p.data)
			}
		}
		return true, nil
	})
}

// dropOld asks the former holders of replaced shards to delete them (best
// effort: a holder that left cannot answer).
func (v *Vault) dropOld(ctx context.Context, old []shardCheck, placed map[int]peer.ID) {
	var wg sync.WaitGroup
	for _, r := range old {
		if _, ok := placed[r.index]; !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = v.deleteShard(context.WithoutCancel(ctx), r.holder, r.cid)
		}()
	}
	wg.Wait()
}
