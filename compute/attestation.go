package compute

import (
	"context"
	"fmt"
	"time"

	"github.com/tonmesh/tonmesh/compute/attest"
)

// claimsOf are the claims a worker's evidence binds: its HPKE key, its
// peer ID, the key's expiry and its models (each by weights hash, or
// "id:<model>" when the backend cannot hash the weights).
func claimsOf(hpkeKey []byte, worker string, expiry int64, models []OfferModel) attest.Claims {
	c := attest.Claims{HPKEKey: hpkeKey, NodeKey: worker, Expiry: expiry, Models: make([]string, len(models))}
	for i, m := range models {
		if m.WeightsHash != "" {
			c.Models[i] = m.WeightsHash
		} else {
			c.Models[i] = "id:" + m.ID
		}
	}
	return c
}

// attestKey has the configured attester vouch for a new key.
func (s *Service) attestKey(ctx context.Context, hpkeKey []byte, expiry int64, models []OfferModel) (Evidence, error) {
	ev, err := s.cfg.Attester.Attest(ctx, claimsOf(hpkeKey, s.self.String(), expiry, models))
	if err != nil {
		return Evidence{}, fmt.Errorf("compute: attest the worker key: %w", err)
	}
	return Evidence{Kind: string(ev.Kind), Quote: ev.Quote}, nil
}

// verifyOffer checks the worker's evidence against its offer under this
// client's policy. It returns whether answers from it are confidential.
func (s *Service) verifyOffer(ctx context.Context, o *Offer, now time.Time) (attest.Result, error) {
	c := claimsOf(o.HPKEKey, o.Peer, o.KeyExpiry, o.Models)
	ev := attest.Evidence{Kind: attest.Kind(o.Evidence.Kind), Quote: o.Evidence.Quote}
	res, err := attest.Verify(ctx, ev, c, attest.Policy{AllowUnattested: s.cfg.AllowUnattested, Now: now})
	if err != nil {
		return res, fmt.Errorf("worker %s: %w", o.Peer, err)
	}
	return res, nil
}
