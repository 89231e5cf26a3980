package passport

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d.Add(13 * time.Hour) // midday: the day, not the instant, counts
}

func TestDeriveClaims(t *testing.T) {
	pd := sample(TypePersonalDetails) // born 29.02.1988, resident of DE
	cases := []struct {
		e     *Element
		claim string
		at    string
		want  bool
	}{
		{pd, "age_over_18", "28.02.2006", false},
		{pd, "age_over_18", "01.03.2006", true}, // a 29 February birthday counts from 1 March
		{pd, "age_over_21", "01.03.2009", true},
		{pd, "age_over_21", "28.02.2009", false},
		{pd, "resident_of:DE", "01.01.2020", true},
		{pd, "resident_of:RU", "01.01.2020", false}, // country_code is citizenship, not residence
		{sample(TypeAddress), "resident_of:DE", "01.01.2020", true},
		{sample(TypePassport), ClaimDocumentValid, "30.12.2031", true},
		{sample(TypePassport), ClaimDocumentValid, "31.12.2031", false},
	}
	for _, c := range cases {
		got, err := DeriveClaims(c.e, []string{c.claim}, day(c.at))
		if err != nil || got[c.claim] != c.want {
			t.Errorf("%s of %s on %s: %v, %v; want %v", c.claim, c.e.Type, c.at, got, err, c.want)
		}
	}
	bad := []struct {
		e     *Element
		claim string
		want  string
	}{
		{pd, ClaimDocumentValid, "derived from passport"},
		{sample(TypeAddress), "age_over_18", "derived from personal_details"},
		{pd, "age_over_8", "two digits"},
		{pd, "resident_of:XX", "ISO 3166"},
		{pd, "likes_cats", "not supported"},
		{&Element{Type: TypePassport, Data: map[string]string{"document_no": "1"}}, ClaimDocumentValid, "no expiry_date"},
	}
	for _, c := range bad {
		if _, err := DeriveClaims(c.e, []string{c.claim}, time.Now()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s of %s: %v, want an error with %q", c.claim, c.e.Type, err, c.want)
		}
	}
	if got := DefaultClaims(pd); !slices.Equal(got, []string{"age_over_18", "age_over_21", "resident_of:DE"}) {
		t.Errorf("default claims of personal_details: %v", got)
	}
	exp := ClaimsExpiry(sample(TypeIdentityCard), map[string]bool{ClaimDocumentValid: true})
	if !exp.Equal(time.Date(2031, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("claims expiry %v", exp)
	}
}

func TestScopeClaims(t *testing.T) {
	s, err := ParseScope([]byte(`{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]},"address",
		{"one_of":["passport","identity_card"],"claims":["document_valid"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ce := s.ClaimEntries(); len(ce) != 2 || !slices.Equal(ce[1].Options[1].Claims, []string{ClaimDocumentValid}) {
		t.Fatalf("claim entries %+v", ce)
	}
	if ds := s.DataScope(); len(ds.Data) != 1 || ds.Data[0].Options[0].Type != TypeAddress {
		t.Fatalf("data scope %+v", ds)
	}
	a := AskOf(s.Data[0].Options[0])
	if len(a.Fields) != 0 || len(a.Files) != 0 || !slices.Equal(a.Claims, []string{"age_over_18"}) {
		t.Fatalf("ask %+v: a claims entry asks no fields", a)
	}
	out, _ := json.Marshal(s)
	again, err := ParseScope(out)
	if err != nil || len(again.ClaimEntries()) != 2 {
		t.Fatalf("re-encoded %s: %v", out, err)
	}
	bad := map[string]string{
		`{"v":1,"data":[{"type":"address","claims":["age_over_18"]}]}`:                                  "derived from personal_details",
		`{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"],"native_names":true}]}`:     "cannot go with it",
		`{"v":1,"data":[{"type":"personal_details","claims":[]}]}`:                                      "empty",
		`{"v":1,"data":[{"type":"personal_details","claims":["age_over_18","age_over_18"]}]}`:           "twice",
		`{"v":1,"data":[{"one_of":["passport",{"type":"identity_card","claims":["document_valid"]}]}]}`: "every option or of none",
		`{"v":1,"data":[{"type":"personal_details","claims":["over_9000"]}]}`:                           "not supported",
	}
	for in, want := range bad {
		if _, err := ParseScope([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// claimFixture is a verifier's attestation of personal details with all
// default claims, and its disclosures.
func claimFixture(t testing.TB, now time.Time) (*Attestation, []string) {
	t.Helper()
	vkey, _ := testPeer(t, 9)
	_, owner := testPeer(t, 3)
	e := sample(TypePersonalDetails)
	claims, err := DeriveClaims(e, DefaultClaims(e), now)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Attest(vkey, owner, e, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := a.AddClaims(vkey, claims)
	if err != nil {
		t.Fatal(err)
	}
	return a, ds
}

func TestClaimsDiscloseOnlyWhatIsPresented(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a, ds := claimFixture(t, now)
	if len(ds) != 3 || len(a.ClaimDigests) != 4 || !slices.IsSorted(a.ClaimDigests) {
		t.Fatalf("%d disclosures, digests %v: want 3 and one decoy, sorted", len(ds), a.ClaimDigests)
	}
	if err := a.Verify(now); err != nil {
		t.Fatalf("attestation with claims: %v", err)
	}
	held, err := a.Disclosed(ds)
	if err != nil || !held["age_over_18"] || !held["age_over_21"] || !held["resident_of:DE"] {
		t.Fatalf("owner's claims %v, %v", held, err)
	}
	// Without the claims it is still the plain attestation it was.
	plain := *a
	plain.SDAlg, plain.ClaimDigests, plain.ClaimsSignature = "", nil, ""
	if err := plain.Verify(now); err != nil {
		t.Fatalf("attestation without its claims: %v", err)
	}
	// A changed digest list breaks the claims signature.
	forged := *a
	forged.ClaimDigests = append(slices.Clone(a.ClaimDigests[1:]), DisclosureDigest("x"))
	if err := forged.Verify(now); err == nil || !strings.Contains(err.Error(), "claim digests") {
		t.Fatalf("forged digests: %v", err)
	}

	hkey, _ := testPeer(t, 3)
	_, svc := testPeer(t, 5)
	p, err := Present(a, ds, []string{"age_over_18"}, hkey, svc, "nonce-1", now)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(p)
	if strings.Contains(string(raw), a.DataDigest) || strings.Contains(string(raw), "1988") || len(p.Disclosures) != 1 {
		t.Fatalf("proof %s leaks the element digest or the birth date, or more than one claim", raw)
	}
	p, err = UnmarshalClaimProof(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Verify(now, svc, "nonce-1")
	if err != nil || len(got) != 1 || !got["age_over_18"] {
		t.Fatalf("verified %v, %v", got, err)
	}
	if _, err := Present(a, ds, []string{ClaimDocumentValid}, hkey, svc, "n", now); err == nil || !strings.Contains(err.Error(), "does not attest document_valid") {
		t.Fatalf("present an unattested claim: %v", err)
	}
}

func TestClaimProofRefusals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a, ds := claimFixture(t, now)
	other, otherDs := claimFixture(t, now) // same claims, fresh salts
	hkey, _ := testPeer(t, 3)
	strangerKey, _ := testPeer(t, 7)
	_, svc := testPeer(t, 5)
	_, svc2 := testPeer(t, 6)
	present := func() *ClaimProof {
		p, err := Present(a, ds, []string{"age_over_18"}, hkey, svc, "nonce-1", now)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tampered := func(p *ClaimProof) {
		raw, _ := base64.RawURLEncoding.DecodeString(p.Disclosures[0])
		raw = []byte(strings.Replace(string(raw), "true", "false", 1))
		if string(raw) == "" || !strings.Contains(string(raw), "false") {
			t.Fatal("fixture: age_over_18 should be true")
		}
		p.Disclosures[0] = base64.RawURLEncoding.EncodeToString(raw)
	}
	cases := []struct {
		name     string
		change   func(p *ClaimProof)
		aud      string
		nonce    string
		at       time.Time
		wantText string
	}{
		{"value changed", tampered, "", "", now, "not among the digests"},
		{"disclosure of another attestation", func(p *ClaimProof) {
			for _, d := range otherDs {
				if dis, _ := ParseDisclosure(d); dis.Name == "age_over_18" {
					p.Disclosures[0] = d
				}
			}
			_ = other
		}, "", "", now, "not among the digests"},
		{"replayed on another request", nil, "", "nonce-2", now, "bound to nonce"},
		{"replayed to another service", nil, svc2.String(), "", now, "bound to service"},
		{"disclosure added after binding", func(p *ClaimProof) { p.Disclosures = append(p.Disclosures, ds[2]) }, "", "", now, "other disclosures"},
		{"bound by a stranger", func(p *ClaimProof) {
			kb := *p.KeyBinding
			sig, _ := strangerKey.Sign(kb.signedBytes())
			kb.Signature = base64.StdEncoding.EncodeToString(sig)
			p.KeyBinding = &kb
		}, "", "", now, "not signed by the subject"},
		{"expired", nil, "", "", now.Add(25 * time.Hour), "valid from"},
		{"verifier signature broken", func(p *ClaimProof) { p.ExpiresAt++ }, "", "", now, "does not match"},
		{"no key binding", func(p *ClaimProof) { p.KeyBinding = nil }, "", "", now, "no key binding"},
	}
	for _, c := range cases {
		p := present()
		if c.change != nil {
			c.change(p)
		}
		aud, nonce := svc, "nonce-1"
		if c.aud != "" {
			aud = svc2
		}
		if c.nonce != "" {
			nonce = c.nonce
		}
		if _, err := p.Verify(c.at, aud, nonce); err == nil || !strings.Contains(err.Error(), c.wantText) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.wantText)
		}
	}
}

func TestParseDisclosure(t *testing.T) {
	d, err := NewDisclosure("age_over_18", true)
	if err != nil {
		t.Fatal(err)
	}
	dis, err := ParseDisclosure(d)
	if err != nil || dis.Name != "age_over_18" || !dis.Value {
		t.Fatalf("%+v, %v", dis, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	salt := base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	bad := map[string]string{
		enc(`["` + salt + `","age_over_18"]`):         "want [salt, name, value]",
		enc(`["` + salt + `","age_over_18","yes"]`):   "not a boolean",
		enc(`["c2FsdA","age_over_18",true]`):          "at least 16",
		enc(`["` + salt + `","birth_date",true]`):     "not supported",
		enc(`["` + salt + `","age_over_18",true] []`): "after the JSON",
		d + "=":                                 "base64url",
		strings.Repeat("A", MaxDisclosureLen+1): "characters",
	}
	for in, want := range bad {
		if _, err := ParseDisclosure(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// BenchmarkClaims: the verifier's signing of claims, the owner's
// presentation and the service's verification of one claim, beside the
// plain attestation's verification in the same run.
func BenchmarkClaims(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	a, ds := claimFixture(b, now)
	vkey, _ := testPeer(b, 9)
	hkey, _ := testPeer(b, 3)
	_, svc := testPeer(b, 5)
	claims := map[string]bool{"age_over_18": true, "age_over_21": true, "resident_of:DE": true}
	p, err := Present(a, ds, []string{"age_over_18"}, hkey, svc, "n", now)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("attestation-verify-plain", func(b *testing.B) {
		plain := *a
		plain.SDAlg, plain.ClaimDigests, plain.ClaimsSignature = "", nil, ""
		for b.Loop() {
			if err := plain.Verify(now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verifier-add-3-claims", func(b *testing.B) {
		for b.Loop() {
			c := *a
			if _, err := c.AddClaims(vkey, claims); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("owner-present-1-claim", func(b *testing.B) {
		for b.Loop() {
			if _, err := Present(a, ds, []string{"age_over_18"}, hkey, svc, "n", now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("service-verify-1-claim", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.Verify(now, svc, "n"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
