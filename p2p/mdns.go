package p2p

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// mdnsServiceName is what tonmesh nodes advertise and look for on the LAN.
const mdnsServiceName = "tonmesh"

// mdnsNotifee connects to every tonmesh peer mDNS finds.
type mdnsNotifee struct {
	n   *Network
	ctx context.Context
}

func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.n.host.ID() || m.ctx.Err() != nil {
		return
	}
	m.n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
		defer cancel()
		if err := m.n.host.Connect(ctx, ai); err != nil {
			m.n.log.Debug("mDNS peer unreachable", "peer", ai.ID, "err", err)
			return
		}
		m.n.log.Info("connected to a peer found by mDNS", "peer", ai.ID)
	})
}

// startMDNS advertises this node and discovers others on the local network
// until ctx ends. It multicasts beyond loopback: it is off unless configured.
func (n *Network) startMDNS(ctx context.Context) (io.Closer, error) {
	svc := mdns.NewMdnsService(n.host, mdnsServiceName, mdnsNotifee{n: n, ctx: ctx})
	if err := svc.Start(); err != nil {
		return nil, fmt.Errorf("p2p: start mDNS: %w", err)
	}
	return svc, nil
}
