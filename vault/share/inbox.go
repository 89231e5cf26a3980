package share

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// What reaches the user after sharing: element errors from services and
// attestations from verifiers.

// maxReportsPerShare bounds the error reports kept per share.
const maxReportsPerShare = 32

// receiveErrors stores element errors from a service about a share made
// to it.
func (s *Service) receiveErrors(from peer.ID, m *errorsMsg) error {
	id := RequestID(from, m.Nonce)
	var rec ShareRecord
	if err := s.getJSON(pfxShared+id, &rec); err != nil {
		return fmt.Errorf("no share was made to %s with nonce %s", from, m.Nonce)
	}
	n := 0
	if err := s.space.Iterate([]byte(pfxUserErr+id+"/"), func(_, _ []byte) error { n++; return nil }); err != nil {
		return err
	}
	if n >= maxReportsPerShare {
		return fmt.Errorf("%d error reports about this share were sent already, the limit is %d", n, maxReportsPerShare)
	}
	now := s.cfg.Now().UTC()
	rep := &ErrorReport{ID: id, Service: from.String(), Nonce: m.Nonce, Errors: m.Errors, ReceivedAt: now}
	key := pfxUserErr + id + "/" + fmt.Sprintf("%020d", now.UnixNano())
	if err := s.putJSON(key, rep); err != nil {
		return err
	}
	s.log.Info("a service reported passport errors", "service", from, "nonce", m.Nonce, "errors", len(m.Errors))
	return nil
}

// Errors lists the element errors services sent, oldest first.
func (s *Service) Errors() ([]ErrorReport, error) {
	out := []ErrorReport{}
	err := s.list(pfxUserErr, func(raw []byte) error {
		var r ErrorReport
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("share: stored error report is corrupt: %w", err)
		}
		out = append(out, r)
		return nil
	})
	sortByTime(out, func(r ErrorReport) time.Time { return r.ReceivedAt })
	return out, err
}

// receiveAttestation stores an attestation from a verifier the owner
// shared that element type with, and the disclosures of its claims, which
// must each match a digest the verifier signed.
func (s *Service) receiveAttestation(from peer.ID, a *passport.Attestation, disclosures []string) error {
	if a.Verifier != from.String() {
		return fmt.Errorf("attestation names verifier %s but came from %s", a.Verifier, from)
	}
	if a.Subject != s.self.String() {
		return fmt.Errorf("attestation is about %s, not this node (%s)", a.Subject, s.self)
	}
	if err := a.Verify(s.cfg.Now()); err != nil {
		return err
	}
	if len(disclosures) > 0 && !a.HasClaims() {
		return errors.New("attestation: disclosures sent with an attestation that signs no claims")
	}
	if _, err := a.Disclosed(disclosures); err != nil {
		return fmt.Errorf("attestation: %w", err)
	}
	sharedWith := false
	err := s.list(pfxShared, func(raw []byte) error {
		var r ShareRecord
		if json.Unmarshal(raw, &r) == nil && r.Service == from.String() {
			for _, t := range r.Types {
				sharedWith = sharedWith || t == a.Type
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !sharedWith {
		return fmt.Errorf("no %s was shared with %s: an attestation is accepted only from a node that received the element", a.Type, from)
	}
	suffix := string(a.Type) + "/" + from.String()
	b := s.space.NewBatch()
	if err := batchJSON(b, pfxAttest+suffix, a); err != nil {
		return err
	}
	if len(disclosures) > 0 {
		if err := batchJSON(b, pfxAttDisc+suffix, disclosures); err != nil {
			return err
		}
	} else {
		b.Delete([]byte(pfxAttDisc + suffix))
	}
	if err := b.Commit(); err != nil {
		return err
	}
	s.log.Info("attestation received", "type", a.Type, "verifier", from, "claims", len(disclosures))
	return nil
}

// Attestations lists the attestations the owner holds, each with the
// claims it can prove.
func (s *Service) Attestations() ([]AttestationView, error) {
	hs, err := s.held()
	if err != nil {
		return nil, err
	}
	out := make([]AttestationView, 0, len(hs))
	for _, h := range hs {
		out = append(out, AttestationView{Attestation: h.a, Claims: h.claims})
	}
	return out, nil
}

// attestationsFor picks the stored attestations that are valid now and
// cover an element exactly as shared.
func (s *Service) attestationsFor(elements []*passport.Element, now time.Time) []*passport.Attestation {
	all, err := s.held()
	if err != nil {
		s.log.Warn("cannot read attestations; sharing without them", "err", err)
		return nil
	}
	var out []*passport.Attestation
	for _, e := range elements {
		for _, h := range all {
			a := h.a
			if len(out) < maxAttachments && a.Type == e.Type && a.Verify(now) == nil && a.Covers(e) == nil {
				out = append(out, a)
			}
		}
	}
	return out
}
