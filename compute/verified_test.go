package compute

import (
	"context"
	"testing"
	"time"
)

// TestVerifiedOffersCache: an offer is verified once and found again by
// its bytes; a tampered copy is verified anew (and fails), an offer the
// client's policy refuses is never remembered, and a remembered offer is
// dropped once it expires.
func TestVerifiedOffersCache(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	k, id := testKey(t)
	raw, err := sign(k, kindOffer, testOffer(t, id, now))
	if err != nil {
		t.Fatal(err)
	}
	strict := &Service{cfg: Config{AllowUnattested: false}}
	if _, errOffer, refused := strict.checkOffer(ctx, raw, now); errOffer != nil || refused == nil {
		t.Fatalf("a strict client: offer error %v, refusal %v; want a refusal of the unattested worker", errOffer, refused)
	}
	if len(strict.verified.m) != 0 {
		t.Fatal("a refused offer was remembered")
	}

	s := &Service{cfg: Config{AllowUnattested: true}}
	v, errOffer, refused := s.checkOffer(ctx, raw, now)
	if errOffer != nil || refused != nil || v.worker != id || v.result.Kind != "none" {
		t.Fatalf("checkOffer = %+v, %v, %v", v, errOffer, refused)
	}
	again, _, _ := s.checkOffer(ctx, raw, now)
	if again != v {
		t.Error("a verified offer was verified again")
	}
	tampered := append([]byte(nil), raw...)
	tampered[len(tampered)-1] ^= 1 // the signature
	if _, errOffer, _ := s.checkOffer(ctx, tampered, now); errOffer == nil {
		t.Error("a tampered copy of a verified offer was accepted")
	}
	later := now.Add(time.Minute) // past the offer's 30 s
	if _, errOffer, _ := s.checkOffer(ctx, raw, later); errOffer == nil {
		t.Error("an expired offer was served from the cache")
	}
	if len(s.verified.m) != 0 {
		t.Error("an expired offer stayed in the cache")
	}
}
