package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
)

// Sizes and bounds of the in-process comparison.
const (
	compareTimeout    = 5 * time.Minute
	gossipPayloadSize = 1024 // bytes per gossip message, sequence number included
	dhtValueSize      = 256  // bytes per DHT value (the tonmesh record adds its signature and header)
	gossipWarmup      = 5    // messages per cluster before measuring
	gossipGap         = 10 * time.Millisecond
)

// Figure compares one measurement on both clusters.
type Figure struct {
	Tonmesh  benchutil.Latency `json:"tonmesh"`
	Bare     benchutil.Latency `json:"bare"`
	RatioP50 float64           `json:"ratio_p50"` // tonmesh / bare
	RatioP99 float64           `json:"ratio_p99"`
}

func newFigure(tm, bare benchutil.Latency) Figure {
	return Figure{Tonmesh: tm, Bare: bare, RatioP50: benchutil.Ratio(tm.P50MS, bare.P50MS), RatioP99: benchutil.Ratio(tm.P99MS, bare.P99MS)}
}

// CompareResult holds the in-process comparison.
type CompareResult struct {
	Nodes             int     `json:"nodes"`
	TonmeshBootstrapS float64 `json:"tonmesh_bootstrap_s"` // construction → every routing table refreshed
	BareBootstrapS    float64 `json:"bare_bootstrap_s"`
	DHTValueBytes     int     `json:"dht_value_bytes"`
	GossipBytes       int     `json:"gossip_payload_bytes"`
	DHTGet            Figure  `json:"dht_get"`
	DHTPut            Figure  `json:"dht_put"`
	Gossip            Figure  `json:"gossip_to_all"`
}

// runCompare starts both clusters side by side and measures them
// interleaved, so that both see the same machine load.
func runCompare(ctx context.Context, c benchConfig, p *benchutil.Progress) (*CompareResult, error) {
	ctx, cancel := context.WithTimeout(ctx, compareTimeout)
	defer cancel()
	res := &CompareResult{Nodes: c.nodes, DHTValueBytes: dhtValueSize, GossipBytes: gossipPayloadSize}

	if c.cpuProfile != "" {
		stop, err := benchutil.StartCPUProfile(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	p.Printf("in-process: starting %d tonmesh p2p networks", c.nodes)
	start := time.Now()
	var tm *tonmeshCluster
	var err error
	// Goroutines inherit profile labels: each cluster's work is labelled
	// with its name.
	pprof.Do(ctx, pprof.Labels("cluster", "tonmesh"), func(ctx context.Context) { tm, err = newTonmeshCluster(ctx, c.nodes) })
	if err != nil {
		return nil, err
	}
	defer closeCluster(tm, p)
	if err := waitBootstrapped(ctx, tm); err != nil {
		return nil, err
	}
	res.TonmeshBootstrapS = benchutil.Seconds(time.Since(start))

	p.Printf("in-process: starting %d bare libp2p hosts", c.nodes)
	start = time.Now()
	var bare *bareCluster
	pprof.Do(ctx, pprof.Labels("cluster", "bare"), func(ctx context.Context) { bare, err = newBareCluster(ctx, c.nodes) })
	if err != nil {
		return nil, err
	}
	defer closeCluster(bare, p)
	if err := waitBootstrapped(ctx, bare); err != nil {
		return nil, err
	}
	res.BareBootstrapS = benchutil.Seconds(time.Since(start))
	clusters := []cluster{tm, bare}

	p.Printf("in-process: %d DHT puts and gets on each side", c.gets)
	get, put, err := measureDHT(ctx, clusters, c.gets, p)
	if err != nil {
		return nil, err
	}
	res.DHTGet = newFigure(get[0], get[1])
	res.DHTPut = newFigure(put[0], put[1])

	p.Printf("in-process: joining the gossip topic, waiting for the meshes")
	for _, cl := range clusters {
		if err := cl.JoinGossip(); err != nil {
			return nil, err
		}
	}
	for _, cl := range clusters {
		if err := waitMesh(ctx, cl); err != nil {
			return nil, err
		}
	}
	p.Printf("in-process: %d gossip messages of %d bytes on each side", c.msgs, gossipPayloadSize)
	gossip, err := measureGossip(ctx, clusters, c.msgs, p)
	if err != nil {
		return nil, err
	}
	res.Gossip = newFigure(gossip[0], gossip[1])
	return res, nil
}

func closeCluster(c cluster, p *benchutil.Progress) {
	if err := c.Close(); err != nil {
		p.Printf("in-process: close %s: %v", c.Name(), err)
	}
}

// twoNodes picks two different random nodes.
func twoNodes(n int) (a, b int) {
	a = mrand.IntN(n)
	b = (a + 1 + mrand.IntN(n-1)) % n
	return a, b
}

// measureDHT puts a fresh value from a random node and gets it from another
// random node, gets times on each cluster, alternating which goes first.
func measureDHT(ctx context.Context, cs []cluster, gets int, p *benchutil.Progress) (get, put []benchutil.Latency, err error) {
	getD := make([][]time.Duration, len(cs))
	putD := make([][]time.Duration, len(cs))
	getFail := make([]int, len(cs))
	putFail := make([]int, len(cs))
	for i := range gets {
		a, b := twoNodes(cs[0].Len())
		for j := range cs {
			k := (i + j) % len(cs)
			pd, gd, err := putGet(ctx, cs[k], a, b)
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("DHT measurement: %w", ctx.Err())
			}
			switch {
			case pd == 0:
				putFail[k]++
				getFail[k]++
				p.Debugf("%s: put %d: %v", cs[k].Name(), i, err)
			case gd == 0:
				putD[k] = append(putD[k], pd)
				getFail[k]++
				p.Debugf("%s: get %d: %v", cs[k].Name(), i, err)
			default:
				putD[k] = append(putD[k], pd)
				getD[k] = append(getD[k], gd)
			}
		}
		if (i+1)%50 == 0 {
			p.Printf("in-process: %d/%d DHT rounds", i+1, gets)
		}
	}
	for k, c := range cs {
		if getFail[k] > 0 {
			p.Printf("in-process: %s: %d of %d DHT gets failed", c.Name(), getFail[k], gets)
		}
		get = append(get, benchutil.Summarize(getD[k], getFail[k]))
		put = append(put, benchutil.Summarize(putD[k], putFail[k]))
	}
	return get, put, nil
}

// putGet stores a random value from node a and reads it back from node b; a
// zero duration means that step failed (err says why).
func putGet(ctx context.Context, c cluster, a, b int) (putD, getD time.Duration, err error) {
	key := rand.Text()
	value := make([]byte, dhtValueSize)
	_, _ = rand.Read(value)

	octx, cancel := context.WithTimeout(ctx, opTimeout)
	start := time.Now()
	err = c.Put(octx, a, key, value)
	putD = time.Since(start)
	cancel()
	if err != nil {
		return 0, 0, err
	}
	octx, cancel = context.WithTimeout(ctx, opTimeout)
	defer cancel()
	start = time.Now()
	got, err := c.Get(octx, b, key)
	getD = time.Since(start)
	switch {
	case err != nil:
		return putD, 0, err
	case !bytes.Equal(got, value):
		return putD, 0, errors.New("got a different value than was put")
	}
	return putD, getD, nil
}

// measureGossip publishes msgs messages on each cluster, from the same
// random node on both, and times each until the last other node received it.
func measureGossip(ctx context.Context, cs []cluster, msgs int, p *benchutil.Progress) ([]benchutil.Latency, error) {
	rctx, stop := context.WithCancel(ctx)
	var receivers sync.WaitGroup
	defer receivers.Wait()
	defer stop()
	probes := make([]*gossipProbe, len(cs))
	for k, c := range cs {
		probes[k] = newGossipProbe()
		for i := range c.Len() {
			receivers.Go(func() {
				pprof.SetGoroutineLabels(pprof.WithLabels(rctx, pprof.Labels("cluster", clusterLabel(c))))
				for {
					payload, err := c.Next(rctx, i)
					if err != nil {
						return
					}
					probes[k].received(i, payload, time.Now())
				}
			})
		}
	}

	lat := make([][]time.Duration, len(cs))
	lost := make([]int, len(cs))
	for i := range gossipWarmup + msgs {
		from := mrand.IntN(cs[0].Len())
		for j := range cs {
			k := (i + j) % len(cs)
			d, missing, err := probes[k].publish(ctx, cs[k], from)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("gossip measurement: %w", ctx.Err())
			}
			if i < gossipWarmup {
				continue
			}
			if err != nil {
				lost[k]++
				p.Printf("in-process: %s: %v", cs[k].Name(), err)
				continue
			}
			if missing > 0 {
				lost[k]++
				p.Debugf("%s: message %d reached all but %d nodes within %s", cs[k].Name(), i, missing, deliveryTimeout)
				continue
			}
			lat[k] = append(lat[k], d)
		}
		if !sleepCtx(ctx, gossipGap) {
			return nil, fmt.Errorf("gossip measurement: %w", ctx.Err())
		}
	}
	out := make([]benchutil.Latency, len(cs))
	for k, c := range cs {
		if lost[k] > 0 {
			p.Printf("in-process: %s: %d of %d messages did not reach every node within %s", c.Name(), lost[k], msgs, deliveryTimeout)
		}
		out[k] = benchutil.Summarize(lat[k], lost[k])
	}
	return out, nil
}

// clusterLabel is c's profile label: "tonmesh" or "bare".
func clusterLabel(c cluster) string {
	if _, ok := c.(*tonmeshCluster); ok {
		return "tonmesh"
	}
	return "bare"
}

// gossipProbe matches received messages, by the sequence number in their
// first 8 bytes, to the publish waiting for them.
type gossipProbe struct {
	mu       sync.Mutex
	seq      uint64
	inflight map[uint64]*delivery
}

type delivery struct {
	from int           // publisher, whose own copy does not count
	left int           // nodes still to receive it
	last time.Time     // latest receipt so far
	done chan struct{} // closed when left reaches 0
}

func newGossipProbe() *gossipProbe {
	return &gossipProbe{inflight: make(map[uint64]*delivery)}
}

func (g *gossipProbe) received(node int, payload []byte, at time.Time) {
	if len(payload) < 8 {
		return
	}
	seq := binary.BigEndian.Uint64(payload)
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.inflight[seq]
	if d == nil || node == d.from || d.left == 0 {
		return
	}
	d.left--
	d.last = at
	if d.left == 0 {
		close(d.done)
	}
}

// publish sends one message from node from and waits until every other node
// has it (returning the delay to the last one) or deliveryTimeout passes
// (returning how many nodes it did not reach). An error means Publish failed
// or ctx ended.
func (g *gossipProbe) publish(ctx context.Context, c cluster, from int) (time.Duration, int, error) {
	payload := make([]byte, gossipPayloadSize)
	_, _ = rand.Read(payload)
	g.mu.Lock()
	g.seq++
	seq := g.seq
	d := &delivery{from: from, left: c.Len() - 1, done: make(chan struct{})}
	g.inflight[seq] = d
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.inflight, seq)
		g.mu.Unlock()
	}()
	binary.BigEndian.PutUint64(payload, seq)

	start := time.Now()
	if err := c.Publish(ctx, from, payload); err != nil {
		return 0, c.Len() - 1, fmt.Errorf("publish from node %d: %w", from, err)
	}
	t := time.NewTimer(deliveryTimeout)
	defer t.Stop()
	select {
	case <-d.done:
		g.mu.Lock()
		defer g.mu.Unlock()
		return d.last.Sub(start), 0, nil
	case <-t.C:
		g.mu.Lock()
		defer g.mu.Unlock()
		return 0, d.left, nil
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}

// sleepCtx waits d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
