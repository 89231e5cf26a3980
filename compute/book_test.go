package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger"
)

// stingy is a client's ledger that can refuse to pay bills. When a bill
// arrives it reads what the proxy's book holds for the channel at that
// moment, through look.
type stingy struct {
	*recorder
	refuse atomic.Bool
	look   func() string

	mu         sync.Mutex
	bookAtBill []string // the proxy's billed total for the channel, at each bill
}

func (s *stingy) Pay(ctx context.Context, ch *address.Address, amount *big.Int) (*big.Int, error) {
	if s.look != nil {
		s.mu.Lock()
		s.bookAtBill = append(s.bookAtBill, s.look())
		s.mu.Unlock()
	}
	if s.refuse.Load() {
		return nil, errors.New("test: this client does not pay its bills")
	}
	return s.recorder.Pay(ctx, ch, amount)
}

// bookBilled is what s's book holds as billed on ch ("" when nothing).
func bookBilled(s *Service, ch *address.Address) string {
	raw, err := s.space.Get(bookChannelKey(ch.StringRaw()))
	if err != nil {
		return ""
	}
	var r channelRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return "corrupt: " + err.Error()
	}
	return r.Billed
}

// bookRequest is a small chat request for model.
func bookRequest(model string, maxTokens int, prompt string) *inferRequest {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"max_tokens":%d}`, model, prompt, maxTokens)
	return &inferRequest{kind: "chat", model: model, maxTokens: maxTokens, body: []byte(body)}
}

// TestProxyBookSurvivesRestart: a client pays one request and leaves the
// next unpaid; the proxy restarts on the same store. Its counters and the
// channel's billed total come back, and the debt still counts: a request
// that would fit the deposit minus what was paid, but not minus what was
// billed, is refused, and a later payment that does not cover the debt is
// not accepted.
func TestProxyBookSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ps := peers.Start(t, 3) // 0: chain host and worker, 1: proxy, 2: client
	workerPeer, proxyPeer, clientPeer := ps[0], ps[1], ps[2]
	ledgers := make([]*recorder, 3)
	ledgers[0] = startLedger(t, workerPeer, workerPeer)
	proxyLedger, err := proxyPeer.StartLedger(ctx, workerPeer, big.NewInt(20_000_000_000), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	var stopLedger sync.Once
	t.Cleanup(func() { stopLedger.Do(proxyLedger.Stop) })
	ledgers[1] = &recorder{Service: proxyLedger}
	ledgers[2] = startLedger(t, clientPeer, workerPeer)

	be := &scripted{name: "book", pieces: []string{"one", "two", "three"}}
	startService(t, workerPeer, ledgers[0], workerConfig(be))
	proxyCfg := testConfig()
	proxyCfg.Proxy, proxyCfg.CommissionPercent = true, DefaultCommissionPercent
	proxy := startService(t, proxyPeer, ledgers[1], proxyCfg)
	clientPay := &stingy{recorder: ledgers[2]}
	clientCfg := testConfig()
	clientCfg.ChannelDeposit = big.NewInt(1_000_000) // small, so that a request can overdraw it
	client := startService(t, clientPeer, clientPay, clientCfg)
	waitModel(t, proxy, "book", 1)
	waitModel(t, client, "book", 1)

	// One paid request, one refused at the price cap, one left unpaid.
	paid, err := client.infer(ctx, bookRequest("book", 8, "pay for this"), func(json.RawMessage) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// The client pays after it has the answer.
	waitFor(t, "the proxy to receive the first payment", func() bool { return proxy.ProxyStatus().Received == paid.Cost })
	capped := bookRequest("book", 8, "too cheap")
	capped.maxPrice = big.NewInt(1)
	if _, err := client.infer(ctx, capped, func(json.RawMessage) error { return nil }); err == nil {
		t.Fatal("a request under every offer's price was served")
	}
	raw, err := client.space.Get(channelKey(proxy.self))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := address.ParseRawAddr(string(raw))
	clientPay.look = func() string { return bookBilled(proxy, ch) }
	clientPay.refuse.Store(true)
	if _, err = client.infer(ctx, bookRequest("book", 8, "but not for this one"), func(json.RawMessage) error { return nil }); err != nil {
		t.Fatalf("unpaid request: %v (the answer comes before the payment)", err)
	}
	waitFor(t, "the client to refuse the bill", func() bool {
		clientPay.mu.Lock()
		defer clientPay.mu.Unlock()
		return len(clientPay.bookAtBill) > 0
	})
	clientPay.refuse.Store(false)
	proxy.Stop() // waits for the proxy to settle the unpaid request
	before := proxy.ProxyStatus()
	billed, received := mustBig(t, before.Billed), mustBig(t, before.Received)
	owed := new(big.Int).Sub(billed, received)
	if before.Jobs != 2 || before.Refused != 1 || received.String() != paid.Cost || owed.Sign() <= 0 || before.PaidWorkers == "0" {
		t.Fatalf("proxy status before the restart %+v: want 2 jobs, 1 refusal, %s received and more billed", before, paid.Cost)
	}
	clientPay.mu.Lock()
	atBill := clientPay.bookAtBill
	clientPay.mu.Unlock()
	if len(atBill) != 1 || atBill[0] != before.Billed {
		t.Fatalf("when the client held the unpaid bill the proxy's book said %q billed; want %s (the bill durable before it is sent)", atBill, before.Billed)
	}

	// Restart the proxy's node on the same store and identity.
	stopLedger.Do(proxyLedger.Stop)
	proxyPeer.Restart(t)
	proxyLedger2, err := proxyPeer.StartLedger(ctx, workerPeer, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxyLedger2.Stop)
	ledger2 := &recorder{Service: proxyLedger2}
	proxy = startService(t, proxyPeer, ledger2, proxyCfg)
	if err := clientPeer.Net.Host().Connect(ctx, peer.AddrInfo{ID: proxyPeer.Net.ID(), Addrs: proxyPeer.Net.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitModel(t, proxy, "book", 1)
	after := proxy.ProxyStatus()
	before.Workers, after.Workers = 0, 0
	if after != before {
		t.Fatalf("proxy status after the restart\n %+v\nwant\n %+v", after, before)
	}

	// The client still owes: size a request to fit the deposit minus what
	// was paid, but not minus what was billed.
	dep, chPaid, err := proxyLedger2.Incoming(ch)
	if err != nil {
		t.Fatal(err)
	}
	if chPaid.Cmp(received) != 0 {
		t.Fatalf("the channel's vouchers hold %s, the proxy received %s", chPaid, received)
	}
	pp, pc := withCommission(testPricePrompt, 500), withCommission(testPriceCompletion, 500)
	req := bookRequest("book", 1, "overdraw")
	promptBound := promptTokenBound(len(req.body) + 64)
	room := new(big.Int).Sub(dep, chPaid) // what a forgetful proxy would allow
	tokens := new(big.Int).Mul(room, perMillion)
	tokens.Sub(tokens, new(big.Int).Mul(big.NewInt(promptBound), pp))
	tokens.Quo(tokens, pc)
	req.maxTokens = int(tokens.Int64())
	maxCost := cost(promptBound, int64(req.maxTokens), pp, pc)
	if req.maxTokens < 1 || req.maxTokens > 1<<20 || maxCost.Cmp(room) > 0 || maxCost.Cmp(new(big.Int).Sub(dep, billed)) <= 0 {
		t.Fatalf("test setup: %d tokens cost up to %s; want within %s but over %s", req.maxTokens, maxCost, room, new(big.Int).Sub(dep, billed))
	}
	call := &clientCall{s: client, req: req, proxy: proxy.self, id: newRequestID(),
		emit: func(json.RawMessage) error { t.Error("an overdrawing request was answered"); return nil }, dog: &watchdog{cancel: func(error) {}}}
	_, err = call.run(ctx)
	if e, ok := err.(*Error); !ok || e.Code != codeFunds || !strings.Contains(e.Message, "left") {
		t.Fatalf("overdrawing request after the restart: err = %v, want an insufficient_funds refusal", err)
	}
	if st := proxy.ProxyStatus(); st.Refused != before.Refused+1 || st.Jobs != before.Jobs {
		t.Errorf("proxy status %+v: want the refusal counted and no job", st)
	}

	// A payment for a new bill alone does not cover the debt.
	res, err := client.infer(ctx, bookRequest("book", 8, "one more"), func(json.RawMessage) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the proxy to settle the last request", func() bool {
		return proxy.ProxyStatus().PaidWorkers != before.PaidWorkers
	})
	st := proxy.ProxyStatus()
	if st.Received != before.Received || st.Billed != new(big.Int).Add(billed, mustBig(t, res.Cost)).String() || ledger2.jobEntry(res.RequestID) != nil {
		t.Errorf("after a payment that leaves the debt unpaid: status %+v, journal %v; want it billed but not received", st, ledger2.jobEntry(res.RequestID))
	}
	if got := bookBilled(proxy, ch); got != st.Billed {
		t.Errorf("the book holds %s billed on the channel, the status %s", got, st.Billed)
	}
}

// openBook opens the store in dir and a proxy book on it.
func openBook(t *testing.T, dir string) (*ledger.Store, *ledger.Space, *proxyState) {
	t.Helper()
	store, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	space, err := store.Space(SpaceName)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	p := newProxyState(0)
	if err := p.loadBook(space, testLogger(t)); err != nil {
		store.Close()
		t.Fatal(err)
	}
	return store, space, p
}

// TestBookOnStore: what charge writes comes back in a new proxy state on
// the reopened store: the bill counts against the deposit, the channel
// stays bound to its client, and a corrupt record is refused rather than
// forgiven.
func TestBookOnStore(t *testing.T) {
	dir := t.TempDir()
	store, space, p := openBook(t, dir)
	_, alice := testKey(t)
	_, bob := testKey(t)
	if err := p.bindChannel("ch", alice, big.NewInt(0)); err != nil {
		t.Fatal(err)
	}
	if rerr := p.reserve("ch", big.NewInt(1000), big.NewInt(0), big.NewInt(500)); rerr != nil {
		t.Fatal(rerr)
	}
	if billed, err := p.charge("ch", big.NewInt(500), big.NewInt(300)); err != nil || billed.Int64() != 300 {
		t.Fatalf("charge = %v, %v: want the channel's total 300", billed, err)
	}
	p.stats.Refused++ // not written until the next write
	if err := p.save(); err != nil {
		t.Fatal(err)
	}
	if err := space.Set(bookChannelKey("bad"), []byte(`{"owner":"x","billed":"-1"}`)); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	store, _, p = openBook(t, dir)
	defer store.Close()
	if p.stats.Jobs != 1 || p.stats.Refused != 1 || p.billedT.String() != "300" {
		t.Errorf("counters after reopening: %+v, billed %s; want 1 job, 1 refusal, 300 billed", p.stats, p.billedT)
	}
	if err := p.bindChannel("ch", bob, big.NewInt(0)); err == nil {
		t.Error("another client took a channel bound before the restart")
	}
	if err := p.bindChannel("ch", alice, big.NewInt(0)); err != nil {
		t.Fatal(err)
	}
	if rerr := p.reserve("ch", big.NewInt(1000), big.NewInt(0), big.NewInt(701)); rerr == nil {
		t.Error("the unpaid bill of 300 was forgotten: 701 of 1000 reserved")
	}
	if rerr := p.reserve("ch", big.NewInt(1000), big.NewInt(0), big.NewInt(700)); rerr != nil {
		t.Errorf("700 of the 1000 − 300 left: %v", rerr)
	}
	if err := p.bindChannel("bad", alice, big.NewInt(0)); err == nil || !strings.Contains(err.Error(), "open a new channel") {
		t.Errorf("a corrupt record = %v, want a refusal asking for a new channel", err)
	}
}
