package share

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Routes registers the passport sharing routes of the local API.
func (s *Service) Routes(handle func(pattern string, h http.Handler)) {
	handle("POST /api/v1/passport/requests/new", http.HandlerFunc(s.handleNewRequest))
	handle("GET /api/v1/passport/requests/issued", http.HandlerFunc(s.handleIssued))
	handle("POST /api/v1/passport/requests", http.HandlerFunc(s.handleAddLink))
	handle("GET /api/v1/passport/requests", http.HandlerFunc(s.handlePending))
	handle("POST /api/v1/passport/requests/{id}/approve", http.HandlerFunc(s.handleApprove))
	handle("POST /api/v1/passport/requests/{id}/decline", http.HandlerFunc(s.handleDecline))
	handle("GET /api/v1/passport/shares", http.HandlerFunc(s.handleShares))
	handle("GET /api/v1/passport/errors", http.HandlerFunc(s.handleErrors))
	handle("GET /api/v1/passport/attestations", http.HandlerFunc(s.handleAttestations))
	handle("GET /api/v1/passport/received", http.HandlerFunc(s.handleReceived))
	handle("POST /api/v1/passport/received/decrypt", http.HandlerFunc(s.handleDecrypt))
	handle("GET /api/v1/passport/received/{id}/files/{file}", http.HandlerFunc(s.handleFile))
	handle("POST /api/v1/passport/received/{id}/errors", http.HandlerFunc(s.handleSendErrors))
	handle("POST /api/v1/passport/received/{id}/attest", http.HandlerFunc(s.handleAttest))
}

// NewRequestBody is the body of POST /api/v1/passport/requests/new.
type NewRequestBody struct {
	Scope     json.RawMessage `json:"scope"`              // the v1 scope as a JSON value
	PublicKey string          `json:"public_key"`         // RSA public key, PEM
	Nonce     string          `json:"nonce,omitempty"`    // empty: random
	Callback  string          `json:"callback,omitempty"` // optional URL
	To        string          `json:"to,omitempty"`       // the user's peer ID, to deliver it
}

// AddLinkBody is the body of POST /api/v1/passport/requests.
type AddLinkBody struct {
	Link string `json:"link"`
}

// ApproveBody is the (optional) body of POST …/requests/{id}/approve.
type ApproveBody struct {
	Attestations bool `json:"attestations,omitempty"` // attach attestations that cover the shared elements
}

// DecryptBody is the body of POST /api/v1/passport/received/decrypt.
type DecryptBody struct {
	PrivateKey string `json:"private_key"`  // the service's RSA private key, PEM
	ID         string `json:"id,omitempty"` // one share; empty: all
}

// ErrorsBody is the body of POST …/received/{id}/errors.
type ErrorsBody struct {
	Errors []passport.PassportElementError `json:"errors"`
}

// AttestBody is the body of POST …/received/{id}/attest.
type AttestBody struct {
	Type       string `json:"type"`                  // element type (name or alias)
	PrivateKey string `json:"private_key,omitempty"` // needed unless the share was decrypted before
	// Claims to derive and sign: names (age_over_18, resident_of:DE,
	// document_valid …) or ["all"]; they need PrivateKey.
	Claims []string `json:"claims,omitempty"`
}

// FileBody answers GET …/received/{id}/files/{file}: the file's encrypted
// bytes (base64 in JSON), to decrypt with the share's credentials.
type FileBody struct {
	FileID string `json:"file_id"`
	Data   []byte `json:"data"`
}

// SentResult answers the routes that send something to another node.
type SentResult struct {
	ID   string `json:"id"`
	Sent int    `json:"sent"`
}

func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrBadRequest):
		apiutil.BadRequest(w, err.Error())
	case errors.Is(err, ErrNotFound):
		apiutil.WriteError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrConflict):
		apiutil.WriteError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, ErrUndelivered):
		apiutil.WriteError(w, http.StatusBadGateway, "undelivered", err.Error())
	default:
		apiutil.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func reply200(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, v)
}

func (s *Service) handleNewRequest(w http.ResponseWriter, r *http.Request) {
	var b NewRequestBody
	if !apiutil.DecodeJSON(w, r, &b) {
		return
	}
	if len(b.Scope) == 0 || string(b.Scope) == "null" {
		apiutil.BadRequest(w, `scope: missing: give the scope as JSON, e.g. {"v":1,"data":["personal_details"]}`)
		return
	}
	// A scope sent as a JSON string holding the JSON is accepted too.
	var inner string
	if json.Unmarshal(b.Scope, &inner) == nil {
		b.Scope = json.RawMessage(inner)
	}
	res, err := s.NewRequest(r.Context(), NewRequestParams(b))
	reply200(w, res, err)
}

func (s *Service) handleIssued(w http.ResponseWriter, r *http.Request) {
	v, err := s.Issued()
	reply200(w, v, err)
}

func (s *Service) handleAddLink(w http.ResponseWriter, r *http.Request) {
	var b AddLinkBody
	if !apiutil.DecodeJSON(w, r, &b) {
		return
	}
	v, err := s.AddLink(r.Context(), b.Link)
	reply200(w, v, err)
}

func (s *Service) handlePending(w http.ResponseWriter, r *http.Request) {
	v, err := s.Pending(r.Context())
	reply200(w, v, err)
}

func (s *Service) handleApprove(w http.ResponseWriter, r *http.Request) {
	var b ApproveBody
	if r.ContentLength != 0 && !apiutil.DecodeJSON(w, r, &b) {
		return
	}
	v, err := s.Approve(r.Context(), r.PathValue("id"), b.Attestations)
	reply200(w, v, err)
}

func (s *Service) handleDecline(w http.ResponseWriter, r *http.Request) {
	v, err := s.Decline(r.Context(), r.PathValue("id"))
	reply200(w, v, err)
}

func (s *Service) handleShares(w http.ResponseWriter, r *http.Request) {
	v, err := s.Shares()
	reply200(w, v, err)
}

func (s *Service) handleErrors(w http.ResponseWriter, r *http.Request) {
	v, err := s.Errors()
	reply200(w, v, err)
}

func (s *Service) handleAttestations(w http.ResponseWriter, r *http.Request) {
	v, err := s.Attestations()
	reply200(w, v, err)
}

func (s *Service) handleReceived(w http.ResponseWriter, r *http.Request) {
	v, err := s.Received()
	reply200(w, v, err)
}

func (s *Service) handleDecrypt(w http.ResponseWriter, r *http.Request) {
	var b DecryptBody
	if !apiutil.DecodeJSON(w, r, &b) {
		return
	}
	v, err := s.Decrypt(r.Context(), b.PrivateKey, b.ID)
	reply200(w, v, err)
}

func (s *Service) handleFile(w http.ResponseWriter, r *http.Request) {
	b, err := s.File(r.PathValue("id"), r.PathValue("file"))
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, FileBody{FileID: r.PathValue("file"), Data: b})
}

func (s *Service) handleSendErrors(w http.ResponseWriter, r *http.Request) {
	var b ErrorsBody
	if !apiutil.DecodeJSON(w, r, &b) {
		return
	}
	id := r.PathValue("id")
	err := s.SendErrors(r.Context(), id, b.Errors)
	reply200(w, SentResult{ID: id, Sent: len(b.Errors)}, err)
}

func (s *Service) handleAttest(w http.ResponseWriter, r *http.Request) {
	var b AttestBody
	if !apiutil.DecodeJSON(w, r, &b) {
		return
	}
	t, err := passport.ParseType(b.Type)
	if err != nil {
		apiutil.BadRequest(w, "type: "+err.Error())
		return
	}
	v, err := s.AttestClaims(r.Context(), r.PathValue("id"), t, b.PrivateKey, b.Claims)
	reply200(w, v, err)
}
