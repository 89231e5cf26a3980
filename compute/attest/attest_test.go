package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func testClaims() Claims {
	return Claims{
		HPKEKey: bytes.Repeat([]byte{7}, 32),
		NodeKey: "12D3KooWWorker",
		Expiry:  sampleTime.Add(24 * time.Hour).Unix(),
		Models:  []string{"bbbb", "aaaa"},
	}
}

func TestReportDataIsTheDocumentedHash(t *testing.T) {
	c := testClaims()
	// Build the encoding by hand from the documentation.
	want := []byte(reportDataTag)
	want = append(want, 32)
	want = append(want, c.HPKEKey...)
	want = append(want, byte(len(c.NodeKey)))
	want = append(want, c.NodeKey...)
	want = binary.BigEndian.AppendUint64(want, uint64(c.Expiry))
	want = append(want, 2, 4, 'a', 'a', 'a', 'a', 4, 'b', 'b', 'b', 'b')
	if got := ReportData(c); got != sha512.Sum512(want) {
		t.Fatalf("ReportData = %x, want SHA-512 of the documented encoding", got)
	}
}

func TestReportDataBindsEveryField(t *testing.T) {
	base := testClaims()
	ref := ReportData(base)
	reordered := base
	reordered.Models = []string{"aaaa", "bbbb"}
	if ReportData(reordered) != ref {
		t.Fatal("the order of Models changes ReportData")
	}
	if base.Models[0] != "bbbb" {
		t.Fatal("ReportData sorted the caller's slice")
	}
	for name, mutate := range map[string]func(*Claims){
		"HPKE key":      func(c *Claims) { c.HPKEKey = bytes.Repeat([]byte{8}, 32) },
		"node key":      func(c *Claims) { c.NodeKey += "x" },
		"expiry":        func(c *Claims) { c.Expiry++ },
		"model added":   func(c *Claims) { c.Models = append(c.Models, "cccc") },
		"model changed": func(c *Claims) { c.Models = []string{"aaaa", "bbbc"} },
		"boundary":      func(c *Claims) { c.Models = []string{"aaaab", "bbb"} },
	} {
		c := base
		c.Models = append([]string(nil), base.Models...)
		mutate(&c)
		if ReportData(c) == ref {
			t.Errorf("changing the %s leaves ReportData unchanged", name)
		}
	}
}

func TestEvidenceRoundTrip(t *testing.T) {
	quote, _, _ := sampleTDX(t)
	for _, ev := range []Evidence{{Kind: TDX, Quote: quote}, {Kind: None}, {Kind: SEVSNP, Quote: []byte{1, 2, 3}}} {
		got, err := UnmarshalEvidence(ev.Marshal())
		if err != nil {
			t.Fatalf("UnmarshalEvidence(%s): %v", ev.Kind, err)
		}
		if got.Kind != ev.Kind || !bytes.Equal(got.Quote, ev.Quote) {
			t.Fatalf("round trip of %s changed it", ev.Kind)
		}
	}
	good := Evidence{Kind: TDX, Quote: []byte{1}}.Marshal()
	for name, b := range map[string][]byte{
		"empty":          nil,
		"bad version":    append([]byte{2}, good[1:]...),
		"trailing":       append(bytes.Clone(good), 0),
		"unknown kind":   Evidence{Kind: "sgx", Quote: []byte{1}}.Marshal(),
		"none and quote": Evidence{Kind: None, Quote: []byte{1}}.Marshal(),
		"quote too big":  Evidence{Kind: TDX, Quote: make([]byte, MaxQuoteSize+1)}.Marshal(),
	} {
		if _, err := UnmarshalEvidence(b); err == nil {
			t.Errorf("%s: UnmarshalEvidence accepted it", name)
		}
	}
}

func TestNoneIsRefusedUnlessAllowed(t *testing.T) {
	ctx := context.Background()
	ev, err := NoneAttester().Attest(ctx, testClaims())
	if err != nil || ev.Kind != None || len(ev.Quote) != 0 {
		t.Fatalf("NoneAttester = %+v, %v; want empty evidence of kind none", ev, err)
	}
	if _, err := Verify(ctx, ev, testClaims(), Policy{Now: sampleTime}); !errors.Is(err, ErrUnattested) {
		t.Fatalf("Verify(none) = %v, want ErrUnattested", err)
	}
	res, err := Verify(ctx, ev, testClaims(), Policy{Now: sampleTime, AllowUnattested: true})
	if err != nil {
		t.Fatalf("Verify(none) with AllowUnattested: %v", err)
	}
	if res.Confidential || res.Kind != None || !strings.Contains(res.Detail, "NOT confidential") {
		t.Fatalf("Verify(none) = %+v, want a result marked NOT confidential", res)
	}
}

func TestExpiredClaimsRefused(t *testing.T) {
	c := testClaims()
	c.Expiry = sampleTime.Unix()
	_, err := Verify(context.Background(), Evidence{Kind: None}, c, Policy{Now: sampleTime, AllowUnattested: true})
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Verify of expired claims = %v, want an expiry error", err)
	}
}

func TestEmbeddedIntelRoot(t *testing.T) {
	blk, _ := pem.Decode(intelRootPEM)
	if blk == nil {
		t.Fatal("embedded Intel root is not PEM")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.Raw)
	if got := hex.EncodeToString(sum[:]); got != "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3" {
		t.Fatalf("embedded Intel root fingerprint %s is not Intel SGX Root CA's", got)
	}
}

func TestEmptyClaimsRefused(t *testing.T) {
	for name, c := range map[string]Claims{"no key": {NodeKey: "n", Expiry: sampleTime.Unix() + 60}, "no node": {HPKEKey: []byte{1}, Expiry: sampleTime.Unix() + 60}} {
		if _, err := Verify(context.Background(), Evidence{Kind: None}, c, Policy{Now: sampleTime, AllowUnattested: true}); err == nil {
			t.Errorf("%s: Verify accepted claims that vouch for nothing", name)
		}
	}
}
