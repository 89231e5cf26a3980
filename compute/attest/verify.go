package attest

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sevabi "github.com/google/go-sev-guest/abi"
	sevpb "github.com/google/go-sev-guest/proto/sevsnp"
	sevverify "github.com/google/go-sev-guest/verify"
	tdxabi "github.com/google/go-tdx-guest/abi"
	tdxpb "github.com/google/go-tdx-guest/proto/tdx"
	tdxverify "github.com/google/go-tdx-guest/verify"
)

// intelRootPEM is Intel's SGX Root CA (CN=Intel SGX Root CA, valid to
// 2049, SHA-256 fingerprint 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3),
// the root of every TDX PCK certificate chain.
//
//go:embed intel_sgx_root_ca.pem
var intelRootPEM []byte

// ErrUnattested: evidence of kind none met a policy that demands attestation.
var ErrUnattested = errors.New("attest: the worker has no hardware attestation (kind none) and is not confidential: refused; allow it only on a test network (compute.allow_unattested = true)")

// Policy says what Verify accepts.
type Policy struct {
	// AllowUnattested accepts kind none (Result.Confidential false).
	AllowUnattested bool
	// Now is the time certificates and claims are checked at; zero: time.Now().
	Now time.Time
	// Online lets verification fetch from the vendors: TDX collateral (TCB
	// info, QE identity) and CRLs from Intel PCS, SEV-SNP missing
	// certificates and CRLs from AMD KDS. Off (default), verification is
	// offline: the signature chain to the vendor root and the binding are
	// checked, TCB status and revocation are not. (go-tdx-guest's fetches
	// do not take a context: ctx does not cut them short.)
	Online bool
	// AllowDebug accepts a TEE launched with debugging enabled, whose memory
	// the host can read. For tests with sample evidence only.
	AllowDebug bool
	// Measurements, when not empty, lists the launch measurements accepted
	// (hex: TDX MRTD, SEV-SNP MEASUREMENT); others are refused.
	Measurements []string
}

// Result describes evidence that passed verification.
type Result struct {
	Kind Kind
	// Confidential is true only for verified tdx or sev-snp evidence.
	Confidential bool
	// Measurement is the hex launch measurement (TDX MRTD, SEV-SNP
	// MEASUREMENT); empty for none.
	Measurement string
	Detail      string
}

// Verify checks that ev is genuine evidence for c under p: the claims have
// not expired, the quote's signature chain leads to the vendor's root, the
// TEE is not in debug mode, the report data equals ReportData(c), and the
// measurement is allowed. Kind none is refused (ErrUnattested) unless
// p.AllowUnattested.
func Verify(ctx context.Context, ev Evidence, c Claims, p Policy) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("attest: verify: %w", err)
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	if now.Unix() >= c.Expiry {
		return Result{}, fmt.Errorf("attest: the claims expired at %s: the worker must publish fresh evidence", time.Unix(c.Expiry, 0).UTC().Format(time.RFC3339))
	}
	if len(c.HPKEKey) == 0 || c.NodeKey == "" {
		return Result{}, errors.New("attest: the claims name no HPKE key or no node: nothing to vouch for")
	}
	want := ReportData(c)
	switch ev.Kind {
	case None:
		if !p.AllowUnattested {
			return Result{}, ErrUnattested
		}
		if len(ev.Quote) != 0 {
			return Result{}, errors.New("attest: evidence of kind none carries a quote")
		}
		return Result{Kind: None, Detail: "NOT confidential: no hardware attestation (kind none); the worker's operator can read prompts and answers"}, nil
	case TDX:
		return guarded(TDX, func() (Result, error) { return verifyTDX(ev.Quote, want, now, p) })
	case SEVSNP:
		return guarded(SEVSNP, func() (Result, error) { return verifySEVSNP(ctx, ev.Quote, want, now, p) })
	}
	return Result{}, fmt.Errorf("attest: evidence kind %q is unknown (want tdx, sev-snp or none)", ev.Kind)
}

// guarded runs a verification and turns a panic into an error. The vendor
// libraries' parsers index into the quote by lengths the quote itself
// declares, and some malformed quotes make them panic (found by FuzzVerify
// in go-tdx-guest v0.3.1 abi.qeAuthDataToProto); evidence comes from the
// network, so a peer must not be able to crash the node with it.
func guarded(kind Kind, verify func() (Result, error)) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = Result{}, fmt.Errorf("attest: %s evidence is malformed (the verifier failed on it: %v)", kind, r)
		}
	}()
	return verify()
}

func intelRoots() (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(intelRootPEM) {
		return nil, errors.New("attest: the embedded Intel SGX root CA does not parse")
	}
	return pool, nil
}

func verifyTDX(quote []byte, want [64]byte, now time.Time, p Policy) (Result, error) {
	q, err := tdxabi.QuoteToProto(quote)
	if err != nil {
		return Result{}, fmt.Errorf("attest: TDX quote does not parse: %w", err)
	}
	qv, ok := q.(*tdxpb.QuoteV4)
	if !ok {
		return Result{}, fmt.Errorf("attest: TDX quote format %T is not supported (want v4)", q)
	}
	roots, err := intelRoots()
	if err != nil {
		return Result{}, err
	}
	opts := &tdxverify.Options{Now: now, TrustedRoots: roots, GetCollateral: p.Online, CheckRevocations: p.Online}
	if err := tdxverify.TdxQuote(qv, opts); err != nil {
		return Result{}, fmt.Errorf("attest: TDX quote does not verify against Intel's root: %w", err)
	}
	body := qv.GetTdQuoteBody()
	// TDATTRIBUTES bit 0 is DEBUG (Intel TDX module ABI).
	if attrs := body.GetTdAttributes(); len(attrs) > 0 && attrs[0]&1 != 0 && !p.AllowDebug {
		return Result{}, errors.New("attest: the TDX guest runs in debug mode (TDATTRIBUTES.DEBUG): its memory is readable by the host, refused")
	}
	if err := checkBinding(TDX, body.GetReportData(), want); err != nil {
		return Result{}, err
	}
	m := hex.EncodeToString(body.GetMrTd())
	if err := checkMeasurement(TDX, m, p.Measurements); err != nil {
		return Result{}, err
	}
	return Result{Kind: TDX, Confidential: true, Measurement: m, Detail: "TDX quote verified to Intel's root; " + tcbNote(p)}, nil
}

func verifySEVSNP(ctx context.Context, quote []byte, want [64]byte, now time.Time, p Policy) (Result, error) {
	if len(quote) <= sevabi.ReportSize {
		return Result{}, fmt.Errorf("attest: SEV-SNP evidence is %d bytes: it needs the %d-byte report followed by its certificate table (VCEK or VLEK)", len(quote), sevabi.ReportSize)
	}
	report, err := sevabi.ReportToProto(quote[:sevabi.ReportSize])
	if err != nil {
		return Result{}, fmt.Errorf("attest: SEV-SNP report does not parse: %w", err)
	}
	var table sevabi.CertTable
	if err := table.Unmarshal(quote[sevabi.ReportSize:]); err != nil {
		return Result{}, fmt.Errorf("attest: SEV-SNP certificate table does not parse: %w", err)
	}
	if !hasEndorsementKey(&table) {
		return Result{}, errors.New("attest: SEV-SNP certificate table holds no VCEK or VLEK certificate: the worker's host must supply its endorsement key certificate")
	}
	att := &sevpb.Attestation{Report: report, CertificateChain: table.Proto()}
	opts := &sevverify.Options{Now: now, DisableCertFetching: !p.Online, CheckRevocations: p.Online}
	if err := sevverify.SnpAttestationContext(ctx, att, opts); err != nil {
		return Result{}, fmt.Errorf("attest: SEV-SNP report does not verify against AMD's roots: %w", err)
	}
	policy, err := sevabi.ParseSnpPolicy(report.GetPolicy())
	if err != nil {
		return Result{}, fmt.Errorf("attest: SEV-SNP guest policy: %w", err)
	}
	if policy.Debug && !p.AllowDebug {
		return Result{}, errors.New("attest: the SEV-SNP guest policy allows debugging: its memory is readable by the host, refused")
	}
	if err := checkBinding(SEVSNP, report.GetReportData(), want); err != nil {
		return Result{}, err
	}
	m := hex.EncodeToString(report.GetMeasurement())
	if err := checkMeasurement(SEVSNP, m, p.Measurements); err != nil {
		return Result{}, err
	}
	return Result{Kind: SEVSNP, Confidential: true, Measurement: m, Detail: "SEV-SNP report verified to AMD's root; " + tcbNote(p)}, nil
}

func hasEndorsementKey(t *sevabi.CertTable) bool {
	for _, g := range []string{sevabi.VcekGUID, sevabi.VlekGUID} {
		if c, err := t.GetByGUIDString(g); err == nil && len(c) > 0 {
			return true
		}
	}
	return false
}

func tcbNote(p Policy) string {
	if p.Online {
		return "collateral and revocation checked online"
	}
	return "TCB status and revocation not checked (offline)"
}

// checkBinding compares a report's report data with ReportData of the
// expected claims.
func checkBinding(kind Kind, got []byte, want [64]byte) error {
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return fmt.Errorf("attest: %s report data %s does not bind the offered claims (want %s): the evidence was made for another key, node, expiry or model list", kind, short(got), short(want[:]))
	}
	return nil
}

func checkMeasurement(kind Kind, got string, allowed []string) error {
	if len(allowed) == 0 || slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, got) }) {
		return nil
	}
	return fmt.Errorf("attest: %s measurement %s is not one of the %d allowed by policy", kind, got, len(allowed))
}

func short(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
