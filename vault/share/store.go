package share

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Store layout in space "vault-share" (values are JSON):
//
//	pend/<id>                 pending: a request awaiting the user's answer
//	ans/<id>                  answer: approved or declined (kept forever)
//	shared/<id>               ShareRecord: what the user shared
//	uerr/<id>/<unix nanos>    ErrorReport: element errors a service sent
//	att/<type>/<verifier>     passport.Attestation the owner received
//	attd/<type>/<verifier>    its claims' disclosures ([]string), private to the owner
//	out/<id>                  issued: a request this node made as a service
//	recv/<id>                 received: a share this node received
//	rfile/<id>/<file_id>      the encrypted bytes of a received file
const (
	pfxPending  = "pend/"
	pfxAnswer   = "ans/"
	pfxShared   = "shared/"
	pfxUserErr  = "uerr/"
	pfxAttest   = "att/"
	pfxAttDisc  = "attd/"
	pfxIssued   = "out/"
	pfxReceived = "recv/"
	pfxFile     = "rfile/"
)

// Statuses of an issued request and answers of a pending one.
const (
	StatusOpen     = "open"
	StatusReceived = "received"
	StatusDeclined = "declined"
	StatusApproved = "approved"
)

// pending is a request on the user's node.
type pending struct {
	ID         string            `json:"id"`
	Request    *passport.Request `json:"request"`
	Via        string            `json:"via"` // "delivered" or "link"
	ReceivedAt time.Time         `json:"received_at"`
}

type answer struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// ShareRecord is a share the user made.
type ShareRecord struct {
	ID           string                 `json:"id"`
	Service      string                 `json:"service"`
	Nonce        string                 `json:"nonce"`
	Types        []passport.ElementType `json:"types"`
	Attestations int                    `json:"attestations"`
	Time         time.Time              `json:"time"`
	// Claims are the derived claims disclosed, with their values.
	Claims map[string]bool `json:"claims,omitempty"`
}

// ErrorReport is a set of element errors a service sent about a share.
type ErrorReport struct {
	ID         string                          `json:"id"`
	Service    string                          `json:"service"`
	Nonce      string                          `json:"nonce"`
	Errors     []passport.PassportElementError `json:"errors"`
	ReceivedAt time.Time                       `json:"received_at"`
}

// issued is a request this node made as a service.
type issued struct {
	ID        string            `json:"id"`
	Request   *passport.Request `json:"request"`
	To        string            `json:"to,omitempty"`
	Status    string            `json:"status"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// received is a share this node received as a service.
type received struct {
	ID           string                  `json:"id"`
	From         string                  `json:"from"`
	Nonce        string                  `json:"nonce"`
	Types        []passport.ElementType  `json:"types"`
	ReceivedAt   time.Time               `json:"received_at"`
	Data         json.RawMessage         `json:"passport_data"`
	FileIDs      []string                `json:"file_ids"`
	Attestations []*passport.Attestation `json:"attestations,omitempty"`
	// Claims were verified when the share arrived (verifier signature,
	// subject, validity, digests, key binding to this request); Proofs are
	// what arrived, kept as evidence.
	Claims []ReceivedClaims       `json:"claims,omitempty"`
	Proofs []*passport.ClaimProof `json:"proofs,omitempty"`
	// Digests are filled in when the share is first decrypted, so the
	// node can attest an element later without the private key.
	Digests map[passport.ElementType]digests `json:"digests,omitempty"`
}

type digests struct {
	Data  string                `json:"data"`
	Files []passport.FileDigest `json:"files,omitempty"`
}

func (s *Service) getJSON(key string, v any) error {
	b, err := s.space.Get([]byte(key))
	if errors.Is(err, ledger.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("share: read %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("share: stored %s is corrupt: %w", key, err)
	}
	return nil
}

func (s *Service) has(key string) (bool, error) {
	err := s.getJSON(key, &json.RawMessage{})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// batchJSON adds v under key to b.
func batchJSON(b *ledger.Batch, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("share: encode %s: %w", key, err)
	}
	b.Set([]byte(key), raw)
	return nil
}

func (s *Service) putJSON(key string, v any) error {
	b := s.space.NewBatch()
	if err := batchJSON(b, key, v); err != nil {
		return err
	}
	return b.Commit()
}

// list decodes every value under prefix with decode.
func (s *Service) list(prefix string, decode func(raw []byte) error) error {
	return s.space.Iterate([]byte(prefix), func(_, v []byte) error {
		return decode(v)
	})
}
