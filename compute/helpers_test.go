package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/compute/llama2c"
	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger/journal"
	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
)

// Test prices: nanoTON per 1M tokens, chosen so that costs round.
var (
	testPricePrompt     = big.NewInt(3_000_001)
	testPriceCompletion = big.NewInt(7_000_001)
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TONMESH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// recorder is a ledger service that also remembers the journal entries
// the compute service records.
type recorder struct {
	*ledgersvc.Service
	mu      sync.Mutex
	entries []journal.Entry
}

func (r *recorder) Record(ctx context.Context, e journal.Entry) error {
	r.mu.Lock()
	r.entries = append(r.entries, e)
	r.mu.Unlock()
	return r.Service.Record(ctx, e)
}

func (r *recorder) RecordAll(ctx context.Context, es []journal.Entry) error {
	r.mu.Lock()
	r.entries = append(r.entries, es...)
	r.mu.Unlock()
	return r.Service.RecordAll(ctx, es)
}

// jobEntry returns the job_paid entry for request id, or nil.
func (r *recorder) jobEntry(id string) *journal.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.entries {
		if r.entries[i].Kind == journal.KindJobPaid && r.entries[i].Key == jobKey(id) {
			e := r.entries[i]
			return &e
		}
	}
	return nil
}

// startLedgers runs a ledger service on each peer (the first hosts the
// emulated chain and its faucet) and funds every wallet with 20 TON.
func startLedgers(t *testing.T, ps []*peers.Peer) []*recorder {
	t.Helper()
	out := make([]*recorder, len(ps))
	for i, p := range ps {
		out[i] = startLedger(t, p, ps[0])
	}
	return out
}

// startLedger runs a ledger service on p, hosting the emulated chain if p
// is host, and funds its wallet with 20 TON.
func startLedger(t *testing.T, p, host *peers.Peer) *recorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc, err := p.StartLedger(ctx, host, big.NewInt(20_000_000_000), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &recorder{Service: svc}
}

func testConfig() Config {
	return Config{
		OfferInterval: 200 * time.Millisecond, OfferTTL: 5 * time.Second,
		ChannelDeposit:    big.NewInt(1_000_000_000),
		FirstTokenTimeout: 20 * time.Second, IdleTimeout: 20 * time.Second, TotalTimeout: time.Minute,
		AllowUnattested: true,
	}
}

func workerConfig(b backend.Backend) Config {
	c := testConfig()
	c.Worker, c.Backend = true, b
	c.PricePrompt, c.PriceCompletion = testPricePrompt, testPriceCompletion
	return c
}

// startService runs a compute service until the test ends.
func startService(t *testing.T, p *peers.Peer, pay Payments, cfg Config, opts ...Option) *Service {
	t.Helper()
	var s *Service
	var err error
	if pay == nil {
		s, err = New(p.Store, p.Net, p.Identity, nil, cfg, testLogger(t), opts...)
	} else {
		s, err = New(p.Store, p.Net, p.Identity, pay, cfg, testLogger(t), opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// serveAPI serves s's routes on an httptest server.
func serveAPI(t *testing.T, s *Service) (*httptest.Server, *Client) {
	t.Helper()
	mux := http.NewServeMux()
	s.Routes(func(pattern string, h http.Handler) { mux.Handle(pattern, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, NewClient(apiutil.NewClient(srv.URL, "test-token"))
}

// apiutilClient serves s's routes and returns an API client for them.
func apiutilClient(t *testing.T, s *Service) *apiutil.Client {
	srv, _ := serveAPI(t, s)
	return apiutil.NewClient(srv.URL, "test-token")
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitModel waits until s sees an offer of model and (unless s is a
// proxy) a proxy.
func waitModel(t *testing.T, s *Service, model string, workers int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d offers of %s at %s", workers, model, s.self), func() bool {
		for _, m := range s.Models().Data {
			if m.ID == model && m.Workers >= workers {
				_, err := s.chooseProxy()
				return err == nil || s.proxy != nil
			}
		}
		return false
	})
}

// randomModel is a small random-weight llama2.c model as a backend. It
// samples with a fixed seed when a request names none: with a random seed
// the first token is now and then BOS or EOS, an empty answer, and the
// tests that want tokens to bill would fail by chance.
func randomModel(name string) backend.Backend {
	return seeded{llama2c.NewBackend(name, llama2c.Random(llama2c.Config{}, 7))}
}

// seeded gives requests without a seed the seed testSeed.
type seeded struct{ backend.Backend }

// testSeed makes the random model answer every prompt the tests send with
// at least one token.
const testSeed = 1

func (s seeded) Complete(ctx context.Context, req *backend.Request, emit func(json.RawMessage) error) (backend.Usage, error) {
	if req.Seed == nil {
		r := *req
		seed := int64(testSeed)
		r.Seed = &seed
		req = &r
	}
	return s.Backend.Complete(ctx, req, emit)
}

// scripted is a backend that answers with fixed pieces. If hold is set it
// blocks after the first piece until ctx is done or hold is closed, and
// reports a cancelled ctx on cancelled.
type scripted struct {
	name      string
	pieces    []string
	hold      chan struct{}
	cancelled chan struct{} // buffered: one value per cancelled request
}

func (b *scripted) Models(context.Context) ([]backend.Model, error) {
	return []backend.Model{{ID: b.name, WeightsHash: "sha256:" + b.name}}, nil
}

func (b *scripted) Complete(ctx context.Context, req *backend.Request, emit func(json.RawMessage) error) (backend.Usage, error) {
	if req.Model != b.name {
		return backend.Usage{}, backend.ErrUnknownModel
	}
	for i, p := range b.pieces {
		c, _ := json.Marshal(map[string]any{"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": b.name,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"content": p}, "finish_reason": nil}}})
		if err := emit(c); err != nil {
			return backend.Usage{}, err
		}
		if i == 0 && b.hold != nil {
			select {
			case <-ctx.Done():
				select {
				case b.cancelled <- struct{}{}:
				default:
				}
				return backend.Usage{}, ctx.Err()
			case <-b.hold:
			}
		}
	}
	fin, _ := json.Marshal(map[string]any{"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": b.name,
		"choices": []any{map[string]any{"index": 0, "delta": map[string]string{}, "finish_reason": "stop"}}})
	if err := emit(fin); err != nil {
		return backend.Usage{}, err
	}
	return backend.Usage{PromptTokens: len(req.Body) / 4, CompletionTokens: len(b.pieces), TotalTokens: len(req.Body)/4 + len(b.pieces)}, nil
}

// trafficLog collects what a proxy's tap sees.
type trafficLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *trafficLog) tap(b []byte) {
	l.mu.Lock()
	l.buf.Write(b)
	l.mu.Unlock()
}

func (l *trafficLog) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.buf.Bytes(), []byte(s))
}

func (l *trafficLog) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

func asError(err error) *apiutil.APIError {
	var e *apiutil.APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}
