package compute

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestCostRoundsUp(t *testing.T) {
	cases := []struct {
		prompt, completion int64
		pp, pc             int64
		want               string
	}{
		{0, 0, 1000, 2000, "0"},
		{1, 0, 1, 0, "1"},                     // 1e-6 rounds up to 1
		{1_000_000, 0, 5, 0, "5"},             // exact
		{10, 20, 3_000_001, 7_000_001, "171"}, // 30.00001 + 140.00002 → 171
		{500_000, 500_000, 1, 1, "1"},
	}
	for _, c := range cases {
		if got := cost(c.prompt, c.completion, big.NewInt(c.pp), big.NewInt(c.pc)); got.String() != c.want {
			t.Errorf("cost(%d, %d, %d, %d) = %s, want %s", c.prompt, c.completion, c.pp, c.pc, got, c.want)
		}
	}
	if got := withCommission(big.NewInt(7_000_001), 500); got.String() != "7350002" {
		t.Errorf("7000001 + 5%% = %s, want 7350002 (rounded up)", got)
	}
	if commissionBP(5) != 500 || commissionBP(-1) != 0 || commissionBP(250) != 10_000 || commissionBP(2.345) != 235 {
		t.Error("commissionBP does not convert or clamp")
	}
}

func TestBillNeverPaysWorkerMoreThanClient(t *testing.T) {
	r := &Receipt{PromptTokens: 10, CompletionTokens: 1000, PricePrompt: "1000000", PriceCompletion: "1000000"}
	b := billFor(r, big.NewInt(1_050_000), big.NewInt(1_050_000), big.NewInt(500))
	if b.client.String() != "500" || b.worker.String() != "500" {
		t.Errorf("capped bill = %s / %s, want both capped at the 500 reserved", b.client, b.worker)
	}
	b = billFor(r, big.NewInt(1_050_000), big.NewInt(1_050_000), nil)
	if b.client.String() != "1061" || b.worker.String() != "1010" {
		t.Errorf("bill = %s / %s, want 1061 / 1010", b.client, b.worker)
	}
}

func TestOfferChecks(t *testing.T) {
	k, id := testKey(t)
	other, _ := testKey(t)
	now := time.Now()
	good, err := sign(k, kindOffer, testOffer(t, id, now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeGossip(good, id, now); err != nil {
		t.Fatalf("a good offer is refused: %v", err)
	}
	mutate := func(f func(o *Offer)) []byte {
		o := testOffer(t, id, now)
		f(o)
		b, _ := sign(k, kindOffer, o)
		return b
	}
	forged, _ := sign(other, kindOffer, testOffer(t, id, now))
	flipped := append([]byte{}, good...)
	flipped[len(flipped)-1] ^= 1
	for name, c := range map[string]struct {
		b    []byte
		from peer.ID
		want string
	}{
		"signed by another key": {forged, id, "bad signature"},
		"tampered signature":    {flipped, id, "bad signature"},
		"relayed as another's":  {good, "12D3KooWGnTZpwb3qvVqqVFcnWtzjherzDwqKcUAY4nYihUeXiAM", "published by"},
		"expired": {mutate(func(o *Offer) {
			o.Issued, o.Expires = now.Add(-time.Minute).UnixMilli(), now.Add(-time.Second).UnixMilli()
		}), id, "expired"},
		"lifetime too long":      {mutate(func(o *Offer) { o.Expires = now.Add(time.Hour).UnixMilli() }), id, "lifetime"},
		"no models":              {mutate(func(o *Offer) { o.Models = nil }), id, "models"},
		"negative price":         {mutate(func(o *Offer) { o.PricePrompt = "-1" }), id, "price"},
		"bad HPKE key":           {mutate(func(o *Offer) { o.HPKEKey = []byte{1, 2} }), id, "HPKE"},
		"zero concurrency":       {mutate(func(o *Offer) { o.Concurrency = 0 }), id, "concurrency"},
		"key expired":            {mutate(func(o *Offer) { o.KeyExpiry = now.Add(-time.Second).Unix() }), id, "key expiry"},
		"receipt on the topic":   {mustSign(t, k, kindReceipt, &Receipt{Peer: id.String()}), id, "does not belong"},
		"unknown field in offer": {mustSignRaw(t, k, kindOffer, `{"peer":"`+id.String()+`","x":1}`), id, "unknown field"},
	} {
		if _, err := decodeGossip(c.b, c.from, now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, c.want)
		}
	}
}

func mustSign(t *testing.T, k crypto.PrivKey, kind byte, body any) []byte {
	t.Helper()
	b, err := sign(k, kind, body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSignRaw(t *testing.T, k crypto.PrivKey, kind byte, body string) []byte {
	t.Helper()
	sig, err := k.Sign(signingBytes(kind, []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	return (&signed{Kind: kind, Body: []byte(body), Sig: sig}).encode()
}

func TestOfferTableWithdrawAndExpiry(t *testing.T) {
	tb := newOfferTable()
	k, id := testKey(t)
	now := time.Now()
	add := func(kind byte, body any) {
		raw := mustSign(t, k, kind, body)
		it, err := decodeGossip(raw, id, now)
		if err != nil {
			t.Fatal(err)
		}
		tb.add(it)
	}
	o := testOffer(t, id, now)
	add(kindOffer, o)
	if len(tb.live(now)) != 1 {
		t.Fatal("offer not in the table")
	}
	older := testOffer(t, id, now.Add(-time.Second))
	add(kindOffer, older)
	if tb.get(id, now).offer.Issued != o.Issued {
		t.Error("an older offer replaced a newer one")
	}
	add(kindWithdraw, &withdrawal{Peer: id.String(), Issued: now.Add(time.Millisecond).UnixMilli()})
	if len(tb.live(now)) != 0 {
		t.Error("a withdrawal left the offer in the table")
	}
	add(kindOffer, o)
	if len(tb.live(now)) != 0 {
		t.Error("an offer issued before the withdrawal came back")
	}
	add(kindOffer, testOffer(t, id, now.Add(2*time.Millisecond)))
	if len(tb.live(now)) != 1 {
		t.Error("a newer offer after a withdrawal was refused")
	}
	later := now.Add(time.Minute)
	if len(tb.live(later)) != 0 {
		t.Error("an expired offer is live")
	}
	tb.prune(later)
	if len(tb.offers) != 0 {
		t.Error("prune kept an expired offer")
	}
}

// TestPickLeastLoadedWithinCap checks worker choice: capacity, price cap,
// running × average duration, and the refusals' messages.
func TestPickLeastLoadedWithinCap(t *testing.T) {
	now := time.Now()
	s := &Service{table: newOfferTable(), proxy: newProxyState(500)}
	var ids []peer.ID
	for i, price := range []string{"1000", "2000", "4000"} {
		k, id := testKey(t)
		o := testOffer(t, id, now)
		o.PricePrompt, o.PriceCompletion = price, price
		o.Running = []int{0, 0, 2}[i]
		it, err := decodeGossip(mustSign(t, k, kindOffer, o), id, now)
		if err != nil {
			t.Fatal(err)
		}
		s.table.add(it)
		ids = append(ids, id)
	}
	c, rerr := s.pick("m", nil, nil, now)
	if rerr != nil || c.id != ids[0] || c.pc.String() != "1050" {
		t.Fatalf("pick = %+v, %v: want the cheapest idle worker at 1050", c, rerr)
	}
	// Two running on the cheapest makes it full (concurrency 2); the next idle one wins.
	s.proxy.started(ids[0])
	s.proxy.started(ids[0])
	if c, _ = s.pick("m", nil, nil, now); c.id != ids[1] {
		t.Errorf("picked %s, want the idle worker %s", c.id, ids[1])
	}
	s.proxy.finished(ids[0], time.Second, true)
	s.proxy.finished(ids[0], time.Second, true)
	// Slow history makes a worker less attractive once it is busy.
	s.proxy.started(ids[0])
	s.proxy.avgDur[ids[0]] = time.Minute
	s.proxy.started(ids[1])
	s.proxy.avgDur[ids[1]] = time.Second
	if c, _ = s.pick("m", nil, nil, now); c.id != ids[1] {
		t.Errorf("picked %s, want %s (1 running × 1s beats 1 running × 1min)", c.id, ids[1])
	}
	_, rerr = s.pick("m", big.NewInt(100), nil, now)
	if rerr == nil || rerr.code != codePriceCap || !strings.Contains(rerr.msg, "the cheapest is 1050: raise max_price") {
		t.Errorf("cap refusal = %v", rerr)
	}
	_, rerr = s.pick("other", nil, nil, now)
	if rerr == nil || rerr.code != codeNoWorker || !strings.Contains(rerr.msg, "models on offer: m") {
		t.Errorf("unknown model refusal = %v", rerr)
	}
	_, rerr = s.pick("m", nil, map[peer.ID]bool{ids[0]: true, ids[1]: true, ids[2]: true}, now)
	if rerr == nil || !strings.Contains(rerr.msg, "no other worker") {
		t.Errorf("all excluded = %v", rerr)
	}
}

func TestReservations(t *testing.T) {
	p := newProxyState(0)
	dep := big.NewInt(1000)
	if err := p.bindChannel("ch", "a", big.NewInt(100)); err != nil {
		t.Fatal(err)
	}
	if err := p.bindChannel("ch", "b", big.NewInt(100)); err == nil {
		t.Error("a second client took the channel")
	}
	if rerr := p.reserve("ch", dep, big.NewInt(100), big.NewInt(600)); rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := p.reserve("ch", dep, big.NewInt(100), big.NewInt(400)); rerr == nil || rerr.code != codeFunds || !strings.Contains(rerr.msg, "has 300 left") {
		t.Fatalf("over-reservation = %v", rerr)
	}
	if billed, err := p.charge("ch", big.NewInt(600), big.NewInt(250)); err != nil || billed.Int64() != 350 {
		t.Fatalf("charge = %v, %v: want the channel's total 350 (100 paid before, 250 billed)", billed, err)
	}
	if rerr := p.reserve("ch", dep, big.NewInt(100), big.NewInt(651)); rerr == nil {
		t.Error("billed but unpaid amounts were not counted")
	}
	if rerr := p.reserve("ch", dep, big.NewInt(350), big.NewInt(650)); rerr != nil {
		t.Errorf("after payment: %v", rerr)
	}
}
