package market

import (
	"bytes"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// FuzzDecodeMessage: the gossip decoder never panics, and what it accepts
// re-encodes to the same bytes (a listing through its signed form, a bid
// and a notice through their encoders).
func FuzzDecodeMessage(f *testing.F) {
	_, listing := sampleListing(f)
	f.Add(listing)
	f.Add(sampleBid(f))
	f.Add(encodeNotice(mustAsset(f, "@fuzz_user")))
	f.Add([]byte{1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		var again []byte
		switch {
		case m.Listing != nil:
			_ = m.Listing.verify()
			u, err := m.Listing.unsigned()
			if err != nil {
				t.Fatalf("decoded listing does not encode: %v", err)
			}
			again = append(u, m.Listing.Sig...)
		case m.Bid != nil:
			if again, err = encodeBid(m.Bid); err != nil {
				t.Fatalf("decoded bid does not encode: %v", err)
			}
		case m.Notice != nil:
			again = encodeNotice(*m.Notice)
		default:
			t.Fatal("decoded to nothing")
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, again)
		}
	})
}

// FuzzDecodeSync: the sync answer decoder never panics, and every listing
// it returns decodes on its own.
func FuzzDecodeSync(f *testing.F) {
	_, listing := sampleListing(f)
	f.Add([]byte{syncVersion, 0, 0})
	good := append([]byte{syncVersion, 1}, wire.AppendLenPrefixed(nil, listing)...)
	good = append(good, 1)
	f.Add(append(good, wire.AppendLenPrefixed(nil, []byte("fuzz_user1"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		ans, err := decodeSync(b)
		if err != nil {
			return
		}
		for _, l := range ans.Listings {
			if _, err := decodeMessage(l.raw); err != nil {
				t.Fatalf("a listing from a sync answer does not decode alone: %v", err)
			}
		}
	})
}

// FuzzDecodeCodeMsg: the login code message decoder never panics and
// accepts only well-formed codes.
func FuzzDecodeCodeMsg(f *testing.F) {
	f.Add([]byte(`{"id":"00112233445566778899aabbccddeeff","asset":"88812345678","code":"012345","expires":1800000060}`))
	f.Add([]byte(`{}`))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeCodeMsg(b, now)
		if err != nil {
			return
		}
		if len(m.Code) != codeDigits || m.Expires <= now.Unix() {
			t.Fatalf("accepted %+v", m)
		}
	})
}
