package market

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

func testKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleListing(t testing.TB) (*Listing, []byte) {
	t.Helper()
	a, err := onchain.ParseAsset("@sample_name")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listing{
		Asset:   a,
		Item:    address.NewAddress(0, 0, bytes.Repeat([]byte{1}, 32)),
		Seller:  address.NewAddress(0, 0xff, bytes.Repeat([]byte{2}, 32)),
		Params:  onchain.AuctionParams{MinBid: tons(10), MaxBid: tons(100), StepPercent: 5, Duration: time.Hour, Extension: 10 * time.Minute},
		End:     time.Unix(1_800_000_000, 0),
		Started: time.Unix(1_799_996_400, 0),
		Tx:      bytes.Repeat([]byte{9}, 32),
	}
	raw, err := signListing(l, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return l, raw
}

func sampleBid(t testing.TB) []byte {
	t.Helper()
	a, _ := onchain.ParseAsset("+888 1234 5678")
	b, err := encodeBid(&Bid{Asset: a, Version: identity.V5R1, WalletKey: make(ed25519.PublicKey, 32), Order: []byte("not really a boc")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListingRoundTrip(t *testing.T) {
	l, raw := sampleListing(t)
	m, err := decodeMessage(raw)
	if err != nil || m.Listing == nil {
		t.Fatalf("decode: %v", err)
	}
	got := m.Listing
	if got.Asset != l.Asset || !equalAddr(got.Item, l.Item) || !equalAddr(got.Seller, l.Seller) ||
		got.Params.MinBid.Cmp(l.Params.MinBid) != 0 || got.Params.MaxBid.Cmp(l.Params.MaxBid) != 0 ||
		got.Params.StepPercent != 5 || got.Params.Duration != time.Hour || got.Params.Extension != 10*time.Minute ||
		!got.End.Equal(l.End) || !got.Started.Equal(l.Started) || !bytes.Equal(got.Tx, l.Tx) || got.Signer != l.Signer {
		t.Fatalf("round trip changed the listing:\n got %+v\nwant %+v", got, l)
	}
	if got.Seller.Workchain() != -1 {
		t.Errorf("seller workchain %d, want -1", got.Seller.Workchain())
	}
	if err := got.verify(); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// Any flipped byte breaks the decoding or the signature.
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		m, err := decodeMessage(bad)
		if err != nil {
			continue
		}
		if m.Listing == nil || m.Listing.verify() == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
}

func TestDecoderIsStrict(t *testing.T) {
	_, listing := sampleListing(t)
	bid := sampleBid(t)
	notice := encodeNotice(mustAsset(t, "@some_user"))
	for _, good := range [][]byte{listing, bid, notice} {
		if _, err := decodeMessage(good); err != nil {
			t.Fatalf("good message refused: %v", err)
		}
	}
	cases := map[string][]byte{
		"empty":            nil,
		"version 2":        append([]byte{2}, bid[1:]...),
		"unknown kind":     append([]byte{1, 9}, bid[2:]...),
		"trailing byte":    append(bytes.Clone(bid), 0),
		"truncated":        bid[:len(bid)-1],
		"non-canonical":    append([]byte{1, kindNotice, 9}, "Some_User"...),
		"bad asset":        append([]byte{1, kindNotice, 3}, "ab!"...),
		"oversized":        make([]byte, MaxMessage+1),
		"wallet version 7": bytes.Replace(bid, []byte{1, 0, 0, 0}, []byte{7, 0, 0, 0}, 1),
	}
	for name, b := range cases {
		if _, err := decodeMessage(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "90s": 90 * time.Second, "1h30m": 90 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "1.5s", "-1h", "3w"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestSyncRoundTrip(t *testing.T) {
	_, raw := sampleListing(t)
	m, _ := decodeMessage(raw)
	s := &Service{auctions: map[string]*auction{}, known: map[string]onchain.Asset{}}
	s.auctions["x"] = &auction{listing: m.Listing}
	a := mustAsset(t, "@known_item")
	s.known[a.Name] = a
	// A listing long past its retention is not served.
	_, old := sampleListing(t)
	om, _ := decodeMessage(old)
	om.Listing.End = time.Now().Add(-30 * 24 * time.Hour)
	s.auctions["old"] = &auction{listing: om.Listing}
	m.Listing.End = time.Now().Add(time.Hour)

	resp, err := s.handleSync(t.Context(), "", []byte{syncVersion})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := decodeSync(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Listings) != 1 || len(ans.Items) != 1 || ans.Items[0] != a {
		t.Fatalf("sync answer %+v", ans)
	}
	if _, err := s.handleSync(t.Context(), "", []byte{2}); err == nil {
		t.Error("a sync request of another version was answered")
	}
	for _, bad := range [][]byte{resp[:len(resp)-1], append(bytes.Clone(resp), 0), {2, 0, 0}} {
		if _, err := decodeSync(bad); err == nil {
			t.Errorf("bad sync answer %x accepted", bad)
		}
	}
}

func TestCodeMessageChecks(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := `{"id":"00112233445566778899aabbccddeeff","asset":"88812345678","code":"012345","expires":1800000060}`
	if _, err := decodeCodeMsg([]byte(good), now); err != nil {
		t.Fatalf("good code message refused: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(good, `"012345"`, `"12345"`, 1),
		strings.Replace(good, `"012345"`, `"01234a"`, 1),
		strings.Replace(good, `1800000060`, `1799999999`, 1),
		strings.Replace(good, `1800000060`, `1800999999`, 1),
		strings.Replace(good, `88812345678`, `+888 1234 5678`, 1),
		strings.Replace(good, `00112233`, `0011`, 1),
		strings.Replace(good, `}`, `,"x":1}`, 1),
		good + `{}`,
	} {
		if _, err := decodeCodeMsg([]byte(bad), now); err == nil {
			t.Errorf("bad code message accepted: %s", bad)
		}
	}
}
