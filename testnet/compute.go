package testnet

import (
	"context"
	"fmt"
	"time"

	"github.com/tonmesh/tonmesh/compute"
	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// waitCompute waits until every node knows a worker's offer and a proxy,
// so that a chat completion against any node works as soon as the testnet
// says it is ready.
func waitCompute(ctx context.Context, o Options, m *Manifest) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	fmt.Fprintln(o.Out, "waiting for the compute worker's offer and the proxy to reach every node")
	for _, n := range m.Nodes {
		c := compute.NewClient(apiutil.NewClient(n.API, n.Token))
		for {
			v, err := c.Offers(ctx)
			if err == nil && len(v.Offers) > 0 && len(v.Proxies) > 0 {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: no compute offer or proxy within a minute (see %s/daemon.log): %v", n.Name, n.Home, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
