package compute

import (
	"context"
	"encoding/json"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// stalling is a backend that, when armed, takes one request and holds it
// before its first chunk until the request is cancelled.
type stalling struct {
	backend.Backend
	armed   atomic.Bool
	stalled chan struct{}
}

func (b *stalling) Complete(ctx context.Context, req *backend.Request, emit func(json.RawMessage) error) (backend.Usage, error) {
	if b.armed.CompareAndSwap(true, false) {
		b.stalled <- struct{}{}
		<-ctx.Done()
		return backend.Usage{}, ctx.Err()
	}
	return b.Backend.Complete(ctx, req, emit)
}

func TestProxyHealthOrder(t *testing.T) {
	var now atomic.Int64
	h := proxyHealth{now: func() time.Time { return time.Unix(now.Load(), 0) }}
	h.init()
	a, b, c := peer.ID("a"), peer.ID("b"), peer.ID("c")
	h.markDown(a, 20*time.Second)
	h.markDown(b, 10*time.Second)
	if got := h.order([]peer.ID{a, b, c}); got[0] != c || got[1] != b || got[2] != a {
		t.Fatalf("order %v: want c (up), then b (down until sooner), then a", got)
	}
	now.Store(15)
	if got := h.order([]peer.ID{a, b, c}); got[0] != b || got[1] != c || got[2] != a {
		t.Fatalf("order %v after b's mark expired: want b, c, a", got)
	}
	h.markUp(a)
	if got := h.order([]peer.ID{a, b, c}); got[0] != a {
		t.Fatalf("order %v: a worked again, want it first", got)
	}
}

// TestProxyFailover: a client uses the cheaper proxy A; A dies while its
// worker is holding the request before the first token, and the request
// is answered through proxy B instead; the next request goes to B at
// once (A is down); A restarts and, once its down mark has expired, is
// used again. Nobody pays or is paid for the request A dropped: what each
// proxy holds in vouchers is what the client was charged through it, and
// the worker earns exactly its share of the answered requests.
func TestProxyFailover(t *testing.T) {
	ps := peers.Start(t, 4)
	ledgers := startLedgers(t, ps)
	work := &stalling{Backend: randomModel(tinyModel), stalled: make(chan struct{}, 1)}
	workerCfg := workerConfig(work)
	workerCfg.Concurrency = 8
	worker := startService(t, ps[0], ledgers[0], workerCfg)
	cfgA, cfgB := testConfig(), testConfig()
	cfgA.Proxy, cfgA.CommissionPercent = true, 1 // cheaper: the client's first choice
	cfgB.Proxy, cfgB.CommissionPercent = true, 5
	proxyA := startService(t, ps[1], ledgers[1], cfgA)
	proxyB := startService(t, ps[2], ledgers[2], cfgB)
	clientCfg := testConfig()
	clientCfg.MaxTokens, clientCfg.ProxyDownFor = 8, time.Hour
	client := startService(t, ps[3], ledgers[3], clientCfg)
	var skew atomic.Int64 // how far the client's clock for down marks is ahead
	client.health.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	for _, s := range []*Service{proxyA, proxyB, client} {
		waitModel(t, s, tinyModel, 1)
	}
	waitFor(t, "the client to know both proxies", func() bool { return len(client.table.liveProxies(time.Now())) == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	infer := func(prompt string) *InferResult {
		t.Helper()
		res, err := client.infer(ctx, &inferRequest{kind: backend.Chat, model: tinyModel, maxTokens: 8,
			body: []byte(`{"model":"tiny-random","messages":[{"role":"user","content":"` + prompt + `"}],"max_tokens":8}`)},
			func(json.RawMessage) error { return nil })
		if err != nil {
			t.Fatalf("request %q: %v", prompt, err)
		}
		return res
	}
	idA, idB := ps[1].Net.ID().String(), ps[2].Net.ID().String()
	var results []*InferResult

	res := infer("first")
	if res.Proxy != idA {
		t.Fatalf("first request went through %s, want the cheaper proxy A %s", res.Proxy, idA)
	}
	results = append(results, res)
	// Its payment is settled before A goes (a proxy that dies between an
	// answer and its bill is another story).
	client.settling.Wait()
	waitFor(t, "proxy A to settle the first job", func() bool { return ledgers[1].jobEntry(res.RequestID) != nil })

	// A dies while its worker holds the request before the first token.
	work.armed.Store(true)
	done := make(chan *InferResult, 1)
	go func() { done <- infer("second") }()
	<-work.stalled
	ps[1].Net.Close()
	res = <-done
	if res.Proxy != idB || client.Failovers() != 1 {
		t.Fatalf("request during A's death: via %s after %d failovers, want via B %s after 1", res.Proxy, client.Failovers(), idB)
	}
	results = append(results, res)

	// A is down: the next request goes to B without trying A.
	res = infer("third")
	if res.Proxy != idB || client.Failovers() != 1 {
		t.Fatalf("request after A's death: via %s after %d failovers, want via B without another failover", res.Proxy, client.Failovers())
	}
	results = append(results, res)

	// A comes back on its store; once its mark expires it is first again.
	proxyA.Stop()
	ledgers[1].Stop()
	ps[1].Restart(t)
	ledgerA := startLedger(t, ps[1], ps[0])
	proxyA = startService(t, ps[1], ledgerA, cfgA)
	restarted := time.Now().UnixMilli()
	if err := ps[3].Net.Host().Connect(ctx, peer.AddrInfo{ID: ps[1].Net.ID(), Addrs: ps[1].Net.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitModel(t, proxyA, tinyModel, 1)
	waitFor(t, "the client to hear from the restarted proxy A", func() bool {
		client.table.mu.Lock()
		defer client.table.mu.Unlock()
		a := client.table.proxies[ps[1].Net.ID()]
		return a != nil && a.Issued >= restarted
	})
	skew.Store(int64(2 * time.Hour))
	res = infer("fourth")
	if res.Proxy != idA || client.Failovers() != 1 {
		t.Fatalf("request after A's return: via %s after %d failovers, want via A", res.Proxy, client.Failovers())
	}
	results = append(results, res)

	// Every charge adds up, once.
	client.settling.Wait()
	charged := map[string]*big.Int{idA: new(big.Int), idB: new(big.Int)}
	workerShare := new(big.Int)
	for _, r := range results {
		charged[r.Proxy].Add(charged[r.Proxy], mustBig(t, r.Cost))
		workerShare.Add(workerShare, cost(int64(r.Usage.PromptTokens), int64(r.Usage.CompletionTokens), testPricePrompt, testPriceCompletion))
		if e := ledgers[3].jobEntry(r.RequestID); e == nil || e.Amount.String() != r.Cost {
			t.Errorf("request %s: the client journaled %v, want a paid job of %s", r.RequestID, e, r.Cost)
		}
	}
	for _, p := range []struct {
		ps  *peers.Peer
		pay interface {
			Incoming(*address.Address) (*big.Int, *big.Int, error)
		}
	}{{ps[1], ledgerA}, {ps[2], ledgers[2]}} {
		raw, err := client.space.Get(channelKey(p.ps.Net.ID()))
		if err != nil {
			t.Fatal(err)
		}
		ch, _ := address.ParseRawAddr(string(raw))
		_, paid, err := p.pay.Incoming(ch)
		if err != nil {
			t.Fatal(err)
		}
		if want := charged[p.ps.Net.ID().String()]; paid.Cmp(want) != 0 {
			t.Errorf("proxy %s holds %s nanoTON in client vouchers; the client was charged %s through it", p.ps.Net.ID(), paid, want)
		}
	}
	waitFor(t, "the worker to be paid its share of the answered requests", func() bool {
		return worker.WorkerStatus().Earned == workerShare.String()
	})
}
