package share

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// Derived claims in shares: the owner proves claims a verifier attested
// (age_over_18 …) instead of sending the element they come from.

// ClaimsAll, as the only claim asked of Attest, derives every claim the
// element supports (passport.DefaultClaims).
const ClaimsAll = "all"

// ReceivedClaims is one verified claims proof, as the service sees it.
type ReceivedClaims struct {
	Type      passport.ElementType `json:"type"`
	Verifier  string               `json:"verifier"`
	Claims    map[string]bool      `json:"claims"`
	IssuedAt  time.Time            `json:"issued_at"`
	ExpiresAt time.Time            `json:"expires_at"`
}

// AttestationView is an attestation the owner holds, with the claims it
// lets the owner prove (the values of its disclosures).
type AttestationView struct {
	*passport.Attestation
	Claims map[string]bool `json:"claims,omitempty"`
}

// heldAttestation is an attestation with the owner's disclosures of it.
type heldAttestation struct {
	a           *passport.Attestation
	disclosures []string
	claims      map[string]bool // what the disclosures disclose
}

// held loads every attestation the owner holds, with its disclosures.
func (s *Service) held() ([]heldAttestation, error) {
	var out []heldAttestation
	err := s.space.Iterate([]byte(pfxAttest), func(k, v []byte) error {
		a, err := passport.UnmarshalAttestation(v)
		if err != nil {
			return fmt.Errorf("share: stored attestation is corrupt: %w", err)
		}
		h := heldAttestation{a: a}
		suffix := strings.TrimPrefix(string(k), pfxAttest)
		if err := s.getJSON(pfxAttDisc+suffix, &h.disclosures); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if len(h.disclosures) > 0 {
			if h.claims, err = a.Disclosed(h.disclosures); err != nil {
				return fmt.Errorf("share: stored disclosures of %s: %w", suffix, err)
			}
		}
		out = append(out, h)
		return nil
	})
	return out, err
}

// claimChoice is how the owner would answer one claims entry: the option
// and attestation that prove the most of it, and what stays unproven.
type claimChoice struct {
	opt        passport.ScopeOne
	held       *heldAttestation
	unattested []string
}

// chooseClaims picks, for a claims entry, the attestation (valid now,
// about this node) whose disclosures prove the most of an option's
// claims; the first option and the latest expiry win ties.
func chooseClaims(el passport.ScopeElement, held []heldAttestation, self peer.ID, now time.Time) claimChoice {
	best := claimChoice{opt: el.Options[0], unattested: el.Options[0].Claims}
	bestN := -1
	for _, o := range el.Options {
		for i := range held {
			h := &held[i]
			if h.a.Type != o.Type || h.a.Subject != self.String() || len(h.claims) == 0 || h.a.Verify(now) != nil {
				continue
			}
			var missing []string
			for _, c := range o.Claims {
				if _, ok := h.claims[c]; !ok {
					missing = append(missing, c)
				}
			}
			n := len(o.Claims) - len(missing)
			if n > bestN || n == bestN && best.held != nil && best.opt.Type == o.Type && h.a.ExpiresAt > best.held.a.ExpiresAt {
				best, bestN = claimChoice{opt: o, held: h, unattested: missing}, n
			}
		}
	}
	return best
}

// fillClaimAsk completes a claims ask for the user's review: what would
// be disclosed, by which verifier, and what no attestation proves.
func fillClaimAsk(a *passport.Ask, c claimChoice) {
	a.Type = c.opt.Type
	a.Claims = append([]string{}, c.opt.Claims...)
	a.Unattested = append([]string{}, c.unattested...)
	if c.held == nil {
		return
	}
	a.Verifier = c.held.a.Verifier
	a.Disclose = map[string]bool{}
	for _, n := range c.opt.Claims {
		if v, ok := c.held.claims[n]; ok {
			a.Disclose[n] = v
		}
	}
}

// presentClaims proves every claims entry of scope for request r, or says
// which claims no attestation of the owner's proves and how to get them.
func (s *Service) presentClaims(scope *passport.Scope, r *passport.Request, now time.Time) ([]*passport.ClaimProof, map[string]bool, error) {
	entries := scope.ClaimEntries()
	if len(entries) == 0 {
		return nil, nil, nil
	}
	held, err := s.held()
	if err != nil {
		return nil, nil, err
	}
	var proofs []*passport.ClaimProof
	disclosed := map[string]bool{}
	for _, el := range entries {
		c := chooseClaims(el, held, s.self, now)
		if len(c.unattested) > 0 {
			return nil, nil, fmt.Errorf("%w: the request asks %s of your %s, which no verifier has attested for you: "+
				"share your %s with a verifier that derives claims and have it attest them "+
				"(on its node: `tonmesh passport attest ID %s --claims %s`), then approve; or decline",
				ErrConflict, strings.Join(c.unattested, ", "), c.opt.Type, c.opt.Type, c.opt.Type, strings.Join(c.unattested, ","))
		}
		p, err := passport.Present(c.held.a, c.held.disclosures, c.opt.Claims, s.id.PeerKey, r.ServiceID, r.Nonce, now)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrConflict, err)
		}
		proofs = append(proofs, p)
		for _, n := range c.opt.Claims {
			disclosed[n] = c.held.claims[n]
		}
	}
	return proofs, disclosed, nil
}

// verifyClaims checks, on the service, the proofs of a share against the
// request it answers: each proof verifies (verifier signature, validity,
// digests, key binding to this service and nonce), is about the sender,
// and proves exactly the claims one claims entry asks; every claims entry
// is proven.
func verifyClaims(scope *passport.Scope, proofs []*passport.ClaimProof, from, self peer.ID, nonce string, now time.Time) ([]ReceivedClaims, error) {
	entries := scope.ClaimEntries()
	done := make([]bool, len(entries))
	var out []ReceivedClaims
	for _, p := range proofs {
		if p.Subject != from.String() {
			return nil, fmt.Errorf("the claims proof of %s is about %s, but the share came from %s", p.Type, p.Subject, from)
		}
		claims, err := p.Verify(now, self, nonce)
		if err != nil {
			return nil, fmt.Errorf("%s %w", p.Type, err)
		}
		i := slices.IndexFunc(entries, func(el passport.ScopeElement) bool {
			return slices.ContainsFunc(el.Options, func(o passport.ScopeOne) bool { return o.Type == p.Type })
		})
		if i < 0 {
			return nil, fmt.Errorf("the share proves claims of %s, which the request does not ask claims of", p.Type)
		}
		if done[i] {
			return nil, fmt.Errorf("the share proves claims of %s twice", p.Type)
		}
		done[i] = true
		o := entries[i].Options[slices.IndexFunc(entries[i].Options, func(o passport.ScopeOne) bool { return o.Type == p.Type })]
		for n := range claims {
			if !slices.Contains(o.Claims, n) {
				return nil, fmt.Errorf("the share discloses %s of %s, which the request did not ask", n, p.Type)
			}
		}
		for _, n := range o.Claims {
			if _, ok := claims[n]; !ok {
				return nil, fmt.Errorf("the request asks %s of %s; the share does not prove it", n, p.Type)
			}
		}
		out = append(out, ReceivedClaims{Type: p.Type, Verifier: p.Verifier, Claims: claims,
			IssuedAt: time.Unix(p.IssuedAt, 0).UTC(), ExpiresAt: time.Unix(p.ExpiresAt, 0).UTC()})
	}
	for i, el := range entries {
		if !done[i] {
			return nil, fmt.Errorf("the request asks claims (%s) of %s; the share carries no proof of them", strings.Join(el.Options[0].Claims, ", "), el.Options[0].Type)
		}
	}
	return out, nil
}

// flatClaims merges the claims of verified proofs into one name → value map.
func flatClaims(rs []ReceivedClaims) map[string]bool {
	if len(rs) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, r := range rs {
		for k, v := range r.Claims {
			out[k] = v
		}
	}
	return out
}

// claimNames resolves the claims a verifier was asked to attest of e:
// ClaimsAll expands to the element's defaults.
func claimNames(e *passport.Element, asked []string) ([]string, error) {
	if len(asked) == 1 && asked[0] == ClaimsAll {
		names := passport.DefaultClaims(e)
		if len(names) == 0 {
			return nil, fmt.Errorf("%w: no claims are derived from %s (age_over_NN and resident_of:CC come from personal_details, resident_of:CC from address, document_valid from identity documents with an expiry date)", ErrBadRequest, e.Type)
		}
		return names, nil
	}
	for _, n := range asked {
		if n == ClaimsAll {
			return nil, fmt.Errorf("%w: claims: give %q alone, or a list of claim names", ErrBadRequest, ClaimsAll)
		}
	}
	return asked, nil
}
