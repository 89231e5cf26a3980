package passport

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseTypeNamesAndAliases(t *testing.T) {
	if len(Types()) != 13 {
		t.Fatalf("Types() has %d entries, want 13", len(Types()))
	}
	for _, c := range []struct{ in, want string }{
		{"passport", "passport"}, {"pp", "passport"}, {" PD ", "personal_details"}, {"tr", "temporary_registration"},
		{"em", "email"}, {"dl", "driver_license"},
	} {
		got, err := ParseType(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("ParseType(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	_, err := ParseType("visa")
	if err == nil || !strings.Contains(err.Error(), "identity_card (ic)") {
		t.Fatalf("ParseType(visa) error %v does not list the valid names", err)
	}
}

func TestEverySampleValidates(t *testing.T) {
	for _, typ := range Types() {
		if err := sample(typ).Validate(); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	big := jpeg("big")
	big.Bytes = append(big.Bytes, make([]byte, MaxFileSize)...)
	cases := []struct {
		name  string
		typ   ElementType
		edit  func(e *Element)
		field string
	}{
		{"missing first name", TypePersonalDetails, func(e *Element) { delete(e.Data, "first_name") }, "first_name"},
		{"unknown field", TypePersonalDetails, func(e *Element) { e.Data["nickname"] = "x" }, "nickname"},
		{"not a real date", TypePersonalDetails, func(e *Element) { e.Data["birth_date"] = "29.02.1989" }, "birth_date"},
		{"wrong date form", TypePersonalDetails, func(e *Element) { e.Data["birth_date"] = "1988-02-29" }, "birth_date"},
		{"future birth", TypePersonalDetails, func(e *Element) { e.Data["birth_date"] = "01.01.2999" }, "birth_date"},
		{"bad gender", TypePersonalDetails, func(e *Element) { e.Data["gender"] = "m" }, "gender"},
		{"bad country", TypePersonalDetails, func(e *Element) { e.Data["country_code"] = "XX" }, "country_code"},
		{"lower-case country", TypePersonalDetails, func(e *Element) { e.Data["residence_country_code"] = "de" }, "residence_country_code"},
		{"control char", TypePersonalDetails, func(e *Element) { e.Data["last_name"] = "Pe\ntrov" }, "last_name"},
		{"too long", TypePersonalDetails, func(e *Element) { e.Data["middle_name"] = strings.Repeat("a", 256) }, "middle_name"},
		{"no document number", TypePassport, func(e *Element) { delete(e.Data, "document_no") }, "document_no"},
		{"bad expiry", TypePassport, func(e *Element) { e.Data["expiry_date"] = "31.11.2030" }, "expiry_date"},
		{"no front side", TypePassport, func(e *Element) { e.FrontSide = nil }, "front_side"},
		{"passport reverse side", TypePassport, func(e *Element) { e.ReverseSide = filePtr(jpeg("r")) }, "reverse_side"},
		{"no reverse side", TypeIdentityCard, func(e *Element) { e.ReverseSide = nil }, "reverse_side"},
		{"PNG front", TypeDriverLicense, func(e *Element) { e.FrontSide.Bytes = []byte("\x89PNG\r\n\x1a\n") }, "front_side"},
		{"MIME lies", TypeDriverLicense, func(e *Element) { e.Selfie.MIME = MIMEPDF }, "selfie"},
		{"file too big", TypeInternalPassport, func(e *Element) { e.FrontSide = &big }, "front_side"},
		{"bad translation", TypeInternalPassport, func(e *Element) { e.Translation = append(e.Translation, File{MIME: MIMEJPEG}) }, "translation[1]"},
		{"address post code", TypeAddress, func(e *Element) { delete(e.Data, "post_code") }, "post_code"},
		{"address files", TypeAddress, func(e *Element) { e.Files = []File{pdf("x")} }, "files"},
		{"bill without pages", TypeUtilityBill, func(e *Element) { e.Files = nil }, "files"},
		{"bill with data", TypeBankStatement, func(e *Element) { e.Data = map[string]string{"document_no": "1"} }, "document_no"},
		{"bill with selfie", TypeRentalAgreement, func(e *Element) { e.Selfie = filePtr(jpeg("s")) }, "selfie"},
		{"bad page", TypePassportRegistration, func(e *Element) { e.Files[1].Bytes = []byte("GIF89a") }, "files[1]"},
		{"too many pages", TypeTemporaryRegistration, func(e *Element) {
			for range MaxFiles {
				e.Files = append(e.Files, pdf("more"))
			}
		}, "files"},
		{"bad phone", TypePhoneNumber, func(e *Element) { e.Value = "12-34" }, "value"},
		{"leading zero phone", TypePhoneNumber, func(e *Element) { e.Value = "+0151123456" }, "value"},
		{"bad email", TypeEmail, func(e *Element) { e.Value = "Ivan <ivan@example.com>" }, "value"},
		{"value on document", TypePassport, func(e *Element) { e.Value = "x" }, "value"},
		{"unknown type", "visa", func(e *Element) {}, "type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &Element{Type: c.typ}
			if c.typ.Valid() {
				e = sample(c.typ)
			}
			c.edit(e)
			err := e.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fe.Field != c.field || fe.Type != c.typ {
				t.Fatalf("error names %s.%s, want %s.%s (%v)", fe.Type, fe.Field, c.typ, c.field, err)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("message %q does not name %s", err, c.field)
			}
			// Streamed, the encoding fails the same check (when it can be
			// encoded at all).
			if b, merr := e.Marshal(); merr == nil {
				if _, serr := ValidateFrom(bytes.NewReader(b)); serr == nil || serr.Error() != err.Error() {
					t.Fatalf("ValidateFrom = %v, Validate = %v", serr, err)
				}
			}
		})
	}
}

// ValidateFrom takes every valid element and hands back its head.
func TestValidateFromTakesEverySample(t *testing.T) {
	for _, typ := range Types() {
		e := sample(typ)
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		head, err := ValidateFrom(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if head.Type != typ || !reflect.DeepEqual(head.Data, e.Data) || len(head.allFiles()) != len(e.allFiles()) {
			t.Fatalf("%s: ValidateFrom's head is %+v", typ, head)
		}
	}
}

func TestCountryCodes(t *testing.T) {
	for _, c := range []string{"US", "DE", "RU", "ZW", "AX", "SS"} {
		if !IsCountryCode(c) {
			t.Errorf("%s refused", c)
		}
	}
	// "DA" and "EA" appear across cell boundaries of the embedded list.
	for _, c := range []string{"XX", "DA", "EA", "us", "U", "USA", " A", ""} {
		if IsCountryCode(c) {
			t.Errorf("%q accepted", c)
		}
	}
}

func TestMarshalRoundTripAndSize(t *testing.T) {
	for _, typ := range Types() {
		e := sample(typ)
		b, err := e.Marshal()
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if len(b) != e.Size() {
			t.Errorf("%s: Size() = %d, Marshal is %d bytes", typ, e.Size(), len(b))
		}
		back, err := UnmarshalElement(b)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("%s: round trip differs:\n got %+v\nwant %+v", typ, back, e)
		}
		again, _ := back.Marshal()
		if !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs", typ)
		}
		var w bytes.Buffer
		if n, err := e.WriteTo(&w); err != nil || n != int64(len(b)) || !bytes.Equal(w.Bytes(), b) {
			t.Errorf("%s: WriteTo wrote %d bytes (%v), not Marshal's %d", typ, n, err, len(b))
		}
		enc := e.Encoding()
		if got, err := io.ReadAll(enc); err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s: Encoding gave %d bytes (%v), not Marshal's %d", typ, len(got), err, len(b))
		}
		enc.Close()
	}
}

// WriteTo stops at its writer's first error and returns it, with the bytes
// written until then; an element Marshal refuses is refused before any.
func TestWriteToErrors(t *testing.T) {
	e := sample(TypeDriverLicense)
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("disk full")
	for _, limit := range []int{0, 1, 40, len(b) - 1} {
		w := &failingWriter{left: limit, err: broken}
		n, err := e.WriteTo(w)
		if !errors.Is(err, broken) || n != int64(limit) {
			t.Errorf("writer failing after %d bytes: WriteTo = %d, %v", limit, n, err)
		}
	}
	bad := *e
	bad.Type = "no-such-type"
	var w bytes.Buffer
	if n, err := bad.WriteTo(&w); err == nil || n != 0 || w.Len() != 0 {
		t.Errorf("an unknown type: WriteTo = %d, %v, %d bytes written", n, err, w.Len())
	}
}

// failingWriter takes left bytes, then fails with err.
type failingWriter struct {
	left int
	err  error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, w.err
	}
	w.left -= len(p)
	return len(p), nil
}

func TestUnmarshalRefuses(t *testing.T) {
	good, err := sample(TypeAddress).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{2}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"trailing":      append(append([]byte{}, good...), 0),
		"unknown type":  append([]byte{1, 4}, []byte("visa")...),
		"presence byte": (&Element{Type: TypeEmail, Value: "a@b.co"}).mustMarshalWith(t, func(b []byte) []byte { b[len(b)-5] = 2; return b }),
	}
	// Keys out of order: swap the first two data entries by hand.
	e := &Element{Type: TypeAddress, Data: map[string]string{"a": "1", "b": "2"}}
	b, _ := e.Marshal()
	swapped := bytes.Replace(b, []byte("\x01a\x011\x01b\x012"), []byte("\x01b\x012\x01a\x011"), 1)
	bad["unsorted keys"] = swapped
	for name, in := range bad {
		if _, err := UnmarshalElement(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func (e *Element) mustMarshalWith(t *testing.T, edit func([]byte) []byte) []byte {
	t.Helper()
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return edit(b)
}
