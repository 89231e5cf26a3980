package attest

import (
	"bytes"
	"testing"
	"time"

	sevabi "github.com/google/go-sev-guest/abi"
	sevtd "github.com/google/go-sev-guest/verify/testdata"
	sevtrust "github.com/google/go-sev-guest/verify/trust"
	tdxabi "github.com/google/go-tdx-guest/abi"
	tdxpb "github.com/google/go-tdx-guest/proto/tdx"
	tdxtd "github.com/google/go-tdx-guest/testing/testdata"
	"github.com/google/uuid"
)

// sampleTime is when the libraries' sample evidence is checked: inside the
// validity of every certificate in both samples (the SEV-SNP sample's VCEK
// expires in September 2029), so the tests do not start failing as the
// samples age. Verification itself needs no network.
var sampleTime = time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC)

// sampleTDX returns go-tdx-guest's sample production quote (a v4 quote
// from a Sapphire Rapids machine, with its PCK chain) and its report data.
func sampleTDX(t testing.TB) (quote []byte, reportData [64]byte, mrtd []byte) {
	t.Helper()
	q, err := tdxabi.QuoteToProto(tdxtd.RawQuote)
	if err != nil {
		t.Fatalf("sample TDX quote does not parse: %v", err)
	}
	body := q.(*tdxpb.QuoteV4).GetTdQuoteBody()
	copy(reportData[:], body.GetReportData())
	return bytes.Clone(tdxtd.RawQuote), reportData, body.GetMrTd()
}

// sampleSEV returns go-sev-guest's sample attestation report (Milan, VCEK
// signed, launched with debugging allowed) followed by a certificate table
// holding the sample VCEK and AMD's Milan ASK and ARK, as configfs-tsm's
// outblob and auxblob would give them.
func sampleSEV(t testing.TB) (quote []byte, reportData [64]byte, measurement []byte) {
	t.Helper()
	var chain sevtrust.ProductCerts
	if err := chain.FromKDSCertBytes(sevtrust.AskArkMilanVcekBytes); err != nil {
		t.Fatalf("AMD Milan cert chain: %v", err)
	}
	table := sevabi.CertTable{Entries: []sevabi.CertTableEntry{
		{GUID: uuid.MustParse(sevabi.VcekGUID), RawCert: sevtd.VcekBytes},
		{GUID: uuid.MustParse(sevabi.AskGUID), RawCert: chain.Ask.Raw},
		{GUID: uuid.MustParse(sevabi.ArkGUID), RawCert: chain.Ark.Raw},
	}}
	r, err := sevabi.ReportToProto(sevtd.AttestationBytes)
	if err != nil {
		t.Fatalf("sample SEV-SNP report does not parse: %v", err)
	}
	copy(reportData[:], r.GetReportData())
	return append(bytes.Clone(sevtd.AttestationBytes), table.Marshal()...), reportData, r.GetMeasurement()
}
