package passport

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// StatementVerified is the statement a verifier signs.
const StatementVerified = "document verified"

// Domain tags, so these digests and signatures never collide with any
// other hash or signature the project makes.
const (
	attestationTag = "tonmesh/vault/attestation/v1"
	dataDigestTag  = "tonmesh/vault/element-data/v1"
)

// MaxAttestationSize bounds an attestation's JSON.
const MaxAttestationSize = 8 << 10

// FileDigest is the SHA-256 (hex) of one file's plaintext and the role it
// has in the element (front_side, reverse_side, selfie, files, translation).
type FileDigest struct {
	Role   string `json:"role"`
	SHA256 string `json:"sha256"`
}

// Attestation is a verifier's signed statement that it checked an element:
// the digest of the element's canonical data and of each file's plaintext,
// bound to the element's owner (Subject) and signed with the verifier's
// libp2p peer key (Verifier is its peer ID).
//
// It may also carry derived claims (claims.go), selectively disclosable:
// SDAlg, the sorted salted digests of every claim (and decoys), and a
// second signature by the same key over the claim part alone
// (disclose.go). The first signature is unchanged by them, so an
// attestation without claims reads and verifies as before. The
// disclosures themselves never travel with the attestation.
type Attestation struct {
	Type       ElementType  `json:"type"`
	DataDigest string       `json:"data_digest"`
	Files      []FileDigest `json:"files,omitempty"`
	Verifier   string       `json:"verifier"`
	Subject    string       `json:"subject"`
	Statement  string       `json:"statement"`
	IssuedAt   int64        `json:"issued_at"`
	ExpiresAt  int64        `json:"expires_at"`
	Signature  string       `json:"signature"`

	SDAlg           string   `json:"sd_alg,omitempty"`
	ClaimDigests    []string `json:"claim_digests,omitempty"`
	ClaimsSignature string   `json:"claims_signature,omitempty"`
}

// DataDigest is the SHA-256 of e's canonical data: the type, the data
// fields in ascending key order and the value, length-prefixed.
func DataDigest(e *Element) [32]byte {
	b := []byte(dataDigestTag)
	b = wire.AppendLenPrefixed(b, []byte(e.Type))
	b = binary.AppendUvarint(b, uint64(len(e.Data)))
	for _, k := range sortedKeys(e.Data) {
		b = wire.AppendLenPrefixed(b, []byte(k))
		b = wire.AppendLenPrefixed(b, []byte(e.Data[k]))
	}
	b = wire.AppendLenPrefixed(b, []byte(e.Value))
	return sha256.Sum256(b)
}

// FileDigests lists the digests of e's files in the fixed order front
// side, reverse side, selfie, files, translation.
func FileDigests(e *Element) []FileDigest {
	var out []FileDigest
	add := func(role string, f *File) {
		sum := sha256.Sum256(f.Bytes)
		out = append(out, FileDigest{Role: role, SHA256: hex.EncodeToString(sum[:])})
	}
	for _, x := range []struct {
		role string
		f    *File
	}{{RoleFrontSide, e.FrontSide}, {RoleReverseSide, e.ReverseSide}, {RoleSelfie, e.Selfie}} {
		if x.f != nil {
			add(x.role, x.f)
		}
	}
	for i := range e.Files {
		add(RoleFiles, &e.Files[i])
	}
	for i := range e.Translation {
		add(RoleTranslation, &e.Translation[i])
	}
	return out
}

// Attest signs an attestation of e for its owner subject with the
// verifier's peer key, valid from issued for ttl.
func Attest(key crypto.PrivKey, subject peer.ID, e *Element, issued time.Time, ttl time.Duration) (*Attestation, error) {
	d := DataDigest(e)
	return AttestDigests(key, subject, e.Type, hex.EncodeToString(d[:]), FileDigests(e), issued, ttl)
}

// AttestDigests is Attest for a verifier that kept only an element's
// digests (DataDigest in hex and FileDigests), not its plaintext.
func AttestDigests(key crypto.PrivKey, subject peer.ID, t ElementType, dataDigest string, files []FileDigest, issued time.Time, ttl time.Duration) (*Attestation, error) {
	if key == nil || ttl <= 0 || !t.Valid() {
		return nil, errors.New("passport: attest: need a key, a known type and a positive validity")
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("passport: attest: verifier key: %w", err)
	}
	a := &Attestation{
		Type:       t,
		DataDigest: dataDigest,
		Files:      append([]FileDigest(nil), files...),
		Verifier:   id.String(),
		Subject:    subject.String(),
		Statement:  StatementVerified,
		IssuedAt:   issued.Unix(),
		ExpiresAt:  issued.Add(ttl).Unix(),
	}
	sig, err := key.Sign(a.signedBytes())
	if err != nil {
		return nil, fmt.Errorf("passport: attest: sign: %w", err)
	}
	a.Signature = base64.StdEncoding.EncodeToString(sig)
	return a, nil
}

func (a *Attestation) signedBytes() []byte {
	b := []byte(attestationTag)
	for _, s := range []string{string(a.Type), a.DataDigest, a.Verifier, a.Subject, a.Statement} {
		b = wire.AppendLenPrefixed(b, []byte(s))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(a.IssuedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(a.ExpiresAt))
	b = binary.AppendUvarint(b, uint64(len(a.Files)))
	for _, f := range a.Files {
		b = wire.AppendLenPrefixed(b, []byte(f.Role))
		b = wire.AppendLenPrefixed(b, []byte(f.SHA256))
	}
	return b
}

// Verify checks the signature against the verifier's peer ID, the
// statement, and that the attestation is valid at now.
func (a *Attestation) Verify(now time.Time) error {
	if a.Statement != StatementVerified {
		return fmt.Errorf("attestation: statement %q is not %q", a.Statement, StatementVerified)
	}
	if len(a.Files) > 3+2*MaxFiles {
		return fmt.Errorf("attestation: %d file digests, at most %d", len(a.Files), 3+2*MaxFiles)
	}
	vid, err := peer.Decode(a.Verifier)
	if err != nil {
		return fmt.Errorf("attestation: verifier %q is not a peer ID: %w", a.Verifier, err)
	}
	pub, err := vid.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("attestation: verifier %s: no public key in the peer ID: %w", vid, err)
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil || len(sig) > 1024 {
		return errors.New("attestation: signature is not base64")
	}
	ok, err := pub.Verify(a.signedBytes(), sig)
	if err != nil || !ok {
		return fmt.Errorf("attestation: the signature of verifier %s does not match", vid)
	}
	if a.HasClaims() {
		if err := a.claimsPart().verifySigned(); err != nil {
			return fmt.Errorf("attestation: %w", err)
		}
	}
	t := now.Unix()
	if t < a.IssuedAt-300 || t >= a.ExpiresAt {
		return fmt.Errorf("attestation: valid from %s to %s, not now", time.Unix(a.IssuedAt, 0).UTC(), time.Unix(a.ExpiresAt, 0).UTC())
	}
	return nil
}

// Covers checks that a (already verified) attests e as given: the same
// type and data digest, and every file of e among the attested ones in
// the same role. e may hold fewer files than were attested (a share that
// leaves out the selfie is still covered), never other ones.
func (a *Attestation) Covers(e *Element) error {
	if a.Type != e.Type {
		return fmt.Errorf("attestation: attests %s, not %s", a.Type, e.Type)
	}
	d := DataDigest(e)
	if a.DataDigest != hex.EncodeToString(d[:]) {
		return errors.New("attestation: the element's data differs from the attested data")
	}
	attested := map[FileDigest]int{}
	for _, f := range a.Files {
		attested[f]++
	}
	for _, f := range FileDigests(e) {
		if attested[f] == 0 {
			return fmt.Errorf("attestation: a %s file was not attested", f.Role)
		}
		attested[f]--
	}
	return nil
}

// Marshal encodes a as JSON, the form UnmarshalAttestation reads.
func (a *Attestation) Marshal() ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("attestation: encode: %w", err)
	}
	return b, nil
}

// UnmarshalAttestation reads an attestation's JSON strictly (bounded, no
// unknown fields, a known type). It does not verify the signature.
func UnmarshalAttestation(b []byte) (*Attestation, error) {
	if len(b) > MaxAttestationSize {
		return nil, fmt.Errorf("attestation: %d bytes, the limit is %d", len(b), MaxAttestationSize)
	}
	var a Attestation
	if err := strictJSON(b, &a); err != nil {
		return nil, fmt.Errorf("attestation: %w", err)
	}
	if !a.Type.Valid() {
		return nil, fmt.Errorf("attestation: unknown element type %q", a.Type)
	}
	return &a, nil
}
