package market

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/directory"
)

// Login codes. A service node asks for a code for an asset: it reads the
// owner's address from the chain, finds the owner's node in the wallet
// directory and sends it a random 6-digit code over CodeProtocol (a libp2p
// stream, encrypted end to end between the two nodes by the connection's
// Noise or TLS session). It keeps only the code's SHA-256. The owner's node
// keeps the code if its own wallet owns the asset on chain; its user reads
// it with `market codes` and gives it to the service, which verifies it
// once.
const (
	codeDigits = 6
	// maxCodeAttempts wrong guesses burn a code.
	maxCodeAttempts = 5
	// maxCodeMsg bounds a code message.
	maxCodeMsg = 1024
	// maxReceivedCodes bounds what an owner's node keeps.
	maxReceivedCodes = 1000
	// maxCodeTTL bounds the expiry a node accepts.
	maxCodeTTL = time.Hour
)

// codeMsg is what CodeProtocol carries (JSON).
type codeMsg struct {
	ID      string `json:"id"`
	Asset   string `json:"asset"`
	Code    string `json:"code"`
	Expires int64  `json:"expires"` // unix seconds
}

// issuedCode is a code this node asked for, as it keeps it.
type issuedCode struct {
	ID          string    `json:"id"`
	Asset       string    `json:"asset"`
	Hash        string    `json:"hash"` // hex SHA-256 of id | code
	Owner       string    `json:"owner"`
	DeliveredTo string    `json:"delivered_to"`
	Expires     time.Time `json:"expires"`
	Used        bool      `json:"used"`
	Attempts    int       `json:"attempts"`
}

// CodeRequest answers a request for a login code.
type CodeRequest struct {
	ID          string `json:"id"`
	Asset       string `json:"asset"`
	Owner       string `json:"owner"`
	DeliveredTo string `json:"delivered_to"` // the owner's node (peer ID)
	Expires     string `json:"expires"`
}

// CodeCheck answers a successful verification.
type CodeCheck struct {
	ID    string `json:"id"`
	Asset string `json:"asset"`
	Owner string `json:"owner"`
	Valid bool   `json:"valid"`
}

// ReceivedCode is a login code delivered to this node as an asset's owner.
type ReceivedCode struct {
	ID       string `json:"id"`
	Asset    string `json:"asset"`
	Code     string `json:"code"`
	From     string `json:"from"` // the requesting node
	Received string `json:"received"`
	Expires  string `json:"expires"`
	Expired  bool   `json:"expired"`
}

type receivedRecord struct {
	ID       string    `json:"id"`
	Asset    string    `json:"asset"`
	Code     string    `json:"code"`
	From     string    `json:"from"`
	Received time.Time `json:"received"`
	Expires  time.Time `json:"expires"`
}

func codeHash(id, code string) string {
	h := sha256.Sum256([]byte("tonmesh/market/login-code\x00" + id + "\x00" + code))
	return hex.EncodeToString(h[:])
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func newCodeID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestCode sends a new login code for asset to its owner's node, and
// only there. The code itself is not kept here, only its hash.
func (s *Service) RequestCode(ctx context.Context, asset onchain.Asset) (*CodeRequest, error) {
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	if !it.Minted {
		return nil, fmt.Errorf("%w: %s is not minted: nobody can receive its codes", ErrNotFound, asset)
	}
	owner, err := directory.Lookup(ctx, s.net, it.Owner)
	if err != nil {
		return nil, fmt.Errorf("%w: the owner %s of %s has no node in the directory (its node must be online once): %w",
			ErrUndelivered, s.fmtAddr(it.Owner), asset, err)
	}
	code, err := newCode()
	if err != nil {
		return nil, fmt.Errorf("market: draw a code: %w", err)
	}
	rec := issuedCode{ID: newCodeID(), Asset: asset.Name, Owner: it.Owner.StringRaw(), DeliveredTo: owner.String(),
		Expires: s.now().Add(s.cfg.CodeTTL).Truncate(time.Second)}
	rec.Hash = codeHash(rec.ID, code)
	if err := s.putJSON(prefixIssued+rec.ID, rec); err != nil {
		return nil, err
	}
	msg, _ := json.Marshal(codeMsg{ID: rec.ID, Asset: asset.Name, Code: code, Expires: rec.Expires.Unix()})
	resp, err := s.net.Request(ctx, owner, CodeProtocol, msg, 64)
	if err != nil || string(resp) != "ok" {
		_ = s.space.Delete([]byte(prefixIssued + rec.ID))
		return nil, fmt.Errorf("%w: the owner's node %s did not take the code (offline, or it does not own %s): %v", ErrUndelivered, owner, asset, err)
	}
	if s.msgr != nil {
		text := fmt.Sprintf("tonmesh market: login code for %s: %s (valid until %s; requested by %s). Give it only to the service you are logging in to.",
			asset, code, rfc3339(rec.Expires), s.net.ID())
		if err := s.msgr.Send(ctx, owner, text); err != nil {
			s.log.Warn("login code delivered; the chat notification failed", "asset", asset, "err", err)
		}
	}
	return &CodeRequest{ID: rec.ID, Asset: asset.String(), Owner: s.fmtAddr(it.Owner), DeliveredTo: owner.String(), Expires: rfc3339(rec.Expires)}, nil
}

// VerifyCode checks a code given back by a user: valid once, before it
// expires, within maxCodeAttempts guesses.
func (s *Service) VerifyCode(_ context.Context, id, code string) (*CodeCheck, error) {
	s.codesMu.Lock()
	defer s.codesMu.Unlock()
	var rec issuedCode
	if err := s.getJSON(prefixIssued+id, &rec); err != nil {
		return nil, fmt.Errorf("%w: no login code %q was requested by this node", ErrNotFound, id)
	}
	asset, _ := onchain.ParseAsset(rec.Asset)
	switch {
	case rec.Used:
		return nil, fmt.Errorf("%w: code %s for %s; request a new one", ErrCodeUsed, id, asset)
	case rec.Attempts >= maxCodeAttempts:
		return nil, fmt.Errorf("%w: code %s had %d wrong attempts and is burned; request a new one", ErrCodeUsed, id, rec.Attempts)
	case s.now().After(rec.Expires):
		return nil, fmt.Errorf("%w: code %s expired at %s; request a new one", ErrCodeExpired, id, rfc3339(rec.Expires))
	}
	want, _ := hex.DecodeString(rec.Hash)
	got, _ := hex.DecodeString(codeHash(id, strings.TrimSpace(code)))
	if subtle.ConstantTimeCompare(want, got) != 1 {
		rec.Attempts++
		if err := s.putJSON(prefixIssued+id, rec); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w for %s (%d of %d attempts left)", ErrCodeWrong, asset, maxCodeAttempts-rec.Attempts, maxCodeAttempts)
	}
	rec.Used = true
	if err := s.putJSON(prefixIssued+id, rec); err != nil {
		return nil, err
	}
	owner := parseRaw(rec.Owner)
	return &CodeCheck{ID: id, Asset: asset.String(), Owner: s.fmtAddr(owner), Valid: true}, nil
}

// handleCode takes a login code on the owner's side: only for an asset
// this node's wallet owns on chain.
func (s *Service) handleCode(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
	m, err := decodeCodeMsg(req, time.Now())
	if err != nil {
		return nil, err
	}
	asset, _ := onchain.ParseAsset(m.Asset)
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	me, err := s.me()
	if err != nil {
		return nil, err
	}
	if !it.Minted || !equalAddr(it.Owner, me) {
		return nil, fmt.Errorf("login code for %s from %s refused: this node's wallet does not own it", asset, from)
	}
	rec := receivedRecord{ID: m.ID, Asset: m.Asset, Code: m.Code, From: from.String(), Received: time.Now(), Expires: time.Unix(m.Expires, 0)}
	s.codesMu.Lock()
	defer s.codesMu.Unlock()
	if _, err := s.space.Get([]byte(prefixReceived + m.ID)); err == nil {
		return nil, fmt.Errorf("login code %s already received", m.ID)
	}
	if err := s.pruneReceivedLocked(); err != nil {
		return nil, err
	}
	if err := s.putJSON(prefixReceived+m.ID, rec); err != nil {
		return nil, err
	}
	s.log.Info("login code received", "asset", asset, "from", from)
	return []byte("ok"), nil
}

// decodeCodeMsg strictly decodes and checks a code message from the network.
func decodeCodeMsg(b []byte, now time.Time) (*codeMsg, error) {
	if len(b) > maxCodeMsg {
		return nil, fmt.Errorf("code message: %d bytes, the limit is %d", len(b), maxCodeMsg)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m codeMsg
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("code message: %w", err)
	}
	if dec.More() {
		return nil, errors.New("code message: trailing data")
	}
	if id, err := hex.DecodeString(m.ID); err != nil || len(id) != 16 {
		return nil, fmt.Errorf("code message: id %q is not 32 hex digits", m.ID)
	}
	if len(m.Code) != codeDigits || strings.Trim(m.Code, "0123456789") != "" {
		return nil, fmt.Errorf("code message: the code is not %d digits", codeDigits)
	}
	a, err := onchain.ParseAsset(m.Asset)
	if err != nil || a.Name != m.Asset {
		return nil, fmt.Errorf("code message: asset %q is not a canonical asset name", m.Asset)
	}
	exp := time.Unix(m.Expires, 0)
	if !exp.After(now) || exp.After(now.Add(maxCodeTTL)) {
		return nil, fmt.Errorf("code message: expiry %d is not within the next %v", m.Expires, maxCodeTTL)
	}
	return &m, nil
}

// pruneReceivedLocked drops expired received codes and, past the limit,
// the oldest. s.codesMu is held.
func (s *Service) pruneReceivedLocked() error {
	var recs []receivedRecord
	now := time.Now()
	err := s.space.Iterate([]byte(prefixReceived), func(_, v []byte) error {
		var r receivedRecord
		if json.Unmarshal(v, &r) == nil {
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(recs, func(x, y receivedRecord) int { return x.Received.Compare(y.Received) })
	for i, r := range recs {
		if r.Expires.Before(now.Add(-24*time.Hour)) || len(recs)-i >= maxReceivedCodes {
			if err := s.space.Delete([]byte(prefixReceived + r.ID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Codes lists the login codes this node received as an owner, newest first.
func (s *Service) Codes() ([]ReceivedCode, error) {
	var recs []receivedRecord
	err := s.space.Iterate([]byte(prefixReceived), func(_, v []byte) error {
		var r receivedRecord
		if json.Unmarshal(v, &r) == nil {
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("market: list codes: %w", err)
	}
	slices.SortFunc(recs, func(x, y receivedRecord) int { return y.Received.Compare(x.Received) })
	now := time.Now()
	out := []ReceivedCode{}
	for _, r := range recs {
		a, _ := onchain.ParseAsset(r.Asset)
		out = append(out, ReceivedCode{ID: r.ID, Asset: a.String(), Code: r.Code, From: r.From,
			Received: r.Received.UTC().Format(time.RFC3339Nano), Expires: rfc3339(r.Expires), Expired: now.After(r.Expires)})
	}
	return out, nil
}

func (s *Service) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.space.Set([]byte(key), b); err != nil {
		return fmt.Errorf("market: store %s: %w", key, err)
	}
	return nil
}

func (s *Service) getJSON(key string, v any) error {
	b, err := s.space.Get([]byte(key))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
