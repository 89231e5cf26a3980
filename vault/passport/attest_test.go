package passport

import (
	"strings"
	"testing"
	"time"
)

func TestAttestationVerifiesAndCovers(t *testing.T) {
	key, verifier := testPeer(t, 9)
	_, owner := testPeer(t, 3)
	e := sample(TypeDriverLicense)
	now := time.Unix(1_800_000_000, 0)
	a, err := Attest(key, owner, e, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a.Verifier != verifier.String() || a.Subject != owner.String() || a.Statement != StatementVerified || len(a.Files) != 4 {
		t.Fatalf("attestation %+v", a)
	}
	if err := a.Verify(now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := a.Covers(e); err != nil {
		t.Fatal(err)
	}
	// A share leaving out the selfie and translation is still covered.
	if err := a.Covers(Project(e, ScopeOne{Type: TypeDriverLicense})); err != nil {
		t.Fatalf("projected element: %v", err)
	}
	// Expired.
	if err := a.Verify(now.Add(25 * time.Hour)); err == nil {
		t.Fatal("expired attestation verified")
	}
	// Changed data or file.
	changed := e.Clone()
	changed.Data["document_no"] = "OTHER"
	if err := a.Covers(changed); err == nil || !strings.Contains(err.Error(), "data") {
		t.Fatalf("changed data: %v", err)
	}
	changed = e.Clone()
	changed.FrontSide.Bytes = append(changed.FrontSide.Bytes, 1)
	if err := a.Covers(changed); err == nil || !strings.Contains(err.Error(), "front_side") {
		t.Fatalf("changed front side: %v", err)
	}
	// Any edit of a signed field breaks the signature.
	for name, edit := range map[string]func(a *Attestation){
		"subject":   func(a *Attestation) { a.Subject = verifier.String() },
		"expiry":    func(a *Attestation) { a.ExpiresAt++ },
		"digest":    func(a *Attestation) { a.DataDigest = strings.Repeat("0", 64) },
		"file":      func(a *Attestation) { a.Files = a.Files[1:] },
		"verifier":  func(a *Attestation) { a.Verifier = owner.String() },
		"statement": func(a *Attestation) { a.Statement = "document seen" },
	} {
		c := *a
		c.Files = append([]FileDigest(nil), a.Files...)
		edit(&c)
		if err := c.Verify(now); err == nil {
			t.Errorf("%s edited: still verifies", name)
		}
	}
}

func TestElementErrorValidate(t *testing.T) {
	good := []PassportElementError{
		{Source: SourceData, Type: TypePersonalDetails, FieldName: "first_name", DataHash: "aGFzaA==", Message: "typo"},
		{Source: SourceFrontSide, Type: TypePassport, FileHash: "aA==", Message: "blurry"},
		{Source: SourceReverseSide, Type: TypeIdentityCard, FileHash: "aA==", Message: "blurry"},
		{Source: SourceSelfie, Type: TypeDriverLicense, FileHash: "aA==", Message: "face hidden"},
		{Source: SourceFile, Type: TypeUtilityBill, FileHash: "aA==", Message: "old"},
		{Source: SourceFiles, Type: TypeBankStatement, FileHashes: []string{"aA=="}, Message: "old"},
		{Source: SourceTranslationFile, Type: TypePassport, FileHash: "aA==", Message: "unsigned"},
		{Source: SourceTranslationFiles, Type: TypeRentalAgreement, FileHashes: []string{"aA=="}, Message: "unsigned"},
		{Source: SourceUnspecified, Type: TypeEmail, ElementHash: "aA==", Message: "?"},
	}
	for _, pe := range good {
		if err := pe.Validate(); err != nil {
			t.Errorf("%s/%s: %v", pe.Source, pe.Type, err)
		}
	}
	bad := map[string]PassportElementError{
		"field_name":      {Source: SourceData, Type: TypePassport, FieldName: "first_name", DataHash: "aA==", Message: "x"},
		"does not apply":  {Source: SourceReverseSide, Type: TypePassport, FileHash: "aA==", Message: "x"},
		"file_hashes":     {Source: SourceFiles, Type: TypeUtilityBill, Message: "x"},
		"element_hash":    {Source: SourceUnspecified, Type: TypeAddress, Message: "x"},
		"message":         {Source: SourceUnspecified, Type: TypeAddress, ElementHash: "aA=="},
		"source \"nope\"": {Source: "nope", Type: TypeAddress, Message: "x"},
		"not an element":  {Source: SourceUnspecified, Type: "visa", ElementHash: "a", Message: "x"},
	}
	for want, pe := range bad {
		if err := pe.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Validate() = %v", want, err)
		}
	}
}
