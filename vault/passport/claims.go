package passport

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Derived claims, in the manner of ISO/IEC 18013-5 mobile driving licence
// age attestations: facts a verifier computes from an element it checked,
// so that the owner can later prove the fact without the data it comes
// from. Every claim's value is a JSON boolean.
//
//	age_over_NN     NN two digits: personal_details, from birth_date
//	resident_of:CC  CC an ISO 3166-1 alpha-2 code: personal_details (from
//	                residence_country_code) or address (from country_code)
//	document_valid  passport, driver_license, identity_card,
//	                internal_passport: expiry_date after the day of issue
const (
	ClaimAgeOverPrefix    = "age_over_"
	ClaimResidentOfPrefix = "resident_of:"
	ClaimDocumentValid    = "document_valid"
)

// Limits on claims.
const (
	MaxClaimsPerEntry = 8  // claims one scope entry may ask
	MaxClaimNameLen   = 32 // bytes of a claim name
)

// CheckClaimName accepts the three claim forms above and nothing else.
func CheckClaimName(name string) error {
	switch {
	case name == ClaimDocumentValid:
		return nil
	case strings.HasPrefix(name, ClaimAgeOverPrefix):
		nn := strings.TrimPrefix(name, ClaimAgeOverPrefix)
		if len(nn) != 2 || nn[0] < '0' || nn[0] > '9' || nn[1] < '0' || nn[1] > '9' {
			return fmt.Errorf("claim %q: write age_over_NN with two digits, e.g. age_over_18", name)
		}
		return nil
	case strings.HasPrefix(name, ClaimResidentOfPrefix):
		cc := strings.TrimPrefix(name, ClaimResidentOfPrefix)
		if !IsCountryCode(cc) {
			return fmt.Errorf("claim %q: write resident_of:CC with an ISO 3166-1 alpha-2 code, e.g. resident_of:DE", name)
		}
		return nil
	}
	if len(name) > MaxClaimNameLen {
		name = name[:MaxClaimNameLen] + "…"
	}
	return fmt.Errorf("claim %q is not supported: use age_over_NN, resident_of:CC or document_valid", name)
}

// ClaimApplies reports whether claim (a valid name) can be derived from an
// element of type t, and if not, which types it can be derived from.
func ClaimApplies(claim string, t ElementType) error {
	var from []ElementType
	switch {
	case claim == ClaimDocumentValid:
		from = []ElementType{TypePassport, TypeDriverLicense, TypeIdentityCard, TypeInternalPassport}
	case strings.HasPrefix(claim, ClaimAgeOverPrefix):
		from = []ElementType{TypePersonalDetails}
	case strings.HasPrefix(claim, ClaimResidentOfPrefix):
		from = []ElementType{TypePersonalDetails, TypeAddress}
	}
	if slices.Contains(from, t) {
		return nil
	}
	return fmt.Errorf("claim %s is derived from %s, not from %s", claim, joinElementTypes(from), t)
}

// checkClaimList validates the claims one scope option asks of type t:
// known names, derivable from t, none twice, at most MaxClaimsPerEntry.
func checkClaimList(t ElementType, claims []string) error {
	if len(claims) > MaxClaimsPerEntry {
		return fmt.Errorf("claims: %d asked, at most %d per entry", len(claims), MaxClaimsPerEntry)
	}
	seen := map[string]bool{}
	for _, c := range claims {
		if err := CheckClaimName(c); err != nil {
			return fmt.Errorf("claims: %w", err)
		}
		if err := ClaimApplies(c, t); err != nil {
			return fmt.Errorf("claims: %w", err)
		}
		if seen[c] {
			return fmt.Errorf("claims: %s is asked twice", c)
		}
		seen[c] = true
	}
	return nil
}

// DefaultClaims lists the claims "all" derives from an element of type t:
// age_over_18 and age_over_21, the residence country, and document_valid
// when the document has an expiry date.
func DefaultClaims(e *Element) []string {
	var out []string
	switch {
	case e.Type == TypePersonalDetails:
		out = append(out, "age_over_18", "age_over_21")
		if cc := e.Data["residence_country_code"]; IsCountryCode(cc) {
			out = append(out, ClaimResidentOfPrefix+cc)
		}
	case e.Type == TypeAddress:
		if cc := e.Data["country_code"]; IsCountryCode(cc) {
			out = append(out, ClaimResidentOfPrefix+cc)
		}
	case e.Type.IsIdentityDocument() && e.Data["expiry_date"] != "":
		out = append(out, ClaimDocumentValid)
	}
	return out
}

// DeriveClaims computes each named claim from e as of the day of at (UTC).
// It fails, naming the claim, when a claim does not apply to e's type or
// the field it is derived from is missing or malformed.
func DeriveClaims(e *Element, names []string, at time.Time) (map[string]bool, error) {
	if len(names) == 0 {
		return nil, errors.New("claims: none named: give claim names or all")
	}
	out := make(map[string]bool, len(names))
	day := at.UTC().Truncate(24 * time.Hour)
	for _, c := range names {
		if err := CheckClaimName(c); err != nil {
			return nil, err
		}
		if err := ClaimApplies(c, e.Type); err != nil {
			return nil, err
		}
		v, err := deriveOne(e, c, day)
		if err != nil {
			return nil, fmt.Errorf("claim %s: %w", c, err)
		}
		out[c] = v
	}
	return out, nil
}

func deriveOne(e *Element, c string, day time.Time) (bool, error) {
	switch {
	case c == ClaimDocumentValid:
		exp, err := dateField(e, "expiry_date")
		if err != nil {
			return false, err
		}
		return exp.After(day), nil // valid through the day before expiry_date
	case strings.HasPrefix(c, ClaimAgeOverPrefix):
		n, _ := strconv.Atoi(strings.TrimPrefix(c, ClaimAgeOverPrefix))
		born, err := dateField(e, "birth_date")
		if err != nil {
			return false, err
		}
		// Born on 29 February: AddDate moves the birthday to 1 March in
		// other years, the later of the two readings.
		return !born.AddDate(n, 0, 0).After(day), nil
	case strings.HasPrefix(c, ClaimResidentOfPrefix):
		field := "country_code"
		if e.Type == TypePersonalDetails {
			field = "residence_country_code"
		}
		v := e.Data[field]
		if !IsCountryCode(v) {
			return false, fmt.Errorf("%s has no valid %s", e.Type, field)
		}
		return v == strings.TrimPrefix(c, ClaimResidentOfPrefix), nil
	}
	return false, fmt.Errorf("unsupported")
}

func dateField(e *Element, field string) (time.Time, error) {
	v, ok := e.Data[field]
	if !ok {
		return time.Time{}, fmt.Errorf("%s has no %s to derive it from", e.Type, field)
	}
	d, err := ParseDate(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %s: %w", e.Type, field, err)
	}
	return d, nil
}

// ClaimsExpiry is the latest moment claims stay true of e: the day its
// expiry_date begins when document_valid is among them and true, else the
// zero time (no limit beyond the attestation's own).
func ClaimsExpiry(e *Element, claims map[string]bool) time.Time {
	if !claims[ClaimDocumentValid] {
		return time.Time{}
	}
	d, err := dateField(e, "expiry_date")
	if err != nil {
		return time.Time{}
	}
	return d
}

func joinElementTypes(ts []ElementType) string {
	ss := make([]string, len(ts))
	for i, t := range ts {
		ss[i] = string(t)
	}
	return strings.Join(ss, " or ")
}
