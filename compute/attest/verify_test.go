package attest

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
)

// The samples' report data are whatever their makers put there: no Claims
// hash to them, so a full Verify of a sample always ends at the binding
// check. The tests below therefore show (1) Verify gets that far — the
// signature chain verified — and refuses with a binding error, and (2) the
// same code path (verifyTDX/verifySEVSNP) succeeds when the expected report
// data is the sample's own, i.e. binding success with the sample's report
// data standing in for ReportData(claims).

func TestTDXSampleChainVerifiesBindingMismatchRefused(t *testing.T) {
	quote, _, _ := sampleTDX(t)
	_, err := Verify(context.Background(), Evidence{Kind: TDX, Quote: quote}, testClaims(), Policy{Now: sampleTime})
	if err == nil || !strings.Contains(err.Error(), "does not bind the offered claims") {
		t.Fatalf("Verify(sample TDX, other claims) = %v, want a binding error", err)
	}
}

func TestTDXSampleBindingSuccess(t *testing.T) {
	quote, rd, mrtd := sampleTDX(t)
	res, err := verifyTDX(quote, rd, sampleTime, Policy{})
	if err != nil {
		t.Fatalf("verifyTDX(sample, its own report data) = %v", err)
	}
	if res.Kind != TDX || !res.Confidential || res.Measurement != hex.EncodeToString(mrtd) {
		t.Fatalf("result = %+v, want confidential tdx with MRTD %x", res, mrtd)
	}
	if !strings.Contains(res.Detail, "not checked (offline)") {
		t.Fatalf("detail %q does not say TCB status was not checked", res.Detail)
	}
	if err := checkBinding(TDX, rd[:], rd); err != nil {
		t.Fatalf("checkBinding of equal report data: %v", err)
	}
}

func TestTDXMeasurementPolicy(t *testing.T) {
	quote, rd, mrtd := sampleTDX(t)
	if _, err := verifyTDX(quote, rd, sampleTime, Policy{Measurements: []string{strings.ToUpper(hex.EncodeToString(mrtd))}}); err != nil {
		t.Fatalf("an allowed MRTD was refused: %v", err)
	}
	_, err := verifyTDX(quote, rd, sampleTime, Policy{Measurements: []string{strings.Repeat("00", 48)}})
	if err == nil || !strings.Contains(err.Error(), "not one of the 1 allowed") {
		t.Fatalf("a disallowed MRTD = %v, want a measurement error", err)
	}
}

func TestTDXTamperedQuoteRefused(t *testing.T) {
	quote, rd, _ := sampleTDX(t)
	at := bytes.Index(quote, rd[:])
	if at < 0 {
		t.Fatal("report data not found in the raw sample quote")
	}
	for name, i := range map[string]int{"report data": at, "header": 0x1e, "TD quote body": 0x3c} {
		q := bytes.Clone(quote)
		q[i] ^= 0x01
		want := rd
		if name == "report data" {
			copy(want[:], q[at:at+64]) // the attacker's report data: the signature must still fail
		}
		_, err := verifyTDX(q, want, sampleTime, Policy{})
		if err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Errorf("%s changed: verifyTDX = %v, want a signature error", name, err)
		}
	}
	if _, err := verifyTDX(quote[:100], rd, sampleTime, Policy{}); err == nil {
		t.Error("a truncated quote verified")
	}
}

func TestTDXExpiredChainRefused(t *testing.T) {
	quote, rd, _ := sampleTDX(t)
	later := sampleTime.AddDate(40, 0, 0)
	_, err := verifyTDX(quote, rd, later, Policy{})
	if err == nil {
		t.Fatal("the sample verified 40 years on, after its certificates expired")
	}
}

func TestSEVSampleChainVerifiesBindingMismatchRefused(t *testing.T) {
	quote, _, _ := sampleSEV(t)
	_, err := Verify(context.Background(), Evidence{Kind: SEVSNP, Quote: quote}, testClaims(), Policy{Now: sampleTime, AllowDebug: true})
	if err == nil || !strings.Contains(err.Error(), "does not bind the offered claims") {
		t.Fatalf("Verify(sample SEV-SNP, other claims) = %v, want a binding error", err)
	}
}

func TestSEVSampleBindingSuccess(t *testing.T) {
	quote, rd, m := sampleSEV(t)
	res, err := verifySEVSNP(context.Background(), quote, rd, sampleTime, Policy{AllowDebug: true})
	if err != nil {
		t.Fatalf("verifySEVSNP(sample, its own report data) = %v", err)
	}
	if res.Kind != SEVSNP || !res.Confidential || res.Measurement != hex.EncodeToString(m) {
		t.Fatalf("result = %+v, want confidential sev-snp with measurement %x", res, m)
	}
}

// The sample guest was launched with debugging allowed: the default policy
// must refuse it even though its signature is genuine.
func TestSEVDebugGuestRefused(t *testing.T) {
	quote, rd, _ := sampleSEV(t)
	_, err := verifySEVSNP(context.Background(), quote, rd, sampleTime, Policy{})
	if err == nil || !strings.Contains(err.Error(), "debugging") {
		t.Fatalf("verifySEVSNP(debug sample) = %v, want a debug refusal", err)
	}
}

func TestSEVTamperedReportRefused(t *testing.T) {
	quote, rd, _ := sampleSEV(t)
	ctx := context.Background()
	q := bytes.Clone(quote)
	q[0x50] ^= 0x01 // inside REPORT_DATA, which is signed
	want := rd
	copy(want[:], q[0x50:0x90])
	if _, err := verifySEVSNP(ctx, q, want, sampleTime, Policy{AllowDebug: true}); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("changed report data: verifySEVSNP = %v, want a signature error", err)
	}
	if _, err := verifySEVSNP(ctx, quote[:0x4a0], rd, sampleTime, Policy{AllowDebug: true}); err == nil || !strings.Contains(err.Error(), "certificate table") {
		t.Fatalf("report without certificates: verifySEVSNP = %v, want an error naming the certificate table", err)
	}
	if _, err := verifySEVSNP(ctx, quote, rd, sampleTime.AddDate(40, 0, 0), Policy{AllowDebug: true}); err == nil {
		t.Fatal("the sample verified after its VCEK expired")
	}
}

func TestUnknownKindRefused(t *testing.T) {
	_, err := Verify(context.Background(), Evidence{Kind: "sgx"}, testClaims(), Policy{Now: sampleTime, AllowUnattested: true})
	if err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("Verify(kind sgx) = %v, want an unknown-kind error", err)
	}
}

// A quote whose QE authentication data length points past its end makes
// go-tdx-guest v0.3.1's parser panic (slice bounds out of range); Verify
// must turn that into an error, since quotes come from the network.
func TestMalformedTDXQuoteDoesNotPanic(t *testing.T) {
	quote, _, _ := sampleTDX(t)
	q := bytes.Clone(quote)
	q[0x4c3] = 0x7b // high byte of the QE authentication data size
	_, err := Verify(context.Background(), Evidence{Kind: TDX, Quote: q}, testClaims(), Policy{Now: sampleTime})
	if err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("Verify(quote with an overlong QE auth data size) = %v, want a malformed-evidence error", err)
	}
}
