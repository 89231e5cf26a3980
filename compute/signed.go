package compute

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
)

// Signed statement wire format, version 1 (offers, withdrawals, proxy
// announcements on the offers topic; usage receipts on streams):
//
//	version  1 byte, = 1
//	kind     1 byte (kindOffer ... kindReceipt)
//	body     uvarint length, bytes: a JSON object, at most maxSignedBody bytes
//	sig      64 bytes: Ed25519 by the signer's peer key over
//	         signTag || kind || body
//
// The signer is the body's "peer" field; its peer ID embeds the public key
// (Ed25519 peer IDs are identity multihashes), so a statement verifies on
// its own, whoever relays it.
const (
	signedVersion = 1
	maxSignedBody = 48 << 10
	sigSize       = 64
	signTag       = "tonmesh/compute/signed/v1"
	// MaxSignedSize bounds an encoded statement.
	MaxSignedSize = 2 + 10 + maxSignedBody + sigSize
)

// Kinds of signed statements.
const (
	kindOffer    byte = 1
	kindWithdraw byte = 2
	kindProxy    byte = 3
	kindReceipt  byte = 4
)

// signed is a decoded, not yet verified statement.
type signed struct {
	Kind byte
	Body []byte
	Sig  []byte
}

func signingBytes(kind byte, body []byte) []byte {
	b := make([]byte, 0, len(signTag)+1+len(body))
	b = append(b, signTag...)
	b = append(b, kind)
	return append(b, body...)
}

func (s *signed) encode() []byte {
	out := make([]byte, 0, 2+10+len(s.Body)+len(s.Sig))
	out = append(out, signedVersion, s.Kind)
	out = wire.AppendLenPrefixed(out, s.Body)
	return append(out, s.Sig...)
}

// decodeSigned strictly decodes a statement without verifying it. The
// result aliases b.
func decodeSigned(b []byte) (*signed, error) {
	if len(b) > MaxSignedSize {
		return nil, fmt.Errorf("signed statement of %d bytes is over the limit of %d", len(b), MaxSignedSize)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != signedVersion {
		return nil, fmt.Errorf("signed statement version %d is not supported (want %d)", v, signedVersion)
	}
	s := &signed{Kind: rd.Byte("kind")}
	s.Body = rd.LenPrefixed("body", maxSignedBody)
	s.Sig = rd.Fixed("signature", sigSize)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode signed statement: %w", err)
	}
	if s.Kind < kindOffer || s.Kind > kindReceipt {
		return nil, fmt.Errorf("decode signed statement: unknown kind %d", s.Kind)
	}
	return s, nil
}

// sign encodes body as JSON and signs it with key.
func sign(key crypto.PrivKey, kind byte, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode signed statement: %w", err)
	}
	if len(raw) > maxSignedBody {
		return nil, fmt.Errorf("signed statement body of %d bytes is over the limit of %d: offer fewer models or a shorter attestation", len(raw), maxSignedBody)
	}
	sig, err := key.Sign(signingBytes(kind, raw))
	if err != nil {
		return nil, fmt.Errorf("sign statement: %w", err)
	}
	return (&signed{Kind: kind, Body: raw, Sig: sig}).encode(), nil
}

// verify checks that s is signed by signer's peer key.
func (s *signed) verify(signer string) (peer.ID, error) {
	id, err := peer.Decode(signer)
	if err != nil {
		return "", fmt.Errorf("signer %q is not a peer ID: %w", signer, err)
	}
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return "", fmt.Errorf("signer %s: no public key in the peer ID: %w", id, err)
	}
	ok, err := edverify.PeerKey(pub, signingBytes(s.Kind, s.Body), s.Sig)
	if err != nil || !ok {
		return "", fmt.Errorf("bad signature by %s", id)
	}
	return id, nil
}

// decodeBody strictly decodes a JSON body into v.
func decodeBody(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return errors.New("body: trailing data")
	}
	return nil
}

// signerOf reads the "peer" field every signed body has, before the body
// is trusted.
func signerOf(raw []byte) (string, error) {
	var p struct {
		Peer string `json:"peer"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	if p.Peer == "" {
		return "", errors.New("body names no signer (peer)")
	}
	return p.Peer, nil
}

// openSigned decodes b, checks it is of kind, verifies the signature of the
// peer its body names and decodes the body into v. It returns the signer.
func openSigned(b []byte, kind byte, v any) (peer.ID, error) {
	s, err := decodeSigned(b)
	if err != nil {
		return "", err
	}
	if s.Kind != kind {
		return "", fmt.Errorf("signed statement of kind %d, want %d", s.Kind, kind)
	}
	signer, err := signerOf(s.Body)
	if err != nil {
		return "", err
	}
	id, err := s.verify(signer)
	if err != nil {
		return "", err
	}
	if err := decodeBody(s.Body, v); err != nil {
		return "", err
	}
	return id, nil
}
