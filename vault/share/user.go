package share

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// The user's side: requests in, shares out.

// PendingView is a pending request as the user reviews it.
type PendingView struct {
	ID         string                 `json:"id"`
	Service    string                 `json:"service"`
	Nonce      string                 `json:"nonce"`
	Callback   string                 `json:"callback,omitempty"`
	Via        string                 `json:"via"`
	Asks       []passport.Ask         `json:"asks"`
	Missing    []passport.ElementType `json:"missing"`
	ReceivedAt time.Time              `json:"received_at"`
}

// ShareSummary answers an approval.
type ShareSummary struct {
	ID           string                 `json:"id"`
	Service      string                 `json:"service"`
	Nonce        string                 `json:"nonce"`
	Types        []passport.ElementType `json:"types"`
	Files        int                    `json:"files"`
	Attestations int                    `json:"attestations"`
	Time         time.Time              `json:"time"`
	// Claims are the derived claims disclosed instead of data, with their values.
	Claims map[string]bool `json:"claims,omitempty"`
}

// receiveRequest stores a request a service delivered.
func (s *Service) receiveRequest(from peer.ID, r *passport.Request) error {
	if r.ServiceID != from {
		return fmt.Errorf("request names service %s but came from %s", r.ServiceID, from)
	}
	_, err := s.addPending(r, "delivered")
	return err
}

// AddLink adds a pending request from a tonmesh://passport link.
func (s *Service) AddLink(ctx context.Context, link string) (*PendingView, error) {
	r, err := passport.ParseLink(link)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	p, err := s.addPending(r, "link")
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p)
}

func (s *Service) addPending(r *passport.Request, via string) (*pending, error) {
	if r.ServiceID == s.self {
		return nil, fmt.Errorf("%w: the request is this node's own", ErrBadRequest)
	}
	id := RequestID(r.ServiceID, r.Nonce)
	s.mu.Lock()
	defer s.mu.Unlock()
	if done, err := s.has(pfxAnswer + id); err != nil {
		return nil, err
	} else if done {
		return nil, fmt.Errorf("%w: request %s (service %s, nonce %s) was answered already; a nonce is used once", ErrConflict, id, r.ServiceID, r.Nonce)
	}
	var p pending
	switch err := s.getJSON(pfxPending+id, &p); {
	case err == nil:
		return &p, nil // the same request again: nothing new
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	n := 0
	if err := s.list(pfxPending, func([]byte) error { n++; return nil }); err != nil {
		return nil, err
	}
	if n >= s.cfg.MaxPending {
		return nil, fmt.Errorf("%w: %d requests are pending already: answer some first", ErrConflict, n)
	}
	p = pending{ID: id, Request: r, Via: via, ReceivedAt: s.cfg.Now().UTC()}
	if err := s.putJSON(pfxPending+id, &p); err != nil {
		return nil, err
	}
	s.log.Info("passport request pending", "id", id, "service", r.ServiceID, "via", via)
	return &p, nil
}

// Pending lists the requests awaiting an answer, oldest first.
func (s *Service) Pending(ctx context.Context) ([]PendingView, error) {
	var ps []pending
	err := s.list(pfxPending, func(raw []byte) error {
		var p pending
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("share: stored request is corrupt: %w", err)
		}
		ps = append(ps, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]PendingView, 0, len(ps))
	for i := range ps {
		v, err := s.view(ctx, &ps[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	sortByTime(out, func(v PendingView) time.Time { return v.ReceivedAt })
	return out, nil
}

func (s *Service) view(ctx context.Context, p *pending) (*PendingView, error) {
	scope, err := passport.ParseScope(p.Request.Scope)
	if err != nil {
		return nil, fmt.Errorf("share: stored request %s has a bad scope: %w", p.ID, err)
	}
	owned := s.ownedTypes(ctx)
	var held []heldAttestation
	if len(scope.ClaimEntries()) > 0 {
		if held, err = s.held(); err != nil {
			return nil, err
		}
	}
	v := &PendingView{ID: p.ID, Service: p.Request.ServiceID.String(), Nonce: p.Request.Nonce, Callback: p.Request.Callback,
		Via: p.Via, ReceivedAt: p.ReceivedAt, Missing: []passport.ElementType{}}
	for _, el := range scope.Data {
		chosen := el.Options[0]
		for _, o := range el.Options {
			if owned[o.Type] {
				chosen = o
				break
			}
		}
		a := passport.AskOf(chosen)
		if el.ClaimsOnly() {
			fillClaimAsk(&a, chooseClaims(el, held, s.self, s.cfg.Now()))
		}
		if el.OneOf {
			for _, o := range el.Options {
				a.OneOf = append(a.OneOf, o.Type)
			}
		}
		v.Asks = append(v.Asks, a)
	}
	_, v.Missing = scope.DataScope().Select(func(t passport.ElementType) bool { return owned[t] })
	if v.Missing == nil {
		v.Missing = []passport.ElementType{}
	}
	return v, nil
}

func (s *Service) ownedTypes(ctx context.Context) map[passport.ElementType]bool {
	owned := map[passport.ElementType]bool{}
	if s.src == nil {
		return owned
	}
	ts, err := s.src.Types(ctx)
	if err != nil {
		s.log.Warn("cannot list the owner's passport elements; treating them as absent", "err", err)
		return owned
	}
	for _, t := range ts {
		owned[t] = true
	}
	return owned
}

// Approve builds the share the request asks for from the owner's elements
// and delivers it to the service. With attach, attestations the owner
// holds that cover an element as shared go along. Claims entries are
// answered with proofs from the owner's attestations (only the asked
// claims' disclosures, bound to this request), never with the element;
// a claim no attestation proves fails the approval. The share is journaled.
// A request is approved at most once; a failed delivery leaves it pending.
func (s *Service) Approve(ctx context.Context, id string, attach bool) (*ShareSummary, error) {
	p, err := s.takePending(id)
	if err != nil {
		return nil, err
	}
	defer s.release(id)
	r := p.Request
	scope, err := r.Validate()
	if err != nil {
		return nil, fmt.Errorf("share: stored request %s: %w", id, err)
	}
	pub, err := passport.ParsePublicKey(r.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("share: stored request %s: %w", id, err)
	}
	data := scope.DataScope()
	owned := s.ownedElements(ctx, data)
	elements, missing := passport.SelectElements(data, owned)
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the request asks for %s, which you have not added: add them with `tonmesh passport add TYPE`, or decline", ErrConflict, joinTypes(missing))
	}
	for _, e := range elements {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("%w: your %s does not pass validation (%w): fix it, then approve", ErrConflict, e.Type, err)
		}
	}
	now := s.cfg.Now()
	proofs, disclosed, err := s.presentClaims(scope, r, now)
	if err != nil {
		return nil, err
	}
	sh, err := passport.BuildShare(pub, r.Nonce, elements, now)
	if err != nil {
		return nil, err
	}
	msg := &shareMsg{Nonce: r.Nonce, Files: []wireFile{}, Claims: proofs}
	if msg.Data, err = json.Marshal(sh.Data); err != nil {
		return nil, fmt.Errorf("share: encode passport data: %w", err)
	}
	var files [][]byte
	for _, ep := range sh.Data.Data {
		for _, pf := range passportFiles(&ep) {
			msg.Files = append(msg.Files, wireFile{FileID: pf.FileID, Size: len(sh.Files[pf.FileID])})
			files = append(files, sh.Files[pf.FileID])
		}
	}
	if attach {
		msg.Attestations = s.attestationsFor(elements, now)
	}
	if err := s.send(ctx, r.ServiceID, kindShare, msg, files); err != nil {
		return nil, err
	}
	rec := &ShareRecord{ID: id, Service: r.ServiceID.String(), Nonce: r.Nonce, Types: sh.Types, Attestations: len(msg.Attestations), Time: now.UTC(), Claims: disclosed}
	if err := s.finish(id, StatusApproved, rec); err != nil {
		return nil, err
	}
	s.journal(ctx, rec)
	s.log.Info("passport shared", "id", id, "service", r.ServiceID, "types", sh.Types)
	return &ShareSummary{ID: id, Service: rec.Service, Nonce: r.Nonce, Types: sh.Types, Files: len(files), Attestations: rec.Attestations, Time: rec.Time, Claims: disclosed}, nil
}

// DeclineResult answers a decline.
type DeclineResult struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Notified bool   `json:"notified"`        // the service was told
	Error    string `json:"error,omitempty"` // why it was not
}

// Decline records that the user declined, forgets the request and tells
// the service. The answer stands even when the service cannot be told.
func (s *Service) Decline(ctx context.Context, id string) (*DeclineResult, error) {
	p, err := s.takePending(id)
	if err != nil {
		return nil, err
	}
	defer s.release(id)
	if err := s.finish(id, StatusDeclined, nil); err != nil {
		return nil, err
	}
	res := &DeclineResult{ID: id, Service: p.Request.ServiceID.String(), Notified: true}
	if err := s.send(ctx, p.Request.ServiceID, kindDecline, &declineMsg{Nonce: p.Request.Nonce}, nil); err != nil {
		s.log.Info("declined; the service was not told", "id", id, "err", err)
		res.Notified, res.Error = false, err.Error()
	}
	return res, nil
}

// takePending loads a pending request and marks it in flight.
func (s *Service) takePending(id string) (*pending, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var p pending
	if err := s.getJSON(pfxPending+id, &p); err != nil {
		if errors.Is(err, ErrNotFound) {
			if done, _ := s.has(pfxAnswer + id); done {
				return nil, fmt.Errorf("%w: request %s was answered already", ErrConflict, id)
			}
			return nil, fmt.Errorf("%w: no pending request %s (see `tonmesh passport requests`)", ErrNotFound, id)
		}
		return nil, err
	}
	if err := s.claim(id); err != nil {
		return nil, err
	}
	return &p, nil
}

// finish records the answer (and share) and removes the pending request,
// in one batch.
func (s *Service) finish(id, status string, rec *ShareRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.space.NewBatch()
	if err := batchJSON(b, pfxAnswer+id, answer{Status: status, At: s.cfg.Now().UTC()}); err != nil {
		return err
	}
	if rec != nil {
		if err := batchJSON(b, pfxShared+id, rec); err != nil {
			return err
		}
	}
	b.Delete([]byte(pfxPending + id))
	return b.Commit()
}

func (s *Service) journal(ctx context.Context, rec *ShareRecord) {
	if s.jrnl == nil {
		return
	}
	// Claim names, like types, say what was shared; their values stay out.
	var claims []string
	for n := range rec.Claims {
		claims = append(claims, n)
	}
	slices.Sort(claims)
	payload, _ := json.Marshal(map[string]any{"types": rec.Types, "attestations": rec.Attestations, "claims": claims})
	err := s.jrnl.Record(ctx, journal.Entry{
		Kind:         journal.KindShare,
		Key:          "share:" + rec.Service + ":" + rec.Nonce,
		Counterparty: rec.Service,
		Payload:      payload,
		Time:         rec.Time,
	})
	if err != nil {
		s.log.Error("share delivered but not journaled", "id", rec.ID, "err", err)
	}
}

func (s *Service) ownedElements(ctx context.Context, scope *passport.Scope) map[passport.ElementType]*passport.Element {
	owned := map[passport.ElementType]*passport.Element{}
	if s.src == nil {
		return owned
	}
	for _, t := range scope.Types() {
		e, err := s.src.Element(ctx, t)
		if err != nil || e == nil {
			s.log.Debug("owner lacks a passport element", "type", t, "err", err)
			continue
		}
		owned[t] = e
	}
	return owned
}

func passportFiles(ep *passport.EncryptedPassportElement) []passport.PassportFile {
	var out []passport.PassportFile
	for _, pf := range []*passport.PassportFile{ep.FrontSide, ep.ReverseSide, ep.Selfie} {
		if pf != nil {
			out = append(out, *pf)
		}
	}
	out = append(out, ep.Files...)
	return append(out, ep.Translation...)
}

func joinTypes(ts []passport.ElementType) string {
	ss := make([]string, len(ts))
	for i, t := range ts {
		ss[i] = string(t)
	}
	return strings.Join(ss, ", ")
}

// Shares lists the shares this node made, oldest first.
func (s *Service) Shares() ([]ShareRecord, error) {
	out := []ShareRecord{}
	err := s.list(pfxShared, func(raw []byte) error {
		var r ShareRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("share: stored share is corrupt: %w", err)
		}
		out = append(out, r)
		return nil
	})
	sortByTime(out, func(r ShareRecord) time.Time { return r.Time })
	return out, err
}

func sortByTime[T any](xs []T, at func(T) time.Time) {
	slices.SortStableFunc(xs, func(a, b T) int { return at(a).Compare(at(b)) })
}
