package share

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// The service's side: requests out, shares in.

// NewRequestParams describes a request to issue.
type NewRequestParams struct {
	Scope     json.RawMessage `json:"scope"`
	PublicKey string          `json:"public_key"`
	Nonce     string          `json:"nonce,omitempty"`    // empty: a random one
	Callback  string          `json:"callback,omitempty"` // optional URL
	To        string          `json:"to,omitempty"`       // a user's peer ID to deliver to
}

// NewRequestResult answers NewRequest.
type NewRequestResult struct {
	ID        string `json:"id"`
	Nonce     string `json:"nonce"`
	Link      string `json:"link"`
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"` // why delivery failed
}

// IssuedView is a request this node issued.
type IssuedView struct {
	ID        string    `json:"id"`
	Nonce     string    `json:"nonce"`
	To        string    `json:"to,omitempty"`
	Status    string    `json:"status"`
	Link      string    `json:"link"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReceivedView is a share this node received, as the Bot API would hand
// it to a service (PassportData), plus where it came from.
type ReceivedView struct {
	ID           string                 `json:"id"`
	From         string                 `json:"from"`
	Nonce        string                 `json:"nonce"`
	Types        []passport.ElementType `json:"types"`
	ReceivedAt   time.Time              `json:"received_at"`
	PassportData json.RawMessage        `json:"passport_data"`
	FileIDs      []string               `json:"file_ids"`
	Attestations int                    `json:"attestations"`
	// Claims are the derived claims the share proved (verified on
	// arrival), name → value; ClaimSources says who attested which.
	Claims       map[string]bool  `json:"claims,omitempty"`
	ClaimSources []ReceivedClaims `json:"claim_sources,omitempty"`
}

// NewRequest issues an authorization request with this node as the
// service; with To set it also delivers it to that user's node. A nonce is
// issued once.
func (s *Service) NewRequest(ctx context.Context, p NewRequestParams) (*NewRequestResult, error) {
	if p.Nonce == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("share: random nonce: %w", err)
		}
		p.Nonce = base64.RawURLEncoding.EncodeToString(b[:])
	}
	var to peer.ID
	if p.To != "" {
		var err error
		if to, err = peer.Decode(p.To); err != nil {
			return nil, fmt.Errorf("%w: to: %q is not a peer ID (the user's `tonmesh id` shows it)", ErrBadRequest, p.To)
		}
	}
	r := &passport.Request{ServiceID: s.self, Scope: p.Scope, PublicKey: p.PublicKey, Nonce: p.Nonce, Callback: p.Callback}
	if _, err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	id := RequestID(s.self, p.Nonce)
	now := s.cfg.Now().UTC()
	s.mu.Lock()
	used, err := s.has(pfxIssued + id)
	if err == nil && used {
		err = fmt.Errorf("%w: nonce %q was issued already: a nonce is used once", ErrConflict, p.Nonce)
	}
	if err == nil {
		err = s.putJSON(pfxIssued+id, &issued{ID: id, Request: r, To: p.To, Status: StatusOpen, CreatedAt: now, UpdatedAt: now})
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	res := &NewRequestResult{ID: id, Nonce: p.Nonce, Link: r.Link()}
	if to != "" {
		if err := s.send(ctx, to, kindRequest, &requestMsg{Request: r}, nil); err != nil {
			res.Error = err.Error()
		} else {
			res.Delivered = true
		}
	}
	s.log.Info("passport request issued", "id", id, "to", p.To, "delivered", res.Delivered)
	return res, nil
}

// Issued lists the requests this node issued, oldest first.
func (s *Service) Issued() ([]IssuedView, error) {
	out := []IssuedView{}
	err := s.list(pfxIssued, func(raw []byte) error {
		var is issued
		if err := json.Unmarshal(raw, &is); err != nil {
			return fmt.Errorf("share: stored request is corrupt: %w", err)
		}
		out = append(out, IssuedView{ID: is.ID, Nonce: is.Request.Nonce, To: is.To, Status: is.Status, Link: is.Request.Link(), CreatedAt: is.CreatedAt, UpdatedAt: is.UpdatedAt})
		return nil
	})
	sortByTime(out, func(v IssuedView) time.Time { return v.CreatedAt })
	return out, err
}

// openIssued loads the open request with nonce; the caller holds s.mu.
func (s *Service) openIssued(nonce string) (*issued, error) {
	var is issued
	if err := s.getJSON(pfxIssued+RequestID(s.self, nonce), &is); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("this node issued no request with nonce %q", nonce)
		}
		return nil, err
	}
	if is.Status != StatusOpen {
		return nil, fmt.Errorf("nonce %q was used already (request %s)", nonce, is.Status)
	}
	return &is, nil
}

// receiveShare stores a share for an open request of this node, once.
func (s *Service) receiveShare(from peer.ID, m *shareMsg, files map[string][]byte) error {
	var pd passport.PassportData
	if err := json.Unmarshal(m.Data, &pd); err != nil {
		return fmt.Errorf("passport_data: %w", err)
	}
	rec := &received{From: from.String(), Nonce: m.Nonce, Data: m.Data, Attestations: m.Attestations, FileIDs: []string{}, Proofs: m.Claims}
	referenced := map[string]bool{}
	for i := range pd.Data {
		rec.Types = append(rec.Types, pd.Data[i].Type)
		for _, pf := range passportFiles(&pd.Data[i]) {
			if _, ok := files[pf.FileID]; !ok || referenced[pf.FileID] {
				return fmt.Errorf("file %q is referenced but not delivered, or referenced twice", pf.FileID)
			}
			referenced[pf.FileID] = true
			rec.FileIDs = append(rec.FileIDs, pf.FileID)
		}
	}
	if len(referenced) != len(files) {
		return fmt.Errorf("%d files delivered but %d referenced", len(files), len(referenced))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.openIssued(m.Nonce)
	if err != nil {
		return err
	}
	now := s.cfg.Now().UTC()
	scope, err := passport.ParseScope(is.Request.Scope)
	if err != nil {
		return fmt.Errorf("the request %s this node issued has a bad scope: %w", is.ID, err)
	}
	if rec.Claims, err = verifyClaims(scope, m.Claims, from, s.self, m.Nonce, now); err != nil {
		return fmt.Errorf("claims refused: %w", err)
	}
	rec.ID, rec.ReceivedAt = is.ID, now
	is.Status, is.UpdatedAt = StatusReceived, now
	b := s.space.NewBatch()
	if err := batchJSON(b, pfxReceived+is.ID, rec); err != nil {
		return err
	}
	if err := batchJSON(b, pfxIssued+is.ID, is); err != nil {
		return err
	}
	for id, body := range files {
		b.Set([]byte(pfxFile+is.ID+"/"+id), body)
	}
	if err := b.Commit(); err != nil {
		return err
	}
	s.log.Info("passport share received", "id", is.ID, "from", from, "types", rec.Types, "claims", len(rec.Claims))
	return nil
}

// receiveDecline closes an open request the user declined.
func (s *Service) receiveDecline(from peer.ID, m *declineMsg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.openIssued(m.Nonce)
	if err != nil {
		return err
	}
	if is.To != "" && is.To != from.String() {
		return fmt.Errorf("request %s was sent to %s, not to %s", is.ID, is.To, from)
	}
	is.Status, is.UpdatedAt = StatusDeclined, s.cfg.Now().UTC()
	if err := s.putJSON(pfxIssued+is.ID, is); err != nil {
		return err
	}
	s.log.Info("passport request declined", "id", is.ID, "by", from)
	return nil
}

// Received lists the shares this node received, oldest first.
func (s *Service) Received() ([]ReceivedView, error) {
	out := []ReceivedView{}
	err := s.list(pfxReceived, func(raw []byte) error {
		var r received
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("share: stored share is corrupt: %w", err)
		}
		out = append(out, r.view())
		return nil
	})
	sortByTime(out, func(v ReceivedView) time.Time { return v.ReceivedAt })
	return out, err
}

func (r *received) view() ReceivedView {
	return ReceivedView{ID: r.ID, From: r.From, Nonce: r.Nonce, Types: r.Types, ReceivedAt: r.ReceivedAt,
		PassportData: r.Data, FileIDs: r.FileIDs, Attestations: len(r.Attestations), Claims: flatClaims(r.Claims), ClaimSources: r.Claims}
}

func (s *Service) loadReceived(id string) (*received, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var r received
	if err := s.getJSON(pfxReceived+id, &r); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: no received share %s (see `tonmesh passport received`)", ErrNotFound, id)
		}
		return nil, err
	}
	return &r, nil
}

// File returns the encrypted bytes of a received file.
func (s *Service) File(id, fileID string) ([]byte, error) {
	r, err := s.loadReceived(id)
	if err != nil {
		return nil, err
	}
	for _, f := range r.FileIDs {
		if f == fileID {
			return s.space.Get([]byte(pfxFile + id + "/" + fileID))
		}
	}
	return nil, fmt.Errorf("%w: share %s has no file %q", ErrNotFound, id, fileID)
}

// decryptOne decrypts a received share with priv and checks its nonce.
func (s *Service) decryptOne(r *received, priv *rsa.PrivateKey) (*passport.Decrypted, error) {
	var pd passport.PassportData
	if err := json.Unmarshal(r.Data, &pd); err != nil {
		return nil, fmt.Errorf("share: stored passport data of %s is corrupt: %w", r.ID, err)
	}
	files := make(map[string][]byte, len(r.FileIDs))
	for _, f := range r.FileIDs {
		b, err := s.space.Get([]byte(pfxFile + r.ID + "/" + f))
		if err != nil {
			return nil, fmt.Errorf("share: file %s of %s: %w", f, r.ID, err)
		}
		files[f] = b
	}
	dec, err := passport.DecryptPassportData(priv, &pd, files)
	if err != nil {
		return nil, err
	}
	if dec.Nonce != r.Nonce {
		return nil, fmt.Errorf("the credentials carry nonce %q, but the share came for %q: refuse it", dec.Nonce, r.Nonce)
	}
	return dec, nil
}
