package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/test/netns"
)

// The --netns part: the process testnet's figures for daemons that each run
// in their own network namespace with their own address on a bridge
// (test/netns), beside the loopback testnet in the same run. The daemons
// are the same binary; what differs is the network: real interfaces,
// distinct IPs (so IP-colocation scoring applies), a bridge between them.

// netnsRoles: n1 hosts the chain and relays, as the first testnet node
// hosts the chain; the others are plain nodes.
func netnsRoles(h *netns.Host) netns.Role {
	if h.Name == "n1" {
		return netns.Role{EmuHost: true, Relay: true}
	}
	return netns.Role{}
}

// runNetnsProcess starts c.nodes daemons in a namespace lab and measures
// them as runProcess measures the loopback testnet. The lab counts as
// ready when every node has two DHT peers, testnet.Run's criterion.
func runNetnsProcess(ctx context.Context, c benchConfig, bin string, p *benchutil.Progress) (_ *ProcessResult, err error) {
	if why := netns.Available(); why != "" {
		return nil, fmt.Errorf("--netns: %s", why)
	}
	ctx, cancel := context.WithTimeout(ctx, processTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "tonmesh-benchnet-netns-")
	if err != nil {
		return nil, fmt.Errorf("netns testnet: %w", err)
	}
	defer os.RemoveAll(dir)
	p.Printf("netns testnet: creating %d network namespaces on a bridge", c.nodes)
	lab, err := netns.New(ctx, c.nodes, 0)
	if err != nil {
		return nil, fmt.Errorf("netns testnet: %w", err)
	}
	defer func() {
		if cerr := lab.Close(); cerr != nil {
			p.Printf("netns testnet: remove the namespaces: %v", cerr)
		}
	}()
	cl, err := netns.NewCluster(lab, bin, filepath.Join(dir, "net"), netnsRoles)
	if err != nil {
		return nil, fmt.Errorf("netns testnet: %w", err)
	}
	defer func() {
		p.Printf("netns testnet: stopping the daemons")
		cl.Stop()
	}()
	p.Printf("netns testnet: starting %d daemons", c.nodes)
	if err := cl.Launch(); err != nil {
		return nil, fmt.Errorf("netns testnet: %w", err)
	}
	timings, ready, err := watchNetns(ctx, c, cl)
	if err != nil {
		return nil, err
	}
	res := timingFigures(c, timings, ready)
	p.Printf("netns testnet: idle %s before reading RSS", c.idle)
	select {
	case <-time.After(c.idle):
	case <-ctx.Done():
		return nil, fmt.Errorf("netns testnet: %w", ctx.Err())
	}
	if err := netnsIdleFigures(ctx, res, cl, timings); err != nil {
		return nil, err
	}
	res.IdleS = benchutil.Seconds(c.idle)
	return res, nil
}

// watchNetns polls every node's /healthz (through its namespace) until it
// has a DHT peer and k connected peers; ready is when every node first had
// two DHT peers.
func watchNetns(ctx context.Context, c benchConfig, cl *netns.Cluster) ([]nodeTiming, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, nodesTimeout)
	defer cancel()
	timings := make([]nodeTiming, len(cl.Nodes))
	twoDHT := make([]time.Time, len(cl.Nodes))
	errs := make([]error, len(cl.Nodes))
	var wg sync.WaitGroup
	for i, n := range cl.Nodes {
		wg.Go(func() {
			hc := netns.HTTPClient(n.Host)
			t := nodeTiming{proc: daemonProc{pid: n.PID(), home: string(n.Home), started: n.Started()}}
			tick := time.NewTicker(pollInterval)
			defer tick.Stop()
			for {
				hctx, hcancel := context.WithTimeout(ctx, healthTimeout)
				h, err := n.Health(hctx, hc)
				hcancel()
				now := time.Now()
				if err == nil {
					if t.ready.IsZero() && h.DHTPeers >= 1 {
						t.ready = now
					}
					if twoDHT[i].IsZero() && h.DHTPeers >= min(2, c.nodes-1) {
						twoDHT[i] = now
					}
					if t.connected.IsZero() && h.Peers >= c.minPeers {
						t.connected = now
					}
					if !t.ready.IsZero() && !t.connected.IsZero() && !twoDHT[i].IsZero() {
						timings[i] = t
						return
					}
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					errs[i] = fmt.Errorf("netns testnet: %s not ready and connected to >= %d peers within %s (last: %v); see %s", n.Name, c.minPeers, nodesTimeout, err, n.LogPath())
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, time.Time{}, err
	}
	var ready time.Time
	for _, t := range twoDHT {
		if t.After(ready) {
			ready = t
		}
	}
	return timings, ready, nil
}

func netnsIdleFigures(ctx context.Context, res *ProcessResult, cl *netns.Cluster, ts []nodeTiming) error {
	if err := rssFigures(res, ts); err != nil {
		return fmt.Errorf("netns testnet: %w", err)
	}
	res.IdlePeersMin = -1
	total := 0
	for _, n := range cl.Nodes {
		h, err := n.Health(ctx, netnsClient(n))
		if err != nil {
			return fmt.Errorf("netns testnet: %w", err)
		}
		total += h.Peers
		if res.IdlePeersMin < 0 || h.Peers < res.IdlePeersMin {
			res.IdlePeersMin = h.Peers
		}
	}
	res.IdlePeersMean = float64(total) / float64(len(cl.Nodes))
	return nil
}

func netnsClient(n *netns.Node) *http.Client { return netns.HTTPClient(n.Host) }
