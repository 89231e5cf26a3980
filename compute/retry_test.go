package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// fakeOpenAI is an OpenAI-compatible server that streams a fixed answer
// in words, with usage when asked.
func fakeOpenAI(t *testing.T, model, answer string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","created":0,"owned_by":"test"}]}`, model)
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		words := strings.SplitAfter(answer, " ")
		for _, word := range words {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", model, word)
		}
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", model)
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n", model, len(words), 9+len(words))
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// failing is a backend that fails every request before its first chunk.
type failing struct {
	name  string
	calls chan struct{}
}

func (b *failing) Models(context.Context) ([]backend.Model, error) {
	return []backend.Model{{ID: b.name}}, nil
}

func (b *failing) Complete(context.Context, *backend.Request, func(json.RawMessage) error) (backend.Usage, error) {
	b.calls <- struct{}{}
	return backend.Usage{}, errors.New("GPU on fire")
}

// TestRetryNextWorkerAndOpenAIBackend: the cheapest worker fails before
// answering, so the proxy has the client seal again for the next one, an
// OpenAI-compatible server behind backend.NewOpenAI. Payments are off.
func TestRetryNextWorkerAndOpenAIBackend(t *testing.T) {
	ps := peers.Start(t, 4)
	const model, answer = "echo", "the quick brown fox jumps"
	proxyCfg := testConfig()
	proxyCfg.Proxy, proxyCfg.CommissionPercent = true, DefaultCommissionPercent
	proxy := startService(t, ps[0], nil, proxyCfg)
	bad := &failing{name: model, calls: make(chan struct{}, 4)}
	badCfg := workerConfig(bad)
	badCfg.PricePrompt, badCfg.PriceCompletion = big.NewInt(1), big.NewInt(1) // cheapest: tried first
	startService(t, ps[1], nil, badCfg)
	good := startService(t, ps[2], nil, workerConfig(backend.NewOpenAI(fakeOpenAI(t, model, answer).URL, "")))
	client := startService(t, ps[3], nil, testConfig())
	waitModel(t, client, model, 2)
	waitModel(t, proxy, model, 2)

	_, api := serveAPI(t, client)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got strings.Builder
	res, err := api.Infer(ctx, model, "say it", InferOptions{}, func(s string) { got.WriteString(s) })
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != answer || res.Worker != good.self.String() || res.Usage.PromptTokens != 9 || res.Cost != "0" {
		t.Errorf("answer %q from %s, result %+v: want %q from %s, free", got.String(), res.Worker, res, answer, good.self)
	}
	select {
	case <-bad.calls:
	default:
		t.Error("the cheaper, failing worker was never tried")
	}
	// The proxy books the job as it bills it, which may be just after the
	// client has read the answer.
	waitFor(t, "the proxy to book the job", func() bool { return proxy.ProxyStatus().Jobs == 1 })
	if st := proxy.ProxyStatus(); st.Retries != 1 || st.Jobs != 1 {
		t.Errorf("proxy status %+v: want 1 retry and 1 job", st)
	}
	// The worker counts the job just after it sends the final record.
	waitFor(t, "the worker to count the job", func() bool { return good.WorkerStatus().Jobs == 1 })
	if st := good.WorkerStatus(); st.Jobs != 1 || st.CompletionTokens != 5 {
		t.Errorf("worker status %+v", st)
	}

	// A model nobody serves is refused with the models on offer.
	_, err = api.Infer(ctx, "nope", "x", InferOptions{}, nil)
	if e := asError(err); e == nil || e.Status != http.StatusNotFound || !strings.Contains(e.Message, "models on offer: echo") {
		t.Errorf("unknown model: %v", err)
	}
	// A malformed request is refused before anything is sent.
	resp, body := postJSON(t, api.c.BaseURL()+"/v1/chat/completions", `{"model":"echo","messages":"hi"}`, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"type":"invalid_request_error"`) {
		t.Errorf("malformed request: %d %s", resp.StatusCode, body)
	}
}

// TestSelfRouting: node A is proxy and worker; a request at A runs
// entirely in-process, and node B's request goes B → A (proxy) → A
// (worker), paid to A as proxy; A pays no one.
func TestSelfRouting(t *testing.T) {
	ps := peers.Start(t, 2)
	ledgers := startLedgers(t, ps)
	cfg := workerConfig(randomModel(tinyModel))
	cfg.Proxy, cfg.CommissionPercent = true, DefaultCommissionPercent
	a := startService(t, ps[0], ledgers[0], cfg)
	clientCfg := testConfig()
	clientCfg.MaxTokens = 8
	b := startService(t, ps[1], ledgers[1], clientCfg)
	waitModel(t, a, tinyModel, 1)
	waitModel(t, b, tinyModel, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := func(s *Service) (*InferResult, error) {
		var text strings.Builder
		res, err := s.infer(ctx, &inferRequest{kind: backend.Chat, model: tinyModel, maxTokens: 8,
			body: []byte(`{"model":"tiny-random","messages":[{"role":"user","content":"hi"}],"max_tokens":8}`)},
			func(c json.RawMessage) error { text.Write(c); return nil })
		if err == nil && text.Len() == 0 {
			t.Error("no answer")
		}
		return res, err
	}
	res, err := req(a)
	if err != nil {
		t.Fatalf("request at the proxy-worker node: %v", err)
	}
	if res.Proxy != a.self.String() || res.Worker != a.self.String() || res.Cost != "0" {
		t.Errorf("self-routed result %+v: want proxy and worker A, cost 0", res)
	}
	res, err = req(b)
	if err != nil {
		t.Fatalf("request from B: %v", err)
	}
	if res.Proxy != a.self.String() || res.Worker != a.self.String() || res.Cost == "0" {
		t.Errorf("result %+v: want proxy and worker A, a cost", res)
	}
	b.settling.Wait() // B pays after it has the answer
	waitFor(t, "the proxy to receive B's payment", func() bool { return a.ProxyStatus().Received == res.Cost })
	st := a.ProxyStatus()
	if st.Received != res.Cost || st.PaidWorkers != "0" || st.Commission != res.Cost || st.Jobs != 2 {
		t.Errorf("proxy status %+v: want %s received, nothing paid out, 2 jobs", st, res.Cost)
	}
}
