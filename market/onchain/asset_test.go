package onchain

import (
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestParseAsset(t *testing.T) {
	for _, c := range []struct {
		in, name, str string
		kind          Kind
	}{
		{"@Alice", "alice", "@alice", Username},
		{"alice", "alice", "@alice", Username},
		{"  @Bob_the_builder_2 ", "bob_the_builder_2", "@bob_the_builder_2", Username},
		{"@" + strings.Repeat("a", 32), strings.Repeat("a", 32), "@" + strings.Repeat("a", 32), Username},
		{"+888 1234 5678", "88812345678", "+888 1234 5678", Number},
		{"+88812345678", "88812345678", "+888 1234 5678", Number},
		{"88812345678", "88812345678", "+888 1234 5678", Number},
		{"+888-0000-0001", "88800000001", "+888 0000 0001", Number},
	} {
		a, err := ParseAsset(c.in)
		if err != nil {
			t.Errorf("ParseAsset(%q): %v", c.in, err)
			continue
		}
		if a.Kind != c.kind || a.Name != c.name || a.String() != c.str {
			t.Errorf("ParseAsset(%q) = %+v (%s), want %s %q (%s)", c.in, a, a, c.kind, c.name, c.str)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%+v does not validate: %v", a, err)
		}
		back, err := ParseAsset(a.String())
		if err != nil || back != a {
			t.Errorf("String %q does not parse back: %+v %v", a.String(), back, err)
		}
	}
	for _, c := range []struct{ in, says string }{
		{"", "empty"},
		{"@abcd", "5 to 32"},
		{"@" + strings.Repeat("a", 33), "5 to 32"},
		{"@_abcde", "starts with a letter"},
		{"@ab-cde", "only letters"},
		{"@héllo_", "only letters"},
		{"+888 1234 567", "followed by 8 digits"},
		{"+888 1234 56789", "followed by 8 digits"},
		{"+887 1234 5678", "followed by 8 digits"},
		{"+888 1234 567x", "only digits"},
		{"+ 88812345678", "only digits"},
		{"12345678901", "followed by 8 digits"},
	} {
		_, err := ParseAsset(c.in)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ParseAsset(%q) error %v, want one saying %q", c.in, err, c.says)
		}
	}
	for _, bad := range []Asset{{}, {Kind: Username, Name: "Alice"}, {Kind: Number, Name: "+88812345678"}, {Kind: "x", Name: "alice"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate accepted %+v", bad)
		}
	}
}

func TestAssetIndexAndText(t *testing.T) {
	a := Asset{Kind: Username, Name: "alice"}
	h := sha256.Sum256([]byte("alice"))
	if a.Index().Cmp(new(big.Int).SetBytes(h[:])) != 0 {
		t.Fatal("index is not the SHA-256 of the name")
	}
	b, err := json.Marshal(struct{ A Asset }{a})
	if err != nil || string(b) != `{"A":"@alice"}` {
		t.Fatalf("JSON %s, %v", b, err)
	}
	var back struct{ A Asset }
	if err := json.Unmarshal([]byte(`{"A":"+888 1234 5678"}`), &back); err != nil || back.A.Name != "88812345678" {
		t.Fatalf("JSON decode: %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"A":"@ab"}`), &back); err == nil {
		t.Fatal("JSON decode accepted a bad asset")
	}
	seen := map[string]bool{}
	for range 50 {
		n := RandomNumber()
		if err := n.Validate(); err != nil || n.Kind != Number {
			t.Fatalf("RandomNumber %+v: %v", n, err)
		}
		seen[n.Name] = true
	}
	if len(seen) < 45 {
		t.Fatalf("50 random numbers gave only %d distinct ones", len(seen))
	}
}

func TestAuctionParamsValidate(t *testing.T) {
	ok := AuctionParams{MinBid: tons(1), Duration: time.Hour}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	body, err := StartAuctionBody(1, ok)
	if err != nil {
		t.Fatal(err)
	}
	s := body.MustBeginParse()
	s.MustLoadUInt(32)
	s.MustLoadUInt(64)
	if mn, mx := s.MustLoadBigCoins(), s.MustLoadBigCoins(); mn.Cmp(tons(1)) != 0 || mx.Sign() != 0 {
		t.Fatalf("body bids %s %s", mn, mx)
	}
	if step, d, ext := s.MustLoadUInt(8), s.MustLoadUInt(32), s.MustLoadUInt(32); step != DefaultStepPercent || d != 3600 || ext != 3600 {
		t.Fatalf("defaults not applied: step %d duration %d extension %d", step, d, ext)
	}
	for _, c := range []struct {
		p    AuctionParams
		says string
	}{
		{AuctionParams{Duration: time.Hour}, "minimum bid"},
		{AuctionParams{MinBid: nano(-1), Duration: time.Hour}, "minimum bid"},
		{AuctionParams{MinBid: new(big.Int).Lsh(big.NewInt(1), 120), Duration: time.Hour}, "more than a message"},
		{AuctionParams{MinBid: tons(2), MaxBid: tons(1), Duration: time.Hour}, "buy-now"},
		{AuctionParams{MinBid: tons(1), StepPercent: 101, Duration: time.Hour}, "step"},
		{AuctionParams{MinBid: tons(1)}, "duration"},
		{AuctionParams{MinBid: tons(1), Duration: 1500 * time.Millisecond}, "duration"},
		{AuctionParams{MinBid: tons(1), Duration: MaxDuration + time.Second}, "duration"},
		{AuctionParams{MinBid: tons(1), Duration: time.Hour, Extension: MaxExtension + time.Second}, "extension"},
		{AuctionParams{MinBid: tons(1), Duration: time.Hour, Extension: -time.Second}, "extension"},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Validate(%+v) = %v, want an error about %q", c.p, err, c.says)
		}
		if _, err := StartAuctionBody(1, c.p); err == nil {
			t.Errorf("StartAuctionBody accepted %+v", c.p)
		}
	}
}

func TestNextMinBid(t *testing.T) {
	for _, c := range []struct {
		cur     *big.Int
		step    uint8
		has     bool
		want    *big.Int
		comment string
	}{
		{nil, 5, false, tons(7), "no bid: the minimum"},
		{tons(10), 5, true, tons(11), "1 TON beats 5 %"},
		{tons(20), 5, true, tons(21), "equal at 20 TON"},
		{tons(30), 5, true, nano(31_500_000_000), "5 % beats 1 TON"},
		{nano(30_000_000_001), 5, true, nano(31_500_000_002), "rounded up"},
		{tons(100), 50, true, tons(150), "another step"},
	} {
		if got := NextMinBid(c.cur, c.step, tons(7), c.has); got.Cmp(c.want) != 0 {
			t.Errorf("%s: NextMinBid(%v, %d) = %s, want %s", c.comment, c.cur, c.step, got, c.want)
		}
	}
}

func TestExitMeaning(t *testing.T) {
	for code := ExitNotRegistry; code <= ExitBadAddress; code++ {
		if m := ExitMeaning(int(code)); strings.Contains(m, "unknown") || m == "" {
			t.Errorf("exit %d has no meaning: %q", code, m)
		}
	}
	if m := ExitMeaning(int(ExitUnknownOp)); !strings.Contains(m, "operation") {
		t.Errorf("unknown op: %q", m)
	}
	if m := ExitMeaning(4242); !strings.Contains(m, "unknown exit code 4242") {
		t.Errorf("4242: %q", m)
	}
	if s := ExitBidTooLow.String(); !strings.HasPrefix(s, "210 (") {
		t.Errorf("String: %q", s)
	}
}
