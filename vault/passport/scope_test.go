package passport

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseScopeV1(t *testing.T) {
	s, err := ParseScope([]byte(`{"v":1,"data":["pd",
		{"type":"passport","selfie":true,"translation":true},
		{"one_of":["identity_card",{"type":"driver_license","translation":true}],"selfie":true},
		{"type":"address"},"email"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []ScopeElement{
		{Options: []ScopeOne{{Type: TypePersonalDetails}}},
		{Options: []ScopeOne{{Type: TypePassport, Selfie: true, Translation: true}}},
		{OneOf: true, Options: []ScopeOne{{Type: TypeIdentityCard, Selfie: true}, {Type: TypeDriverLicense, Selfie: true, Translation: true}}},
		{Options: []ScopeOne{{Type: TypeAddress}}},
		{Options: []ScopeOne{{Type: TypeEmail}}},
	}
	if !reflect.DeepEqual(s.Data, want) {
		t.Fatalf("parsed %+v\nwant %+v", s.Data, want)
	}
	// The v1 form round-trips.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseScope(b)
	if err != nil || !reflect.DeepEqual(again.Data, want) {
		t.Fatalf("re-parse of %s: %+v, %v", b, again, err)
	}
}

func TestParseScopeLegacyArray(t *testing.T) {
	s, err := ParseScope([]byte(`["personal_details","phone_number"]`))
	if err != nil || len(s.Data) != 2 || s.Data[1].Options[0].Type != TypePhoneNumber {
		t.Fatalf("legacy scope: %+v, %v", s, err)
	}
}

func TestParseScopeErrors(t *testing.T) {
	cases := map[string]string{
		``:                        "empty",
		`{"data":["pd"]}`:         `"v" must be 1`,
		`{"v":2,"data":["pd"]}`:   `"v" must be 1`,
		`{"v":1,"data":[]}`:       "at least one",
		`{"v":1,"data":["visa"]}`: "data[0]",
		`{"v":1,"data":["pd","personal_details"]}`:                             "more than once",
		`{"v":1,"data":["passport",{"one_of":["identity_card","pp"]}]}`:        "one_of[1]",
		`{"v":1,"data":[{"type":"address","selfie":true}]}`:                    "selfie",
		`{"v":1,"data":[{"type":"email","translation":true}]}`:                 "translation",
		`{"v":1,"data":[{"type":"passport","native_names":true}]}`:             "native_names",
		`{"v":1,"data":[{"one_of":["address","utility_bill"],"selfie":true}]}`: "selfie",
		`{"v":1,"data":[{"one_of":[]}]}`:                                       "one_of is empty",
		`{"v":1,"data":[{"one_of":[{"one_of":["pp"]}]}]}`:                      "nested",
		`{"v":1,"data":[{"type":"pp","one_of":["ic"]}]}`:                       "not both",
		`{"v":1,"data":[{"selfie":true}]}`:                                     `missing "type"`,
		`{"v":1,"data":[{"type":"pp","colour":"red"}]}`:                        "colour",
		`{"v":1,"data":["pd"],"extra":1}`:                                      "extra",
		`{"v":1,"data":["pd"]} {}`:                                             "after",
	}
	for in, want := range cases {
		_, err := ParseScope([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseScope(%s) = %v, want an error mentioning %q", in, err, want)
		}
	}
}

func TestSelectOneOfPicksFirstOwned(t *testing.T) {
	s, err := ParseScope([]byte(`{"v":1,"data":[{"one_of":["passport","identity_card","driver_license"]},"address","email"]}`))
	if err != nil {
		t.Fatal(err)
	}
	owned := map[ElementType]bool{TypeDriverLicense: true, TypeIdentityCard: true, TypeEmail: true}
	chosen, missing := s.Select(func(t ElementType) bool { return owned[t] })
	if len(chosen) != 2 || chosen[0].Type != TypeIdentityCard || chosen[1].Type != TypeEmail {
		t.Fatalf("chosen %+v, want identity_card then email", chosen)
	}
	if !reflect.DeepEqual(missing, []ElementType{TypeAddress}) {
		t.Fatalf("missing %v, want [address]", missing)
	}
	_, missing = s.Select(func(ElementType) bool { return false })
	if len(missing) != 5 {
		t.Fatalf("with nothing owned missing = %v, want all 5 types", missing)
	}
}

func TestAskListsExactlyTheParts(t *testing.T) {
	a := AskOf(ScopeOne{Type: TypePersonalDetails})
	for _, f := range a.Fields {
		if strings.HasSuffix(f, "_native") {
			t.Fatalf("native field %s listed without native_names", f)
		}
	}
	if a = AskOf(ScopeOne{Type: TypePersonalDetails, NativeNames: true}); !contains(a.Fields, "first_name_native") {
		t.Fatalf("native names asked but not listed: %v", a.Fields)
	}
	a = AskOf(ScopeOne{Type: TypeIdentityCard, Selfie: true})
	if !reflect.DeepEqual(a.Files, []string{"front_side", "reverse_side", "selfie"}) || !reflect.DeepEqual(a.Fields, []string{"document_no", "expiry_date"}) {
		t.Fatalf("identity card ask %+v", a)
	}
	a = AskOf(ScopeOne{Type: TypeUtilityBill, Translation: true})
	if !reflect.DeepEqual(a.Files, []string{"files", "translation"}) || len(a.Fields) != 0 {
		t.Fatalf("utility bill ask %+v", a)
	}
	if a = AskOf(ScopeOne{Type: TypePhoneNumber}); !reflect.DeepEqual(a.Fields, []string{"phone_number"}) {
		t.Fatalf("phone ask %+v", a)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
