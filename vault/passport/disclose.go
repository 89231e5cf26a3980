package passport

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Selective disclosure of derived claims, after SD-JWT (RFC 9901): the
// verifier signs salted digests of every claim it derived; the owner keeps
// the disclosures — base64url(JSON [salt, name, value]) — and hands a
// service only those it asks for, with a key-binding signature over the
// service, the request's nonce and a hash of exactly what is presented
// (RFC 9901's KB-JWT), so a presentation cannot be replayed to another
// request or altered. The digest of a disclosure is base64url(SHA-256(the
// disclosure string)), as in RFC 9901; the signatures are libp2p Ed25519
// signatures over domain-separated binary encodings instead of JWS.

// SDAlg is the digest algorithm of claim digests ("_sd_alg" in RFC 9901,
// named as in the IANA Named Information Hash Algorithm registry).
const SDAlg = "sha-256"

// Domain tags of the claim signatures and hashes.
const (
	claimsTag    = "tonmesh/vault/attestation-claims/v1"
	sdHashTag    = "tonmesh/vault/claims-sd-hash/v1"
	kbTag        = "tonmesh/vault/claims-key-binding/v1"
	saltBytes    = 16 // 128 bits, RFC 9901's recommended minimum
	digestB64Len = 43 // base64url without padding of 32 bytes
)

// Limits on claims in attestations and presentations.
const (
	MaxClaimDigests   = 32
	MaxDisclosureLen  = 256
	MaxKeyBindingSkew = 10 * time.Minute
)

// KeyBinding is the owner's signature that makes a presentation good for
// one request only: the service it is for (Audience, a peer ID), the
// request's nonce, when it was made, and SDHash, the hash of the
// presentation it signs. The signer is the attestation's subject.
type KeyBinding struct {
	Audience  string `json:"aud"`
	Nonce     string `json:"nonce"`
	IssuedAt  int64  `json:"iat"`
	SDHash    string `json:"sd_hash"`
	Signature string `json:"signature"`
}

// ClaimProof is what a share carries for a claims entry: the claim part of
// a verifier's attestation (no element digests, which would let a service
// test guesses of the data), the disclosures of the asked claims only, and
// the owner's key binding.
type ClaimProof struct {
	Type            ElementType `json:"type"`
	Verifier        string      `json:"verifier"`
	Subject         string      `json:"subject"`
	IssuedAt        int64       `json:"issued_at"`
	ExpiresAt       int64       `json:"expires_at"`
	SDAlg           string      `json:"sd_alg"`
	ClaimDigests    []string    `json:"claim_digests"`
	ClaimsSignature string      `json:"claims_signature"`
	Disclosures     []string    `json:"disclosures"`
	KeyBinding      *KeyBinding `json:"key_binding"`
}

// Disclosure is one decoded disclosure.
type Disclosure struct {
	Salt  string
	Name  string
	Value bool
}

// DisclosureDigest is base64url(SHA-256(d)) of a disclosure string d.
func DisclosureDigest(d string) string {
	sum := sha256.Sum256([]byte(d))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewDisclosure makes the disclosure of one claim with a fresh salt.
func NewDisclosure(name string, value bool) (string, error) {
	var salt [saltBytes]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("passport: disclosure salt: %w", err)
	}
	b, err := json.Marshal([]any{base64.RawURLEncoding.EncodeToString(salt[:]), name, value})
	if err != nil {
		return "", fmt.Errorf("passport: disclosure: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseDisclosure decodes a disclosure strictly: base64url without padding
// of a JSON array of exactly a salt (base64url, at least 128 bits), a
// supported claim name and a boolean.
func ParseDisclosure(d string) (*Disclosure, error) {
	if len(d) == 0 || len(d) > MaxDisclosureLen {
		return nil, fmt.Errorf("disclosure: must be 1-%d characters", MaxDisclosureLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(d)
	if err != nil {
		return nil, fmt.Errorf("disclosure: not base64url without padding: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var parts []json.RawMessage
	if err := dec.Decode(&parts); err != nil {
		return nil, fmt.Errorf("disclosure: not a JSON array: %w", err)
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, errors.New("disclosure: data after the JSON array")
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("disclosure: %d entries, want [salt, name, value]", len(parts))
	}
	var out Disclosure
	if err := json.Unmarshal(parts[0], &out.Salt); err != nil {
		return nil, errors.New("disclosure: the salt is not a string")
	}
	if s, err := base64.RawURLEncoding.Strict().DecodeString(out.Salt); err != nil || len(s) < saltBytes {
		return nil, fmt.Errorf("disclosure: the salt must be base64url of at least %d random bytes", saltBytes)
	}
	if err := json.Unmarshal(parts[1], &out.Name); err != nil {
		return nil, errors.New("disclosure: the claim name is not a string")
	}
	if err := CheckClaimName(out.Name); err != nil {
		return nil, fmt.Errorf("disclosure: %w", err)
	}
	if err := json.Unmarshal(parts[2], &out.Value); err != nil {
		return nil, fmt.Errorf("disclosure: the value of %s is not a boolean", out.Name)
	}
	return &out, nil
}

// AddClaims makes a disclosure of every claim, puts their digests (sorted,
// with decoys up to a multiple of four so the count says little) in a and
// signs them with the verifier's key, which must be the one that signed a.
// It returns the disclosures, which only the owner is to receive.
func (a *Attestation) AddClaims(key crypto.PrivKey, claims map[string]bool) ([]string, error) {
	if len(claims) == 0 || len(claims) > MaxClaimDigests/2 {
		return nil, fmt.Errorf("passport: attest: 1-%d claims", MaxClaimDigests/2)
	}
	var out, digests []string
	for _, name := range sortedClaimNames(claims) {
		if err := CheckClaimName(name); err != nil {
			return nil, err
		}
		d, err := NewDisclosure(name, claims[name])
		if err != nil {
			return nil, err
		}
		out = append(out, d)
		digests = append(digests, DisclosureDigest(d))
	}
	for len(digests)%4 != 0 {
		var junk [32]byte
		if _, err := rand.Read(junk[:]); err != nil {
			return nil, fmt.Errorf("passport: decoy digest: %w", err)
		}
		digests = append(digests, DisclosureDigest(base64.RawURLEncoding.EncodeToString(junk[:])))
	}
	slices.Sort(digests)
	a.SDAlg, a.ClaimDigests = SDAlg, digests
	sig, err := key.Sign(a.claimsPart().signedBytes())
	if err != nil {
		return nil, fmt.Errorf("passport: attest: sign claims: %w", err)
	}
	a.ClaimsSignature = base64.StdEncoding.EncodeToString(sig)
	return out, nil
}

func sortedClaimNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// HasClaims reports whether a carries signed claim digests.
func (a *Attestation) HasClaims() bool {
	return a.SDAlg != "" || len(a.ClaimDigests) > 0 || a.ClaimsSignature != ""
}

// claimsPart is the claim half of a as a proof without disclosures.
func (a *Attestation) claimsPart() *ClaimProof {
	return &ClaimProof{Type: a.Type, Verifier: a.Verifier, Subject: a.Subject, IssuedAt: a.IssuedAt, ExpiresAt: a.ExpiresAt,
		SDAlg: a.SDAlg, ClaimDigests: a.ClaimDigests, ClaimsSignature: a.ClaimsSignature}
}

// signedBytes is what the verifier signs for the claims: type, verifier,
// subject, validity, algorithm and the digest list. The element's data
// digest is deliberately not in it, so a proof can leave it out.
func (p *ClaimProof) signedBytes() []byte {
	b := []byte(claimsTag)
	for _, s := range []string{string(p.Type), p.Verifier, p.Subject, p.SDAlg} {
		b = wire.AppendLenPrefixed(b, []byte(s))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(p.IssuedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(p.ExpiresAt))
	b = binary.AppendUvarint(b, uint64(len(p.ClaimDigests)))
	for _, d := range p.ClaimDigests {
		b = wire.AppendLenPrefixed(b, []byte(d))
	}
	return b
}

// verifySigned checks the shape of the claim part and the verifier's
// signature over it; validity in time is the caller's.
func (p *ClaimProof) verifySigned() error {
	if p.SDAlg != SDAlg {
		return fmt.Errorf("claims: digest algorithm %q, only %s is supported", p.SDAlg, SDAlg)
	}
	if len(p.ClaimDigests) == 0 || len(p.ClaimDigests) > MaxClaimDigests {
		return fmt.Errorf("claims: %d digests, want 1-%d", len(p.ClaimDigests), MaxClaimDigests)
	}
	for _, d := range p.ClaimDigests {
		if len(d) != digestB64Len {
			return errors.New("claims: a digest is not a base64url SHA-256")
		}
	}
	vid, err := peer.Decode(p.Verifier)
	if err != nil {
		return fmt.Errorf("claims: verifier %q is not a peer ID: %w", p.Verifier, err)
	}
	pub, err := vid.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("claims: verifier %s: no public key in the peer ID: %w", vid, err)
	}
	sig, err := base64.StdEncoding.DecodeString(p.ClaimsSignature)
	if err != nil || len(sig) > 1024 {
		return errors.New("claims: the verifier's signature is not base64")
	}
	if ok, err := pub.Verify(p.signedBytes(), sig); err != nil || !ok {
		return fmt.Errorf("claims: the signature of verifier %s over the claim digests does not match", vid)
	}
	return nil
}

// Disclosed checks disclosures against a's signed digests and returns the
// claims they disclose. The owner uses it on what a verifier sent.
func (a *Attestation) Disclosed(disclosures []string) (map[string]bool, error) {
	return discloseAgainst(a.ClaimDigests, disclosures)
}

func discloseAgainst(signed, disclosures []string) (map[string]bool, error) {
	if len(disclosures) > MaxClaimDigests {
		return nil, fmt.Errorf("claims: %d disclosures, at most %d", len(disclosures), MaxClaimDigests)
	}
	out := map[string]bool{}
	used := map[string]bool{}
	for i, d := range disclosures {
		dis, err := ParseDisclosure(d)
		if err != nil {
			return nil, fmt.Errorf("claims: disclosure %d: %w", i, err)
		}
		h := DisclosureDigest(d)
		if !slices.Contains(signed, h) {
			return nil, fmt.Errorf("claims: the disclosure of %s is not among the digests the verifier signed (altered, or from another attestation)", dis.Name)
		}
		if used[h] {
			return nil, fmt.Errorf("claims: the disclosure of %s is given twice", dis.Name)
		}
		if _, dup := out[dis.Name]; dup {
			return nil, fmt.Errorf("claims: %s is disclosed twice", dis.Name)
		}
		used[h] = true
		out[dis.Name] = dis.Value
	}
	return out, nil
}

// Present makes a proof of the named claims from a (which the owner
// holds, with all its disclosures) for the service audience and the
// request's nonce, signed with the owner's peer key holder. It fails,
// naming the claim, when a does not attest one of them.
func Present(a *Attestation, disclosures []string, names []string, holder crypto.PrivKey, audience peer.ID, nonce string, at time.Time) (*ClaimProof, error) {
	if !a.HasClaims() {
		return nil, fmt.Errorf("claims: the %s attestation by %s carries no claims", a.Type, a.Verifier)
	}
	byName := map[string]string{}
	for _, d := range disclosures {
		if dis, err := ParseDisclosure(d); err == nil {
			byName[dis.Name] = d
		}
	}
	p := a.claimsPart()
	p.ClaimDigests = slices.Clone(p.ClaimDigests)
	p.Disclosures = []string{}
	for _, n := range names {
		d, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("claims: the %s attestation by %s does not attest %s", a.Type, a.Verifier, n)
		}
		p.Disclosures = append(p.Disclosures, d)
	}
	kb := &KeyBinding{Audience: audience.String(), Nonce: nonce, IssuedAt: at.Unix(), SDHash: p.sdHash()}
	sig, err := holder.Sign(kb.signedBytes())
	if err != nil {
		return nil, fmt.Errorf("claims: key binding: %w", err)
	}
	kb.Signature = base64.StdEncoding.EncodeToString(sig)
	p.KeyBinding = kb
	return p, nil
}

// sdHash hashes exactly what is presented: the signed claim part, the
// verifier's signature and the disclosures in order.
func (p *ClaimProof) sdHash() string {
	b := []byte(sdHashTag)
	b = wire.AppendLenPrefixed(b, p.signedBytes())
	b = wire.AppendLenPrefixed(b, []byte(p.ClaimsSignature))
	b = binary.AppendUvarint(b, uint64(len(p.Disclosures)))
	for _, d := range p.Disclosures {
		b = wire.AppendLenPrefixed(b, []byte(d))
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (kb *KeyBinding) signedBytes() []byte {
	b := []byte(kbTag)
	for _, s := range []string{kb.Audience, kb.Nonce, kb.SDHash} {
		b = wire.AppendLenPrefixed(b, []byte(s))
	}
	return binary.BigEndian.AppendUint64(b, uint64(kb.IssuedAt))
}

// CheckShape bounds a decoded proof (counts and lengths) without checking
// signatures; a share decoder calls it.
func (p *ClaimProof) CheckShape() error {
	switch {
	case !p.Type.Valid():
		return fmt.Errorf("claims: unknown element type %q", p.Type)
	case len(p.ClaimDigests) == 0 || len(p.ClaimDigests) > MaxClaimDigests:
		return fmt.Errorf("claims: %d digests, want 1-%d", len(p.ClaimDigests), MaxClaimDigests)
	case len(p.Disclosures) == 0 || len(p.Disclosures) > MaxClaimsPerEntry:
		return fmt.Errorf("claims: %d disclosures, want 1-%d", len(p.Disclosures), MaxClaimsPerEntry)
	case p.KeyBinding == nil:
		return errors.New("claims: no key binding: the owner must sign the presentation for this request")
	}
	return nil
}

// Verify checks a proof presented to service audience for the request
// with nonce, at now, and returns the disclosed claims: the verifier's
// signature over the digests, the validity window, every disclosure among
// the signed digests, and the subject's key binding to this audience,
// nonce and exactly these disclosures. Every refusal says which check
// failed.
func (p *ClaimProof) Verify(now time.Time, audience peer.ID, nonce string) (map[string]bool, error) {
	if err := p.CheckShape(); err != nil {
		return nil, err
	}
	if err := p.verifySigned(); err != nil {
		return nil, err
	}
	if t := now.Unix(); t < p.IssuedAt-300 || t >= p.ExpiresAt {
		return nil, fmt.Errorf("claims: the attestation is valid from %s to %s, not now", time.Unix(p.IssuedAt, 0).UTC(), time.Unix(p.ExpiresAt, 0).UTC())
	}
	claims, err := discloseAgainst(p.ClaimDigests, p.Disclosures)
	if err != nil {
		return nil, err
	}
	kb := p.KeyBinding
	switch {
	case kb.Audience != audience.String():
		return nil, fmt.Errorf("claims: the presentation is bound to service %s, not %s (replayed)", kb.Audience, audience)
	case kb.Nonce != nonce:
		return nil, fmt.Errorf("claims: the presentation is bound to nonce %q, not this request's %q (replayed)", kb.Nonce, nonce)
	case kb.SDHash != p.sdHash():
		return nil, errors.New("claims: the key binding signs other disclosures than those presented (altered)")
	}
	if d := now.Sub(time.Unix(kb.IssuedAt, 0)); d > MaxKeyBindingSkew || d < -MaxKeyBindingSkew {
		return nil, fmt.Errorf("claims: the key binding was made at %s, more than %s from now", time.Unix(kb.IssuedAt, 0).UTC(), MaxKeyBindingSkew)
	}
	sub, err := peer.Decode(p.Subject)
	if err != nil {
		return nil, fmt.Errorf("claims: subject %q is not a peer ID: %w", p.Subject, err)
	}
	pub, err := sub.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("claims: subject %s: no public key in the peer ID: %w", sub, err)
	}
	sig, err := base64.StdEncoding.DecodeString(kb.Signature)
	if err != nil || len(sig) > 1024 {
		return nil, errors.New("claims: the key binding signature is not base64")
	}
	if ok, err := pub.Verify(kb.signedBytes(), sig); err != nil || !ok {
		return nil, fmt.Errorf("claims: the key binding is not signed by the subject %s", sub)
	}
	return claims, nil
}

// UnmarshalClaimProof reads a proof's JSON strictly and checks its shape;
// Verify checks the rest.
func UnmarshalClaimProof(b []byte) (*ClaimProof, error) {
	if len(b) > MaxAttestationSize {
		return nil, fmt.Errorf("claims: %d bytes, the limit is %d", len(b), MaxAttestationSize)
	}
	var p ClaimProof
	if err := strictJSON(b, &p); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if err := p.CheckShape(); err != nil {
		return nil, err
	}
	return &p, nil
}
