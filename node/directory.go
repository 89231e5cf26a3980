package node

import (
	"context"
	"time"

	"github.com/tonmesh/tonmesh/p2p/directory"
)

const (
	directoryRepublish = 12 * time.Hour // DHT records expire after 48 h
	directoryRetry     = 2 * time.Second
)

// publishDirectory keeps this node's wallet → peer record in the DHT, so
// that others can address it by its TON address: at start (retrying until
// the node has DHT peers) and then every directoryRepublish.
func (n *Node) publishDirectory(ctx context.Context) {
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := directory.Publish(pctx, n.net, n.id, n.walletVersion, n.network)
		cancel()
		if err != nil {
			n.log.Debug("publishing the wallet directory record failed; retrying", "err", err)
			wait = directoryRetry
			continue
		}
		wait = directoryRepublish
	}
}
