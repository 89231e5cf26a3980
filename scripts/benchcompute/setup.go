package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/tonmesh/tonmesh/compute"
	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
)

// fixtureModel is the model the fixture serves.
const fixtureModel = "fixture"

// fixtureAnswer is the fixture's fixed completion, streamed in words.
var fixtureWords = []string{"Once ", "upon ", "a ", "time ", "there ", "was ", "a ", "fixture."}

// newFixture is an OpenAI-compatible server that answers at once with the
// fixed completion: as SSE when asked to stream, else as one JSON answer.
func newFixture() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","created":0,"owned_by":"bench"}]}`, fixtureModel)
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var body strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			body.Write(buf[:n])
			if err != nil {
				break
			}
		}
		usage := fmt.Sprintf(`{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}`, len(fixtureWords), 12+len(fixtureWords))
		if !strings.Contains(body.String(), `"stream":true`) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":%s}`,
				fixtureModel, strings.Join(fixtureWords, ""), usage)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		f, _ := w.(http.Flusher)
		chunk := func(delta, finish string) {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}\n\n", fixtureModel, delta, finish)
			if f != nil {
				f.Flush()
			}
		}
		chunk(`{"role":"assistant","content":""}`, "null")
		for _, word := range fixtureWords {
			chunk(fmt.Sprintf(`{"content":%q}`, word), "null")
		}
		chunk(`{}`, `"stop"`)
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[],\"usage\":%s}\n\ndata: [DONE]\n\n", fixtureModel, usage)
	})
	return httptest.NewServer(mux)
}

// bench is the running network: peers, their services and the client's API.
type bench struct {
	peers   []*peers.Peer
	ledgers []*ledgersvc.Service
	svcs    []*compute.Service
	fixture *httptest.Server
	api     *httptest.Server
}

func (b *bench) close() {
	if b.api != nil {
		b.api.Close()
	}
	for _, s := range b.svcs {
		s.Stop()
	}
	for _, l := range b.ledgers {
		l.Stop()
	}
	for _, p := range b.peers {
		p.Stop()
	}
	if b.fixture != nil {
		b.fixture.Close()
	}
}

// start launches peer 0 (chain host), 1 (proxy), 2 (worker of the
// fixture) and 3 (client, serving the API), and waits until the client
// sees the worker's offer and the proxy, and the proxy sees the offer.
func start(ctx context.Context, c config, dir string, prog interface{ Printf(string, ...any) }) (*bench, error) {
	b := &bench{fixture: newFixture()}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("TONMESH_BENCH_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ps, err := peers.Launch(ctx, dir, 4)
	b.peers = ps
	if err != nil {
		return b, err
	}
	pays := make([]compute.Payments, len(ps))
	if c.Payments {
		for i, p := range ps {
			l, err := p.StartLedger(ctx, ps[0], big.NewInt(100_000_000_000), log)
			if err != nil {
				return b, err
			}
			b.ledgers = append(b.ledgers, l)
			pays[i] = l
		}
		prog.Printf("ledgers ready on the emulated chain")
	}
	base := compute.Config{OfferInterval: time.Second, OfferTTL: 10 * time.Second, AllowUnattested: true,
		ChannelDeposit: big.NewInt(50_000_000_000)}
	roles := []func(*compute.Config){
		func(*compute.Config) {},
		func(cfg *compute.Config) { cfg.Proxy, cfg.CommissionPercent = true, compute.DefaultCommissionPercent },
		func(cfg *compute.Config) {
			cfg.Worker, cfg.Backend, cfg.Concurrency = true, backend.NewOpenAI(b.fixture.URL, ""), 1024
			cfg.PricePrompt, cfg.PriceCompletion = big.NewInt(20_000_000), big.NewInt(20_000_000)
		},
		func(*compute.Config) {},
	}
	for i, p := range ps {
		cfg := base
		roles[i](&cfg)
		var s *compute.Service
		var err error
		if pays[i] != nil {
			s, err = compute.New(p.Store, p.Net, p.Identity, pays[i], cfg, log)
		} else {
			s, err = compute.New(p.Store, p.Net, p.Identity, nil, cfg, log)
		}
		if err != nil {
			return b, err
		}
		if err := s.Start(ctx); err != nil {
			return b, err
		}
		b.svcs = append(b.svcs, s)
	}
	mux := http.NewServeMux()
	b.svcs[3].Routes(func(pattern string, h http.Handler) { mux.Handle(pattern, h) })
	b.api = httptest.NewServer(mux)
	deadline := time.Now().Add(time.Minute)
	for {
		// The proxy must know the worker's offer too, or the first
		// request finds no worker.
		ms := b.svcs[3].Models()
		if len(ms.Data) > 0 && len(b.svcs[3].Offers().Proxies) > 0 && len(b.svcs[1].Offers().Offers) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return b, fmt.Errorf("the client saw no offer of %q and no proxy within a minute", fixtureModel)
		}
		select {
		case <-ctx.Done():
			return b, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	prog.Printf("network up: the client sees the worker's offer and the proxy; the proxy sees the offer")
	return b, nil
}
