package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
)

const (
	addressBookEvery = time.Minute
	addressBookMax   = 64 // peers remembered
	addressBookDial  = 16 // peers dialled at start
	addressBookAge   = 7 * 24 * time.Hour
)

// addressBook remembers the addresses of peers this node was connected to, so
// that a restarted node finds its network again even when its bootstrap peers
// are gone.
type addressBook struct {
	space *ledger.Space
}

type bookEntry struct {
	Addrs    []string  `json:"addrs"`
	LastSeen time.Time `json:"last_seen"`
}

func newAddressBook(s *ledger.Store) (*addressBook, error) {
	sp, err := s.Space("node")
	if err != nil {
		return nil, err
	}
	return &addressBook{space: sp}, nil
}

// save records every connected peer and forgets entries older than
// addressBookAge, keeping the addressBookMax most recent, in one durable batch.
func (b *addressBook) save(n *p2p.Network) error {
	now := time.Now()
	entries := make(map[string]bookEntry)
	batch := b.space.NewBatch()
	err := b.space.Iterate([]byte("peer/"), func(k, v []byte) error {
		batch.Delete(k) // rewritten below if kept
		var e bookEntry
		if json.Unmarshal(v, &e) == nil && now.Sub(e.LastSeen) <= addressBookAge {
			entries[string(k[len("peer/"):])] = e
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	for _, p := range n.Peers() {
		e := bookEntry{LastSeen: now}
		for _, a := range p.Addrs {
			e.Addrs = append(e.Addrs, a.String())
		}
		if len(e.Addrs) > 0 {
			entries[p.ID.String()] = e
		}
	}
	ids := slices.SortedFunc(maps.Keys(entries), func(a, b string) int {
		return entries[b].LastSeen.Compare(entries[a].LastSeen)
	})
	for _, id := range ids[:min(len(ids), addressBookMax)] {
		v, _ := json.Marshal(entries[id])
		batch.Set([]byte("peer/"+id), v)
	}
	if err := batch.Commit(); err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	return nil
}

// known returns up to addressBookDial remembered peers.
func (b *addressBook) known() []peer.AddrInfo {
	var out []peer.AddrInfo
	_ = b.space.Iterate([]byte("peer/"), func(k, v []byte) error {
		id, err := peer.Decode(string(k[len("peer/"):]))
		if err != nil {
			return nil
		}
		var e bookEntry
		if json.Unmarshal(v, &e) != nil {
			return nil
		}
		info := peer.AddrInfo{ID: id}
		for _, s := range e.Addrs {
			if a, err := multiaddr.NewMultiaddr(s); err == nil {
				info.Addrs = append(info.Addrs, a)
			}
		}
		if len(info.Addrs) > 0 && len(out) < addressBookDial {
			out = append(out, info)
		}
		return nil
	})
	return out
}

// dialKnown connects to remembered peers in the background.
func (b *addressBook) dialKnown(ctx context.Context, n *p2p.Network, log *slog.Logger) {
	for _, info := range b.known() {
		if info.ID == n.Host().ID() {
			continue
		}
		go func() {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := n.Host().Connect(dctx, info); err != nil {
				log.Debug("remembered peer unreachable", "peer", info.ID, "err", err)
			}
		}()
	}
}

// run saves the address book every addressBookEvery until ctx ends.
func (b *addressBook) run(ctx context.Context, n *p2p.Network, log *slog.Logger) {
	t := time.NewTicker(addressBookEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.save(n); err != nil {
				log.Warn("saving address book failed", "err", err)
			}
		}
	}
}
