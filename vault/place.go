package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/shard"
)

// candidates returns the peers that may hold shards placed by the given
// keys (the CIDs' KeyString, or a striped put's placement targets), never
// this node nor a peer in exclude: the peers of the DHT's routing table
// and the connected peers, which the node knows without asking anyone;
// only when they are fewer than the shards, also the DHT's closest peers
// to each key, looked up in the network.
func (v *Vault) candidates(ctx context.Context, keys []string, exclude map[peer.ID]bool) []peer.ID {
	found := make(map[peer.ID]bool)
	for _, p := range v.net.DHT().RoutingTable().ListPeers() {
		found[p] = true
	}
	for _, p := range v.net.Host().Network().Peers() {
		found[p] = true
	}
	if out := usable(found, v.self, exclude); len(out) >= len(keys) {
		return out
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps, err := v.net.DHT().GetClosestPeers(lctx, k)
			if err != nil {
				v.log.Debug("DHT closest peers", "key", []byte(k), "err", err)
			}
			mu.Lock()
			for _, p := range ps {
				found[p] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return usable(found, v.self, exclude)
}

// usable lists the peers of found but self and those in exclude.
func usable(found map[peer.ID]bool, self peer.ID, exclude map[peer.ID]bool) []peer.ID {
	out := make([]peer.ID, 0, len(found))
	for p := range found {
		if p != self && !exclude[p] {
			out = append(out, p)
		}
	}
	return out
}

// keysOf is the placement keys of shards named by cids.
func keysOf(cids []cid.Cid) []string {
	out := make([]string, len(cids))
	for i, c := range cids {
		out[i] = c.KeyString()
	}
	return out
}

// byDistanceTo sorts ps by Kademlia distance to the placement key k: the
// XOR of SHA-256(peer ID) and SHA-256(k), as the DHT measures it.
func byDistanceTo(ps []peer.ID, k string) []peer.ID {
	target := sha256.Sum256([]byte(k))
	dist := func(p peer.ID) []byte {
		h := sha256.Sum256([]byte(p))
		for i := range h {
			h[i] ^= target[i]
		}
		return h[:]
	}
	out := slices.Clone(ps)
	slices.SortFunc(out, func(a, b peer.ID) int { return bytes.Compare(dist(a), dist(b)) })
	return out
}

// choice hands out distinct holders for an element's shards: shard i's
// candidates sorted by distance to its placement key, the closest one no
// other shard took first.
type choice struct {
	order [][]peer.ID
	used  map[peer.ID]bool
}

func newChoice(cands []peer.ID, keys []string) *choice {
	c := &choice{order: make([][]peer.ID, len(keys)), used: make(map[peer.ID]bool, len(keys))}
	for i, k := range keys {
		c.order[i] = byDistanceTo(cands, k)
	}
	return c
}

// next marks and returns shard i's closest free candidate ("" if none).
func (c *choice) next(i int) peer.ID {
	for _, p := range c.order[i] {
		if !c.used[p] {
			c.used[p] = true
			return p
		}
	}
	return ""
}

// placement is one shard to place: its index in the element and data.
type placement struct {
	index int
	data  []byte
	cid   cid.Cid
}

// place pushes every shard in ps to a distinct peer among cands, each to
// the closest peer to its CID that is still free and accepts it, and
// returns the holders by index. held is how many other peers already hold
// a shard of the element (for messages). On failure it deletes what it
// placed.
func (v *Vault) place(ctx context.Context, ps []placement, cands []peer.ID, held int) (map[int]peer.ID, error) {
	if len(cands) < len(ps) {
		return nil, fmt.Errorf("%w: need %d peers to hold shards, found %d (connect more peers, or lower n)", ErrNotEnoughPeers, len(ps)+held, len(cands)+held)
	}
	keys := make([]string, len(ps))
	for i, s := range ps {
		keys[i] = s.cid.KeyString()
	}
	ch := newChoice(cands, keys)
	first := make([]peer.ID, len(ps))
	for i := range ps {
		first[i] = ch.next(i)
	}
	holders := make(map[int]peer.ID, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, s := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = v.push(ctx, first[i], s)
		}()
	}
	wg.Wait()
	refused := make(map[peer.ID]bool)
	for i, s := range ps {
		if errs[i] == nil {
			holders[s.index] = first[i]
			continue
		}
		v.log.Debug("shard refused; trying the next closest peer", "peer", first[i], "err", errs[i])
		refused[first[i]] = true
		last := errs[i]
		for p := ch.next(i); p != "" && ctx.Err() == nil; p = ch.next(i) {
			if err := v.push(ctx, p, s); err != nil {
				v.log.Debug("shard refused", "peer", p, "err", err)
				refused[p], last = true, err
				continue
			}
			holders[s.index] = p
			break
		}
		if _, ok := holders[s.index]; !ok {
			v.unplace(context.WithoutCancel(ctx), ps, holders)
			return nil, fmt.Errorf("%w: need %d peers to hold shards, found %d that accepted one (%d refused or unreachable; last error: %w)",
				ErrNotEnoughPeers, len(ps)+held, len(cands)-len(refused)+held, len(refused), last)
		}
	}
	return holders, nil
}

// push sends one shard to p under its CID (hashed once, by Encode) and
// checks its signed receipt (PutShard verifies that it is p's, for this
// shard and size).
func (v *Vault) push(ctx context.Context, p peer.ID, s placement) error {
	if p == "" {
		return errors.New("no peer left to try")
	}
	pctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	_, err := shard.PutShard(pctx, v.net, p, s.cid, s.data, v.keys.deleteKey(s.cid).Public().(ed25519.PublicKey))
	return err
}

// unplace deletes shards already placed (best effort).
func (v *Vault) unplace(ctx context.Context, ps []placement, holders map[int]peer.ID) {
	var wg sync.WaitGroup
	for _, s := range ps {
		p, ok := holders[s.index]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.deleteShard(ctx, p, s.cid)
		}()
	}
	wg.Wait()
}

// deleteShard asks p to drop the shard c (best effort; logged).
func (v *Vault) deleteShard(ctx context.Context, p peer.ID, c cid.Cid) error {
	dctx, cancel := context.WithTimeout(ctx, challengeTimeout)
	defer cancel()
	err := shard.Delete(dctx, v.net, p, c, v.keys.deleteKey(c))
	if err != nil && !errors.Is(err, shard.ErrNotFound) {
		v.log.Debug("shard delete failed", "peer", p, "cid", c, "err", err)
		return err
	}
	return nil
}
