package passport

import (
	"fmt"
	"strings"
)

// ElementType names a Telegram Passport element type, spelled as the
// specification spells it.
type ElementType string

// The thirteen element types of Telegram Passport.
const (
	TypePersonalDetails       ElementType = "personal_details"
	TypePassport              ElementType = "passport"
	TypeDriverLicense         ElementType = "driver_license"
	TypeIdentityCard          ElementType = "identity_card"
	TypeInternalPassport      ElementType = "internal_passport"
	TypeAddress               ElementType = "address"
	TypeUtilityBill           ElementType = "utility_bill"
	TypeBankStatement         ElementType = "bank_statement"
	TypeRentalAgreement       ElementType = "rental_agreement"
	TypePassportRegistration  ElementType = "passport_registration"
	TypeTemporaryRegistration ElementType = "temporary_registration"
	TypePhoneNumber           ElementType = "phone_number"
	TypeEmail                 ElementType = "email"
)

// File roles: where a file sits in an element. They are also the
// specification's names of the element's file fields.
const (
	RoleFrontSide   = "front_side"
	RoleReverseSide = "reverse_side"
	RoleSelfie      = "selfie"
	RoleFiles       = "files"
	RoleTranslation = "translation"
)

// kind groups types that share a schema.
type kind int

const (
	kindPersonal  kind = iota // personal_details
	kindIDOneSide             // passport, internal_passport
	kindIDTwoSide             // driver_license, identity_card
	kindAddress               // address
	kindProof                 // utility_bill … temporary_registration
	kindPhone                 // phone_number
	kindEmail                 // email
)

type typeInfo struct {
	t     ElementType
	alias string
	kind  kind
}

// typeTable lists every type in the specification's order.
func typeTable() [13]typeInfo {
	return [13]typeInfo{
		{TypePersonalDetails, "pd", kindPersonal},
		{TypePassport, "pp", kindIDOneSide},
		{TypeDriverLicense, "dl", kindIDTwoSide},
		{TypeIdentityCard, "ic", kindIDTwoSide},
		{TypeInternalPassport, "ip", kindIDOneSide},
		{TypeAddress, "ad", kindAddress},
		{TypeUtilityBill, "ub", kindProof},
		{TypeBankStatement, "bs", kindProof},
		{TypeRentalAgreement, "ra", kindProof},
		{TypePassportRegistration, "pr", kindProof},
		{TypeTemporaryRegistration, "tr", kindProof},
		{TypePhoneNumber, "pn", kindPhone},
		{TypeEmail, "em", kindEmail},
	}
}

// Types returns the thirteen element types in the specification's order.
func Types() []ElementType {
	out := make([]ElementType, len(typeTable()))
	for i, ti := range typeTable() {
		out[i] = ti.t
	}
	return out
}

func lookup(t ElementType) (typeInfo, bool) {
	for _, ti := range typeTable() {
		if ti.t == t {
			return ti, true
		}
	}
	return typeInfo{}, false
}

// Valid reports whether t is one of the thirteen types.
func (t ElementType) Valid() bool {
	_, ok := lookup(t)
	return ok
}

// ParseType reads a type name ("passport") or its URI alias ("pp"),
// ignoring case and surrounding space.
func ParseType(s string) (ElementType, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for _, ti := range typeTable() {
		if string(ti.t) == v || ti.alias == v {
			return ti.t, nil
		}
	}
	names := make([]string, len(typeTable()))
	for i, ti := range typeTable() {
		names[i] = string(ti.t) + " (" + ti.alias + ")"
	}
	return "", fmt.Errorf("passport: unknown element type %q: use one of %s", s, strings.Join(names, ", "))
}

// IsIdentityDocument reports whether t is a document with a front side
// (passport, driver_license, identity_card, internal_passport): the types a
// scope may ask a selfie with.
func (t ElementType) IsIdentityDocument() bool {
	ti, ok := lookup(t)
	return ok && (ti.kind == kindIDOneSide || ti.kind == kindIDTwoSide)
}

// IsProofOfAddress reports whether t is a document made of pages (utility
// bill, bank statement, rental agreement, registrations).
func (t ElementType) IsProofOfAddress() bool {
	ti, ok := lookup(t)
	return ok && ti.kind == kindProof
}

// hasTranslation reports whether a scope may ask t's translation.
func (t ElementType) hasTranslation() bool {
	return t.IsIdentityDocument() || t.IsProofOfAddress()
}

// schema is what an element of a type may and must hold.
type schema struct {
	required, optional  []string // data fields
	value               bool     // Value (phone_number, email)
	front, reverse      bool     // required single files
	selfie, translation bool     // optional files
	files               bool     // files[] (at least one)
}

func schemaOf(t ElementType) schema {
	ti, _ := lookup(t)
	switch ti.kind {
	case kindPersonal:
		return schema{
			required: []string{"first_name", "last_name", "birth_date", "gender", "country_code", "residence_country_code"},
			optional: []string{"middle_name", "first_name_native", "last_name_native", "middle_name_native"},
		}
	case kindIDOneSide:
		return schema{required: []string{"document_no"}, optional: []string{"expiry_date"}, front: true, selfie: true, translation: true}
	case kindIDTwoSide:
		return schema{required: []string{"document_no"}, optional: []string{"expiry_date"}, front: true, reverse: true, selfie: true, translation: true}
	case kindAddress:
		return schema{required: []string{"street_line1", "city", "country_code", "post_code"}, optional: []string{"street_line2", "state"}}
	case kindProof:
		return schema{files: true, translation: true}
	case kindPhone, kindEmail:
		return schema{value: true}
	}
	return schema{}
}

// Fields returns the data field names an element of type t may hold
// (required first), as the specification names them; nil for types
// without data.
func Fields(t ElementType) []string {
	s := schemaOf(t)
	return append(append([]string(nil), s.required...), s.optional...)
}

// isNative reports whether field is one of the personal_details fields a
// scope gets only with native_names.
func isNative(field string) bool {
	return field == "first_name_native" || field == "last_name_native" || field == "middle_name_native"
}

func (s schema) allows(field string) bool {
	for _, f := range s.required {
		if f == field {
			return true
		}
	}
	for _, f := range s.optional {
		if f == field {
			return true
		}
	}
	return false
}
