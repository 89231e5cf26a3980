package market

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Catch-up after a partition. Gossip reaches only the peers connected when
// it is published (and, for a few heartbeats, those that ask), so a node
// cut off while an auction was listed would never hear of it: the chain
// pass reads only the auctions a node knows. A node therefore syncs again
// (sync.go) from a peer it newly connects to — after a partition heals
// those are the peers of the other side, which saw what it missed — and
// reconciles what it learns with the chain, which wins. Connections come
// in bursts (at start, at a heal), so at most one such sync runs per
// Config.SettleInterval; a connection during the pause is served at its
// end, from the latest peer that connected.

// resyncQueue is the number of new connections kept while a sync runs.
const resyncQueue = 64

// resyncLoop syncs from newly connected peers until ctx ends.
func (s *Service) resyncLoop(ctx context.Context) {
	conns := make(chan peer.ID, resyncQueue)
	notifee := &network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		select {
		case conns <- c.RemotePeer():
		default: // a sync is due anyway; the pending peer is enough
		}
	}}
	nw := s.net.Host().Network()
	nw.Notify(notifee)
	defer nw.StopNotify(notifee)

	var last time.Time
	var pending peer.ID
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-conns:
			if pending == "" {
				if wait := s.cfg.SettleInterval - time.Since(last); wait > 0 {
					timer.Reset(wait)
				} else {
					timer.Reset(0)
				}
			}
			pending = p
			continue
		case <-timer.C:
		}
		p := pending
		pending = ""
		if p == "" || s.net.Host().Network().Connectedness(p) != network.Connected {
			continue
		}
		last = time.Now()
		if s.syncFrom(ctx, p) {
			s.log.Debug("market: synced from a newly connected peer", "peer", p)
		}
	}
}
