package share

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Wire format of Protocol. The opener sends a header frame: one kind byte,
// then the message as JSON (strict: unknown fields are refused). A share is
// followed by one frame per file, in the order of its Files list, each the
// file's encrypted bytes. The receiver answers with one frame, a JSON
// reply: {"ok":true} or {"ok":false,"error":"…"}.
const (
	kindRequest     byte = 1 // service → user: an authorization request
	kindShare       byte = 2 // user → service: an approved share
	kindDecline     byte = 3 // user → service: the user declined
	kindErrors      byte = 4 // service → user: element errors
	kindAttestation byte = 5 // verifier → owner: a signed attestation
)

// Limits of the wire format.
const (
	maxHeader      = 1 << 20
	maxReply       = 4 << 10
	maxFileFrame   = passport.MaxFileSize + 512 // padding and a block
	maxShareFiles  = 13 * (3 + 2*passport.MaxFiles)
	maxErrors      = 64
	maxAttachments = 16
	maxReason      = 512
)

type requestMsg struct {
	Request *passport.Request `json:"request"`
}

// shareMsg is an approved share: the Bot API PassportData, the delivered
// files (sizes announce the frames that follow) and optional attestations.
type shareMsg struct {
	Nonce        string                  `json:"nonce"`
	Data         json.RawMessage         `json:"passport_data"`
	Files        []wireFile              `json:"files"`
	Attestations []*passport.Attestation `json:"attestations,omitempty"`
	// Claims are the proofs of the derived claims the scope asks (one per
	// claims entry), beside the Telegram Passport data, which holds no
	// element of those entries.
	Claims []*passport.ClaimProof `json:"claims,omitempty"`
}

type wireFile struct {
	FileID string `json:"file_id"`
	Size   int    `json:"size"`
}

type declineMsg struct {
	Nonce  string `json:"nonce"`
	Reason string `json:"reason,omitempty"`
}

type errorsMsg struct {
	Nonce  string                          `json:"nonce"`
	Errors []passport.PassportElementError `json:"errors"`
}

// attestationMsg carries an attestation to its owner, and the disclosures
// of its claims, which only the owner receives.
type attestationMsg struct {
	Attestation *passport.Attestation `json:"attestation"`
	Disclosures []string              `json:"disclosures,omitempty"`
}

type reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// message is a decoded header: exactly one field is set.
type message struct {
	kind        byte
	request     *requestMsg
	share       *shareMsg
	decline     *declineMsg
	errors      *errorsMsg
	attestation *attestationMsg
}

// encodeHeader writes kind and v as a header frame's payload.
func encodeHeader(kind byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("share: encode message: %w", err)
	}
	return append([]byte{kind}, b...), nil
}

// decodeHeader reads a header frame's payload strictly and checks the
// message's shape (sizes and counts; not signatures or state).
func decodeHeader(b []byte) (*message, error) {
	if len(b) == 0 {
		return nil, errors.New("empty message")
	}
	if len(b) > maxHeader {
		return nil, fmt.Errorf("message of %d bytes exceeds %d", len(b), maxHeader)
	}
	m := &message{kind: b[0]}
	body := b[1:]
	var err error
	switch m.kind {
	case kindRequest:
		m.request = &requestMsg{}
		if err = strict(body, m.request); err == nil && m.request.Request == nil {
			err = errors.New("request: missing")
		}
		if err == nil {
			_, err = m.request.Request.Validate()
		}
	case kindShare:
		m.share = &shareMsg{}
		if err = strict(body, m.share); err == nil {
			err = m.share.check()
		}
	case kindDecline:
		m.decline = &declineMsg{}
		if err = strict(body, m.decline); err == nil {
			err = passport.CheckNonce(m.decline.Nonce)
		}
		if err == nil && len(m.decline.Reason) > maxReason {
			err = fmt.Errorf("decline reason over %d bytes", maxReason)
		}
	case kindErrors:
		m.errors = &errorsMsg{}
		if err = strict(body, m.errors); err == nil {
			err = m.errors.check()
		}
	case kindAttestation:
		m.attestation = &attestationMsg{}
		if err = strict(body, m.attestation); err == nil && m.attestation.Attestation == nil {
			err = errors.New("attestation: missing")
		}
		if err == nil && !m.attestation.Attestation.Type.Valid() {
			err = fmt.Errorf("attestation: unknown type %q", m.attestation.Attestation.Type)
		}
		if err == nil && len(m.attestation.Disclosures) > passport.MaxClaimDigests {
			err = fmt.Errorf("attestation: %d disclosures, at most %d", len(m.attestation.Disclosures), passport.MaxClaimDigests)
		}
	default:
		return nil, fmt.Errorf("unknown message kind %d", m.kind)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *shareMsg) check() error {
	if err := passport.CheckNonce(m.Nonce); err != nil {
		return err
	}
	if len(m.Files) > maxShareFiles || len(m.Attestations) > maxAttachments || len(m.Claims) > maxAttachments {
		return fmt.Errorf("share: %d files and %d attestations exceed the limits %d and %d", len(m.Files), len(m.Attestations), maxShareFiles, maxAttachments)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if f.FileID == "" || len(f.FileID) > 64 || seen[f.FileID] || f.Size <= 0 || f.Size > maxFileFrame {
			return fmt.Errorf("share: file %q of %d bytes: ids must be unique, 1-64 bytes, sizes 1-%d", f.FileID, f.Size, maxFileFrame)
		}
		seen[f.FileID] = true
	}
	var pd passport.PassportData
	if err := json.Unmarshal(m.Data, &pd); err != nil {
		return fmt.Errorf("share: passport_data: %w", err)
	}
	for _, a := range m.Attestations {
		if a == nil || !a.Type.Valid() {
			return errors.New("share: an attestation is empty or of an unknown type")
		}
	}
	for _, p := range m.Claims {
		if p == nil {
			return errors.New("share: a claims proof is empty")
		}
		if err := p.CheckShape(); err != nil {
			return fmt.Errorf("share: %w", err)
		}
	}
	return nil
}

func (m *errorsMsg) check() error {
	if err := passport.CheckNonce(m.Nonce); err != nil {
		return err
	}
	if len(m.Errors) == 0 || len(m.Errors) > maxErrors {
		return fmt.Errorf("errors: send 1-%d errors", maxErrors)
	}
	for i := range m.Errors {
		if err := m.Errors[i].Validate(); err != nil {
			return fmt.Errorf("errors[%d]: %w", i, err)
		}
	}
	return nil
}

func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return errors.New("unexpected data after the JSON message")
	}
	return nil
}

// send delivers one message (and, for a share, its files) to p and waits
// for the reply. A refusal comes back as an error carrying the peer's reason.
func (s *Service) send(ctx context.Context, p peer.ID, kind byte, v any, files [][]byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DeliverTimeout)
	defer cancel()
	hdr, err := encodeHeader(kind, v)
	if err != nil {
		return err
	}
	if err := s.connect(ctx, p); err != nil {
		return fmt.Errorf("%w: reach %s: %w", ErrUndelivered, p, err)
	}
	st, err := s.net.Host().NewStream(ctx, p, Protocol)
	if err != nil {
		return fmt.Errorf("%w: open stream to %s: %w", ErrUndelivered, p, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	r, err := exchange(st, hdr, files)
	if err != nil {
		_ = st.Reset()
		return fmt.Errorf("%w: to %s: %w", ErrUndelivered, p, err)
	}
	_ = st.Close()
	if !r.OK {
		return fmt.Errorf("%w: %s refused: %s", ErrUndelivered, p, r.Error)
	}
	return nil
}

func exchange(st network.Stream, hdr []byte, files [][]byte) (*reply, error) {
	if err := p2p.WriteFrame(st, hdr); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := p2p.WriteFrame(st, f); err != nil {
			return nil, err
		}
	}
	if err := st.CloseWrite(); err != nil {
		return nil, fmt.Errorf("close write side: %w", err)
	}
	raw, err := p2p.ReadFrame(st, maxReply)
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	return &r, nil
}

// connect makes sure p is reachable: at the addresses the peerstore
// knows, else (or when those fail) at the ones the DHT finds.
func (s *Service) connect(ctx context.Context, p peer.ID) error {
	if s.net.Connectedness(p) == network.Connected {
		return nil
	}
	h := s.net.Host()
	var firstErr error
	if addrs := h.Peerstore().Addrs(p); len(addrs) > 0 {
		if firstErr = h.Connect(ctx, peer.AddrInfo{ID: p, Addrs: addrs}); firstErr == nil {
			return nil
		}
	}
	found, err := s.net.DHT().FindPeer(ctx, p)
	if err != nil {
		return errors.Join(firstErr, fmt.Errorf("find %s in the DHT: %w", p, err))
	}
	return h.Connect(ctx, found)
}

// handleStream serves Protocol: it reads the header (and a share's files),
// acts on the message and replies. A refusal is a reply, not a reset, so
// the sender learns why.
func (s *Service) handleStream(ctx context.Context, st network.Stream) error {
	from := st.Conn().RemotePeer()
	hdr, err := p2p.ReadFrame(st, maxHeader)
	if err != nil {
		return err
	}
	m, err := decodeHeader(hdr)
	if err == nil {
		err = s.dispatch(ctx, from, m, st)
	}
	r := reply{OK: err == nil}
	if err != nil {
		r.Error = err.Error()
		if len(r.Error) > maxReply-64 {
			r.Error = r.Error[:maxReply-64]
		}
		s.log.Debug("refused a share protocol message", "peer", from, "kind", hdrKind(hdr), "err", err)
	}
	out, _ := json.Marshal(r)
	return p2p.WriteFrame(st, out)
}

func hdrKind(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

func (s *Service) dispatch(ctx context.Context, from peer.ID, m *message, st network.Stream) error {
	switch m.kind {
	case kindRequest:
		return s.receiveRequest(from, m.request.Request)
	case kindShare:
		files, err := s.readFiles(st, m.share.Files)
		if err != nil {
			return err
		}
		return s.receiveShare(from, m.share, files)
	case kindDecline:
		return s.receiveDecline(from, m.decline)
	case kindErrors:
		return s.receiveErrors(from, m.errors)
	case kindAttestation:
		return s.receiveAttestation(from, m.attestation.Attestation, m.attestation.Disclosures)
	}
	return fmt.Errorf("unknown message kind %d", m.kind)
}

// readFiles reads the frames a share announced, within MaxShareBytes.
func (s *Service) readFiles(st network.Stream, announced []wireFile) (map[string][]byte, error) {
	var total int64
	for _, f := range announced {
		total += int64(f.Size)
	}
	if total > s.cfg.MaxShareBytes {
		return nil, fmt.Errorf("share of %d bytes exceeds this node's limit of %d", total, s.cfg.MaxShareBytes)
	}
	out := make(map[string][]byte, len(announced))
	for _, f := range announced {
		b, err := p2p.ReadFrame(st, f.Size)
		if err != nil {
			return nil, fmt.Errorf("file %s: %w", f.FileID, err)
		}
		if len(b) != f.Size {
			return nil, fmt.Errorf("file %s: %d bytes, %d announced", f.FileID, len(b), f.Size)
		}
		out[f.FileID] = b
	}
	return out, nil
}
