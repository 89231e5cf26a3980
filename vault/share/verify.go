package share

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// DecryptedShare is a received share after decryption.
type DecryptedShare struct {
	ID           string              `json:"id"`
	From         string              `json:"from"`
	Nonce        string              `json:"nonce"`
	ReceivedAt   time.Time           `json:"received_at"`
	Elements     []*passport.Element `json:"elements,omitempty"`
	Attestations []AttestationCheck  `json:"attestations,omitempty"`
	Error        string              `json:"error,omitempty"` // why it did not decrypt
	// Claims are the derived claims the share proved, verified when it
	// arrived; ClaimSources says who attested which.
	Claims       map[string]bool  `json:"claims,omitempty"`
	ClaimSources []ReceivedClaims `json:"claim_sources,omitempty"`
}

// AttestationCheck is the result of checking one attached attestation
// against the decrypted element.
type AttestationCheck struct {
	Type     passport.ElementType `json:"type"`
	Verifier string               `json:"verifier"`
	Valid    bool                 `json:"valid"`
	Error    string               `json:"error,omitempty"`
}

// Decrypt decrypts the received share id (all of them when id is empty)
// with the service's private key (PEM) and checks attached attestations:
// signature, validity, that they are about the sender, and that they cover
// the element as received. When all are decrypted, a share that fails
// carries its Error; a single one fails the call.
func (s *Service) Decrypt(ctx context.Context, privPEM, id string) ([]DecryptedShare, error) {
	priv, err := passport.ParsePrivateKey(privPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	var recs []*received
	if id != "" {
		r, err := s.loadReceived(id)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	} else {
		views, err := s.Received()
		if err != nil {
			return nil, err
		}
		for _, v := range views {
			r, err := s.loadReceived(v.ID)
			if err != nil {
				return nil, err
			}
			recs = append(recs, r)
		}
	}
	out := make([]DecryptedShare, 0, len(recs))
	for _, r := range recs {
		d := DecryptedShare{ID: r.ID, From: r.From, Nonce: r.Nonce, ReceivedAt: r.ReceivedAt, Claims: flatClaims(r.Claims), ClaimSources: r.Claims}
		dec, err := s.decryptOne(r, priv)
		if err != nil {
			if id != "" {
				return nil, fmt.Errorf("%w: share %s: %w", ErrBadRequest, r.ID, err)
			}
			d.Error = err.Error()
			out = append(out, d)
			continue
		}
		d.Elements = dec.Elements
		d.Attestations = s.checkAttestations(r, dec.Elements)
		if err := s.saveDigests(r.ID, dec.Elements); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Service) checkAttestations(r *received, elements []*passport.Element) []AttestationCheck {
	var out []AttestationCheck
	byType := map[passport.ElementType]*passport.Element{}
	for _, e := range elements {
		byType[e.Type] = e
	}
	now := s.cfg.Now()
	for _, a := range r.Attestations {
		c := AttestationCheck{Type: a.Type, Verifier: a.Verifier}
		err := a.Verify(now)
		if err == nil && a.Subject != r.From {
			err = fmt.Errorf("attestation is about %s, but the share came from %s", a.Subject, r.From)
		}
		if err == nil && byType[a.Type] == nil {
			err = fmt.Errorf("the share holds no %s", a.Type)
		}
		if err == nil {
			err = a.Covers(byType[a.Type])
		}
		c.Valid = err == nil
		if err != nil {
			c.Error = err.Error()
		}
		out = append(out, c)
	}
	return out
}

// saveDigests keeps the decrypted elements' digests in the record, so the
// node can attest them later without the private key.
func (s *Service) saveDigests(id string, elements []*passport.Element) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.loadReceived(id)
	if err != nil {
		return err
	}
	r.Digests = map[passport.ElementType]digests{}
	for _, e := range elements {
		d := passport.DataDigest(e)
		r.Digests[e.Type] = digests{Data: hex.EncodeToString(d[:]), Files: passport.FileDigests(e)}
	}
	return s.putJSON(pfxReceived+id, r)
}

// SendErrors sends element errors about the received share id to the user
// who shared it.
func (s *Service) SendErrors(ctx context.Context, id string, errs []passport.PassportElementError) error {
	r, err := s.loadReceived(id)
	if err != nil {
		return err
	}
	m := &errorsMsg{Nonce: r.Nonce, Errors: errs}
	if err := m.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	to, err := peer.Decode(r.From)
	if err != nil {
		return fmt.Errorf("share: stored sender of %s: %w", id, err)
	}
	return s.send(ctx, to, kindErrors, m, nil)
}

// Attest signs, as a verifier, an attestation of element type t of the
// received share id and sends it to the owner, who stores it. It needs the
// element's digests: from privPEM when given, else from the last Decrypt.
func (s *Service) Attest(ctx context.Context, id string, t passport.ElementType, privPEM string) (*passport.Attestation, error) {
	v, err := s.AttestClaims(ctx, id, t, privPEM, nil)
	if err != nil {
		return nil, err
	}
	return v.Attestation, nil
}

// AttestClaims is Attest with derived claims (names, or ClaimsAll for
// every claim the element supports) computed from the element as of now
// and signed as salted digests; their disclosures go to the owner only.
// Claims need the element's data, which this node does not keep, so they
// need privPEM. With document_valid true, the attestation expires when the
// document does. The view returned holds the claims' values as signed;
// the verifier keeps nothing of them.
func (s *Service) AttestClaims(ctx context.Context, id string, t passport.ElementType, privPEM string, claims []string) (*AttestationView, error) {
	if !t.Valid() {
		_, err := passport.ParseType(string(t))
		return nil, fmt.Errorf("%w: type: %w", ErrBadRequest, err)
	}
	if len(claims) > 0 && privPEM == "" {
		return nil, fmt.Errorf("%w: claims are derived from the element's data, which this node does not keep: pass private_key (--private-key) to decrypt the share again", ErrBadRequest)
	}
	var element *passport.Element
	if privPEM != "" {
		ds, err := s.Decrypt(ctx, privPEM, id)
		if err != nil {
			return nil, err
		}
		for _, e := range ds[0].Elements {
			if e.Type == t {
				element = e
			}
		}
	}
	r, err := s.loadReceived(id)
	if err != nil {
		return nil, err
	}
	d, ok := r.Digests[t]
	if !ok {
		if r.Digests == nil {
			return nil, fmt.Errorf("%w: share %s was not decrypted yet: decrypt it first or pass private_key", ErrConflict, id)
		}
		return nil, fmt.Errorf("%w: share %s holds no %s", ErrBadRequest, id, t)
	}
	owner, err := peer.Decode(r.From)
	if err != nil {
		return nil, fmt.Errorf("share: stored sender of %s: %w", id, err)
	}
	now, ttl := s.cfg.Now(), s.cfg.AttestationTTL
	var derived map[string]bool
	if len(claims) > 0 {
		names, err := claimNames(element, claims)
		if err != nil {
			return nil, err
		}
		if derived, err = passport.DeriveClaims(element, names, now); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		if exp := passport.ClaimsExpiry(element, derived); !exp.IsZero() && exp.Sub(now) < ttl {
			ttl = exp.Sub(now)
		}
	}
	a, err := passport.AttestDigests(s.id.PeerKey, owner, t, d.Data, d.Files, now, ttl)
	if err != nil {
		return nil, err
	}
	msg := &attestationMsg{Attestation: a}
	if derived != nil {
		if msg.Disclosures, err = a.AddClaims(s.id.PeerKey, derived); err != nil {
			return nil, err
		}
	}
	if err := s.send(ctx, owner, kindAttestation, msg, nil); err != nil {
		return nil, err
	}
	s.log.Info("attestation sent", "type", t, "owner", owner, "claims", len(derived))
	return &AttestationView{Attestation: a, Claims: derived}, nil
}
