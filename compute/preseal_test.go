package compute

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// TestSealAheadToLastPick: a client seals its next request ahead to the
// worker the proxy picked last; when the proxy picks it again it forwards
// that envelope at once, and when it picks another worker the client
// seals again for that one. Both ways the answer is the right worker's.
func TestSealAheadToLastPick(t *testing.T) {
	ps := peers.Start(t, 4)
	const model = "ahead"
	proxyCfg := testConfig()
	proxyCfg.Proxy = true
	proxy := startService(t, ps[0], nil, proxyCfg)
	a := startService(t, ps[1], nil, workerConfig(&scripted{name: model, pieces: []string{"from ", "A"}}))
	client := startService(t, ps[3], nil, testConfig())
	waitModel(t, proxy, model, 1)
	waitModel(t, client, model, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ask := func() (string, *InferResult) {
		t.Helper()
		var text strings.Builder
		res, err := client.infer(ctx, bookRequest(model, 8, "who are you?"), func(c json.RawMessage) error {
			text.WriteString(deltaContent(t, c))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return text.String(), res
	}
	if got, res := ask(); got != "from A" || res.Worker != a.self.String() {
		t.Fatalf("first request: %q from %s", got, res.Worker)
	}
	if n := client.client.forwarded.Load(); n != 0 {
		t.Fatalf("%d requests forwarded before any pick was known", n)
	}
	if got, res := ask(); got != "from A" || res.Worker != a.self.String() {
		t.Fatalf("second request: %q from %s", got, res.Worker)
	}
	if n := client.client.forwarded.Load(); n != 1 {
		t.Fatalf("%d requests forwarded sealed ahead, want the second", n)
	}

	// Now the proxy can only pick B: the envelope sealed ahead to A is
	// not used, and the client seals for B.
	bCfg := workerConfig(&scripted{name: model, pieces: []string{"from ", "B"}})
	bCfg.PricePrompt, bCfg.PriceCompletion = big.NewInt(1), big.NewInt(1)
	b := startService(t, ps[2], nil, bCfg)
	waitModel(t, proxy, model, 2)
	a.Stop()
	waitFor(t, "the proxy to drop worker A", func() bool {
		for _, m := range proxy.Models().Data {
			if m.ID == model {
				return m.Workers == 1
			}
		}
		return false
	})
	if v := client.picks.get(proxy.self, model, time.Now()); v == nil || v.worker != a.self {
		t.Fatal("the client does not remember worker A as the last pick")
	}
	if got, res := ask(); got != "from B" || res.Worker != b.self.String() {
		t.Fatalf("after A left: %q from %s, want B", got, res.Worker)
	}
	if n := client.client.forwarded.Load(); n != 1 {
		t.Fatalf("%d requests forwarded, want still 1: the envelope sealed to A must not be forwarded to B", n)
	}
}

// deltaContent is the content of one streamed chat chunk.
func deltaContent(t *testing.T, chunk json.RawMessage) string {
	t.Helper()
	var c struct {
		Choices []struct {
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(chunk, &c); err != nil {
		t.Fatalf("chunk %s: %v", chunk, err)
	}
	if len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Delta.Content
}

// TestForwardedClaimRefused: a proxy that claims to have forwarded an
// envelope the client never sealed ahead is refused.
func TestForwardedClaimRefused(t *testing.T) {
	k, id := testKey(t)
	now := time.Now()
	raw, err := sign(k, kindOffer, testOffer(t, id, now))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{AllowUnattested: true}}
	c := &clientCall{s: s, req: bookRequest("m", 8, "hi"), id: newRequestID(), dog: &watchdog{cancel: func(error) {}}}
	head, _ := json.Marshal(offerHead{Offer: raw, PricePrompt: "1", PriceCompletion: "1", Reserved: "10", Forwarded: true})
	err = c.onOffer(context.Background(), &message{Type: msgOffer, Head: head})
	if e, ok := err.(*Error); !ok || e.Code != codeInternal || !strings.Contains(e.Message, "did not seal") {
		t.Fatalf("a forwarded claim without an envelope sealed ahead: %v", err)
	}
	if c.opener != nil {
		t.Fatal("the client took the claimed worker as its own")
	}
}
