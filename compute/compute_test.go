package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// network is the test network: four bare peers with real ledgers on the
// emulated chain — peer 0 hosts the chain and is a client that demands
// attestation, peer 1 is the proxy (its traffic tapped), peer 2 a worker
// of a random-weight llama2.c model, peer 3 a client that allows
// unattested workers — plus a fifth peer whose worker answers one piece
// and then holds.
type testNet struct {
	ps                                 []*peers.Peer
	ledgers                            []*recorder
	strict, proxy, worker, client, slo *Service
	slowPeer                           *peers.Peer
	slowBackend                        *scripted
	traffic                            *trafficLog
	api                                *Client
	apiURL                             string
}

const (
	tinyModel = "tiny-random"
	slowModel = "slow"
)

func startNetwork(t *testing.T) *testNet {
	n := &testNet{ps: peers.Start(t, 4), traffic: &trafficLog{}}
	n.ledgers = startLedgers(t, n.ps)
	strictCfg := testConfig()
	strictCfg.AllowUnattested = false
	n.strict = startService(t, n.ps[0], n.ledgers[0], strictCfg)
	proxyCfg := testConfig()
	proxyCfg.Proxy, proxyCfg.CommissionPercent = true, DefaultCommissionPercent
	n.proxy = startService(t, n.ps[1], n.ledgers[1], proxyCfg, WithTrafficTap(n.traffic.tap))
	workerCfg := workerConfig(randomModel(tinyModel))
	workerCfg.Concurrency = 16 // room for the concurrent requests, whatever load its last offer showed
	n.worker = startService(t, n.ps[2], n.ledgers[2], workerCfg)
	clientCfg := testConfig()
	clientCfg.MaxTokens = 24
	n.client = startService(t, n.ps[3], n.ledgers[3], clientCfg)

	n.slowPeer = peers.Join(t, n.ps[0], nil)
	slowLedger := startLedger(t, n.slowPeer, n.ps[0])
	n.slowBackend = &scripted{name: slowModel, pieces: []string{"first piece", "second piece"},
		hold: make(chan struct{}), cancelled: make(chan struct{}, 4)}
	n.slo = startService(t, n.slowPeer, slowLedger, workerConfig(n.slowBackend))

	srv, api := serveAPI(t, n.client)
	n.api, n.apiURL = api, srv.URL
	for _, s := range []*Service{n.strict, n.client, n.proxy} {
		waitModel(t, s, tinyModel, 1)
		waitModel(t, s, slowModel, 1)
	}
	return n
}

// clientChannel is the channel the client pays the proxy through.
func (n *testNet) clientChannel(t *testing.T) *address.Address {
	t.Helper()
	raw, err := n.client.space.Get(channelKey(n.proxy.self))
	if err != nil {
		t.Fatalf("the client has no channel to the proxy: %v", err)
	}
	ch, err := address.ParseRawAddr(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// paidToProxy is what the proxy holds in vouchers from the client, once
// the client has paid for every answer it received.
func (n *testNet) paidToProxy(t *testing.T) *big.Int {
	t.Helper()
	n.client.settling.Wait()
	_, paid, err := n.ledgers[1].Incoming(n.clientChannel(t))
	if err != nil {
		t.Fatal(err)
	}
	return paid
}

func postJSON(t *testing.T, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func mustBig(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("%q is not a number", s)
	}
	return v
}

// TestComputeNetwork runs requests client → proxy → worker over real
// hosts and ledgers and checks content privacy, refusals, failures and
// the payments.
func TestComputeNetwork(t *testing.T) {
	n := startNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var results []*InferResult
	clientPP, clientPC := withCommission(testPricePrompt, 500), withCommission(testPriceCompletion, 500)

	t.Run("streaming", func(t *testing.T) {
		const prompt = "Tell me about the purple elephant Zanzibar"
		var pieces []string
		res, err := n.api.Infer(ctx, tinyModel, prompt, InferOptions{}, func(s string) { pieces = append(pieces, s) })
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
		answer := strings.Join(pieces, "")
		if answer == "" || res.Usage.CompletionTokens == 0 || res.Usage.PromptTokens == 0 {
			t.Fatalf("answer %q, usage %+v", answer, res.Usage)
		}
		if res.Confidential || res.Attestation != "none" || res.Worker != n.worker.self.String() || res.Proxy != n.proxy.self.String() {
			t.Errorf("result %+v: want a non-confidential answer from the worker via the proxy", res)
		}
		want := cost(int64(res.Usage.PromptTokens), int64(res.Usage.CompletionTokens), clientPP, clientPC)
		if res.Cost != want.String() {
			t.Errorf("cost %s, want %s for %+v at client prices", res.Cost, want, res.Usage)
		}
		if n.traffic.size() == 0 {
			t.Fatal("the proxy's tap saw no traffic")
		}
		for _, secret := range append([]string{prompt, "purple elephant", answer, `"messages"`, `"delta"`}, pieces...) {
			if len(secret) >= 6 && n.traffic.contains(secret) {
				t.Errorf("the proxy's traffic contains %q in clear", secret)
			}
		}
	})

	t.Run("non-streaming", func(t *testing.T) {
		resp, body := postJSON(t, n.apiURL+"/v1/chat/completions",
			`{"model":"tiny-random","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":12}`, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if got := resp.Header.Get(ConfidentialHeader); got != "false" {
			t.Errorf("%s = %q, want false", ConfidentialHeader, got)
		}
		var out struct {
			Object  string `json:"object"`
			Choices []struct {
				Message struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage        usageJSON   `json:"usage"`
			Confidential *bool       `json:"confidential"`
			Tonmesh      tonmeshJSON `json:"tonmesh"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		if out.Object != "chat.completion" || len(out.Choices) != 1 || out.Choices[0].Message.Role != "assistant" ||
			out.Choices[0].FinishReason == "" || out.Confidential == nil || *out.Confidential {
			t.Fatalf("answer %s", body)
		}
		if out.Usage.CompletionTokens < 1 || out.Usage.CompletionTokens > 12 || out.Usage.Cost.NanoTON == "" {
			t.Errorf("usage %+v: want 1..12 completion tokens and a cost", out.Usage)
		}
		results = append(results, &InferResult{RequestID: out.Tonmesh.RequestID, Cost: out.Usage.Cost.NanoTON})
	})

	t.Run("completions streaming with usage", func(t *testing.T) {
		resp, body := postJSON(t, n.apiURL+"/v1/completions",
			`{"model":"tiny-random","prompt":"The cat","max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}`, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		events := strings.Split(strings.TrimSpace(string(body)), "\n\n")
		if len(events) < 3 || events[len(events)-1] != "data: [DONE]" {
			t.Fatalf("events %q: want chunks, a usage chunk and [DONE]", events)
		}
		var usage struct {
			Choices []any     `json:"choices"`
			Usage   usageJSON `json:"usage"`
			Tonmesh tonmeshJSON
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(events[len(events)-2], "data: ")), &usage); err != nil {
			t.Fatal(err)
		}
		if len(usage.Choices) != 0 || usage.Usage.TotalTokens == 0 || usage.Usage.Cost.NanoTON == "" {
			t.Fatalf("usage chunk %s", events[len(events)-2])
		}
		results = append(results, &InferResult{RequestID: usage.Tonmesh.RequestID, Cost: usage.Usage.Cost.NanoTON})
	})

	t.Run("price cap below every offer", func(t *testing.T) {
		before := n.paidToProxy(t)
		resp, body := postJSON(t, n.apiURL+"/v1/chat/completions",
			`{"model":"tiny-random","messages":[{"role":"user","content":"hi"}]}`, map[string]string{MaxPriceHeader: "100"})
		want := "no worker serves tiny-random at or below 100 nanoTON per 1M tokens; the cheapest is " + capPrice(clientPP, clientPC).String() + ": raise max_price"
		if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(string(body), want) || !strings.Contains(string(body), `"code":"max_price_too_low"`) {
			t.Fatalf("status %d: %s\nwant the message %q", resp.StatusCode, body, want)
		}
		// A cap at the working price passes.
		res, err := n.api.Infer(ctx, tinyModel, "hello", InferOptions{MaxPrice: capPrice(clientPP, clientPC)}, nil)
		if err != nil {
			t.Fatalf("at the quoted price: %v", err)
		}
		results = append(results, res)
		if got := n.paidToProxy(t); new(big.Int).Sub(got, before).String() != res.Cost {
			t.Errorf("the refused request changed what was paid: %s → %s for one request of %s", before, got, res.Cost)
		}
	})

	t.Run("unattested worker refused", func(t *testing.T) {
		_, err := n.strict.infer(ctx, &inferRequest{kind: "chat", model: tinyModel, maxTokens: 8,
			body: []byte(`{"model":"tiny-random","messages":[{"role":"user","content":"hi"}],"max_tokens":8}`)},
			func(json.RawMessage) error { t.Error("a refused worker answered"); return nil })
		e, ok := err.(*Error)
		if !ok || e.Code != codeUnattested || e.Status != http.StatusForbidden || !strings.Contains(e.Message, "allow_unattested") {
			t.Fatalf("err = %v, want an unattested_worker refusal naming compute.allow_unattested", err)
		}
	})

	t.Run("client disconnect cancels the backend", func(t *testing.T) {
		before := n.paidToProxy(t)
		rctx, rcancel := context.WithCancel(ctx)
		defer rcancel()
		got := make(chan string, 4)
		errc := make(chan error, 1)
		go func() {
			_, err := n.api.Infer(rctx, slowModel, "wait for me", InferOptions{}, func(s string) { got <- s })
			errc <- err
		}()
		if first := <-got; first != "first piece" {
			t.Fatalf("first piece %q", first)
		}
		rcancel()
		select {
		case <-n.slowBackend.cancelled:
		case <-time.After(30 * time.Second):
			t.Fatal("the worker's backend never saw its context cancelled after the HTTP client left")
		}
		if err := <-errc; err == nil {
			t.Fatal("a cancelled request succeeded")
		}
		waitFor(t, "the proxy to finish the cancelled request", func() bool { return n.proxy.ProxyStatus().Running == 0 })
		if after := n.paidToProxy(t); after.Cmp(before) != 0 {
			t.Errorf("a cancelled request was charged: %s → %s", before, after)
		}
	})

	t.Run("idle timeout", func(t *testing.T) {
		before := n.paidToProxy(t)
		n.client.cfg.IdleTimeout = 300 * time.Millisecond
		defer func() { n.client.cfg.IdleTimeout = testConfig().IdleTimeout }()
		_, err := n.api.Infer(ctx, slowModel, "are you there?", InferOptions{}, nil)
		if e := asError(err); e == nil || e.Status != http.StatusGatewayTimeout || !strings.Contains(e.Message, "compute.idle_timeout") {
			t.Fatalf("err = %v, want a 504 naming compute.idle_timeout", err)
		}
		select {
		case <-n.slowBackend.cancelled:
		case <-time.After(30 * time.Second):
			t.Fatal("the backend was not cancelled after the idle timeout")
		}
		waitFor(t, "the proxy to finish the timed-out request", func() bool { return n.proxy.ProxyStatus().Running == 0 })
		if after := n.paidToProxy(t); after.Cmp(before) != 0 {
			t.Errorf("a timed-out request was charged: %s → %s", before, after)
		}
	})

	t.Run("API views", func(t *testing.T) {
		models, err := n.api.Models(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var tiny *ModelEntry
		for i := range models.Data {
			if models.Data[i].ID == tinyModel {
				tiny = &models.Data[i]
			}
		}
		if models.Object != "list" || tiny == nil || tiny.Price.Completion != clientPC.String() || tiny.Workers != 1 || tiny.Attestations[0] != "none" {
			t.Fatalf("models %+v", models)
		}
		offers, err := n.api.Offers(ctx)
		if err != nil || len(offers.Offers) != 2 || len(offers.Proxies) != 1 || offers.Proxies[0].CommissionPercent != 5 {
			t.Fatalf("offers %+v, %v", offers, err)
		}
		ws, err := NewClient(apiutilClient(t, n.worker)).WorkerStatus(ctx)
		if err != nil || !ws.Enabled || ws.Jobs == 0 || ws.Models[0].ID != tinyModel || ws.Attestation != "none" {
			t.Fatalf("worker status %+v, %v", ws, err)
		}
		ps, err := NewClient(apiutilClient(t, n.proxy)).ProxyStatus(ctx)
		if err != nil || !ps.Enabled || ps.Jobs == 0 || ps.Workers != 2 {
			t.Fatalf("proxy status %+v, %v", ps, err)
		}
		if st, err := n.api.WorkerStatus(ctx); err != nil || st.Enabled {
			t.Errorf("the client's worker status %+v, %v: want disabled", st, err)
		}
	})

	t.Run("concurrent requests", func(t *testing.T) {
		// Their bills may be paid in any order; each counts once the
		// cumulative vouchers cover it.
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				res, err := n.api.Infer(ctx, tinyModel, fmt.Sprintf("story number %d", i), InferOptions{}, nil)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				results = append(results, res)
			})
		}
		wg.Wait()
	})

	t.Run("vouchers add up", func(t *testing.T) {
		sum := new(big.Int)
		for _, r := range results {
			sum.Add(sum, mustBig(t, r.Cost))
		}
		if paid := n.paidToProxy(t); paid.Cmp(sum) != 0 {
			t.Fatalf("the proxy holds %s nanoTON in client vouchers; the client was charged %s", paid, sum)
		}
		// Each party journals a job last, once its side is settled: the
		// proxy after the client's voucher and its own to the worker, the
		// worker once that voucher is credited.
		waitFor(t, "every job settled on the client, the proxy and the worker", func() bool {
			for _, r := range results {
				if n.ledgers[3].jobEntry(r.RequestID) == nil || n.ledgers[1].jobEntry(r.RequestID) == nil || n.ledgers[2].jobEntry(r.RequestID) == nil {
					return false
				}
			}
			return true
		})
		ps := n.proxy.ProxyStatus()
		if ps.Received != sum.String() || ps.Billed != sum.String() || ps.Jobs != uint64(len(results)) {
			t.Errorf("proxy status %+v: want %d jobs, billed and received %s", ps, len(results), sum)
		}
		waitFor(t, "the worker to be paid", func() bool {
			return n.worker.WorkerStatus().Earned == n.proxy.ProxyStatus().PaidWorkers
		})
		ps = n.proxy.ProxyStatus()
		raw, err := n.proxy.space.Get(channelKey(n.worker.self))
		if err != nil {
			t.Fatal(err)
		}
		wch, _ := address.ParseRawAddr(string(raw))
		_, workerPaid, err := n.ledgers[2].Incoming(wch)
		if err != nil {
			t.Fatal(err)
		}
		commission := mustBig(t, ps.Commission)
		if workerPaid.String() != ps.PaidWorkers || new(big.Int).Add(workerPaid, commission).Cmp(sum) != 0 || commission.Sign() <= 0 {
			t.Errorf("worker vouchers %s + commission %s != received %s", workerPaid, commission, sum)
		}
		for _, r := range results {
			ce, pe, we := n.ledgers[3].jobEntry(r.RequestID), n.ledgers[1].jobEntry(r.RequestID), n.ledgers[2].jobEntry(r.RequestID)
			if ce == nil || pe == nil || we == nil {
				t.Fatalf("request %s: journal entries client %v proxy %v worker %v", r.RequestID, ce, pe, we)
			}
			var p struct {
				WorkerPaid string `json:"worker_paid"`
			}
			_ = json.Unmarshal(pe.Payload, &p)
			if ce.Amount.String() != r.Cost || pe.Amount.String() != r.Cost || we.Amount.String() != p.WorkerPaid {
				t.Errorf("request %s: client %s, proxy %s (worker share %s), worker %s", r.RequestID, ce.Amount, pe.Amount, p.WorkerPaid, we.Amount)
			}
		}
	})

	t.Run("worker killed mid-stream", func(t *testing.T) {
		before := n.paidToProxy(t)
		got := make(chan string, 4)
		errc := make(chan error, 1)
		go func() {
			_, err := n.api.Infer(ctx, slowModel, "and then?", InferOptions{}, func(s string) { got <- s })
			errc <- err
		}()
		<-got
		n.slowPeer.Net.Close()
		err := <-errc
		if err == nil || !strings.Contains(err.Error(), "failed mid-answer") || !strings.Contains(err.Error(), "not charged") {
			t.Fatalf("err = %v, want a clear mid-answer failure without charge", err)
		}
		if after := n.paidToProxy(t); after.Cmp(before) != 0 {
			t.Errorf("a failed request was charged: %s → %s", before, after)
		}
		ps := n.proxy.ProxyStatus()
		if ps.Failed == 0 {
			t.Errorf("proxy status %+v: no failure counted", ps)
		}
	})
	_ = peer.ID("")
}
