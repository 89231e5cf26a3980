package passport

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on elements. Validate and UnmarshalElement enforce them.
const (
	MaxFileSize = 10 << 20 // bytes of one file
	MaxFiles    = 20       // entries of files[] and of translation[]
	MaxFieldLen = 255      // bytes of one data field value
	MaxNameLen  = 255      // bytes of a file name
	// MaxElementSize is the bytes of a marshalled element: room for every
	// file an element may carry (front side, reverse side, selfie and two
	// full lists) at MaxFileSize each, and its fields. An element that
	// passes the other limits is never over it.
	MaxElementSize = (3+2*MaxFiles)*MaxFileSize + 64<<10
)

// MIME types a file may have.
const (
	MIMEJPEG = "image/jpeg"
	MIMEPDF  = "application/pdf"
)

// dateLayout is the specification's DD.MM.YYYY.
const dateLayout = "02.01.2006"

// File is one scan or page: a JPEG or a PDF of at most MaxFileSize bytes.
type File struct {
	Name  string `json:"name"`
	MIME  string `json:"mime"`
	Bytes []byte `json:"bytes"`
}

// Element is one Telegram Passport element as its owner holds it, in the
// clear. Data holds the specification's data fields (first_name,
// birth_date, document_no …); Value holds the phone number or e-mail
// address of those two types.
type Element struct {
	Type        ElementType       `json:"type"`
	Data        map[string]string `json:"data,omitempty"`
	Value       string            `json:"value,omitempty"`
	FrontSide   *File             `json:"front_side,omitempty"`
	ReverseSide *File             `json:"reverse_side,omitempty"`
	Selfie      *File             `json:"selfie,omitempty"`
	Files       []File            `json:"files,omitempty"`
	Translation []File            `json:"translation,omitempty"`
}

// FieldError says which field of which element is wrong and why. Field is
// a data field name, "value", "type", a file role ("front_side") or a file
// list entry ("files[2]").
type FieldError struct {
	Type    ElementType
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("passport: %s: field %s: %s", e.Type, e.Field, e.Problem)
}

func fieldErr(t ElementType, field, format string, args ...any) error {
	return &FieldError{Type: t, Field: field, Problem: fmt.Sprintf(format, args...)}
}

// SniffMIME returns the MIME type the content's magic bytes show, or "" for
// anything but JPEG and PDF.
func SniffMIME(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return MIMEJPEG
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return MIMEPDF
	}
	return ""
}

// Validate checks e against the specification: a known type, every
// required data field present and no unknown one, dates as real DD.MM.YYYY
// dates, ISO 3166-1 alpha-2 country codes, gender, the phone number or
// e-mail address, exactly the files the type allows, their MIME types and
// sizes. The error is a *FieldError naming the first bad field.
func (e *Element) Validate() error { return e.validate(e.Size(), (*File).facts) }

// validate is Validate of an element of size bytes encoded, whose files
// facts describes.
func (e *Element) validate(size int, facts func(*File) fileFacts) error {
	if !e.Type.Valid() {
		_, err := ParseType(string(e.Type))
		return &FieldError{Type: e.Type, Field: "type", Problem: err.Error()}
	}
	s := schemaOf(e.Type)
	if err := e.validateData(s); err != nil {
		return err
	}
	if err := e.validateValue(s); err != nil {
		return err
	}
	if err := e.validateFiles(s, facts); err != nil {
		return err
	}
	if size > MaxElementSize {
		return fieldErr(e.Type, "files", "the element is %d bytes in all, over the limit of %d: use smaller scans", size, MaxElementSize)
	}
	return nil
}

// fileFacts is what validation looks at in a file: its name, MIME type and
// size, and its first bytes (for SniffMIME).
type fileFacts struct {
	name, mime string
	size       int
	head       []byte
}

func (f *File) facts() fileFacts {
	return fileFacts{name: f.Name, mime: f.MIME, size: len(f.Bytes), head: f.Bytes}
}

// sniffLen is the most bytes of a file that SniffMIME looks at.
const sniffLen = 5

// ValidateFrom reads an element in Marshal's encoding from r, as strictly
// as DecodeElementFrom, and checks it as Validate checks a whole element,
// keeping no more of each file than its first bytes. It returns the
// element without its files' bytes; an invalid one is a *FieldError, as
// Validate's.
func ValidateFrom(r io.Reader) (*Element, error) {
	var facts []fileFacts
	e, err := DecodeElementFrom(r, func(f *StreamedFile) error {
		head := make([]byte, min(sniffLen, f.Size))
		if _, err := io.ReadFull(f.Body, head); err != nil {
			return err
		}
		facts = append(facts, fileFacts{name: f.Name, mime: f.MIME, size: f.Size, head: head})
		return nil
	})
	if err != nil {
		return nil, err
	}
	byFile := make(map[*File]fileFacts, len(facts))
	size := e.Size()
	for i, f := range e.allFiles() {
		byFile[f] = facts[i]
		size += lpLen(facts[i].size) - lpLen(0)
	}
	if err := e.validate(size, func(f *File) fileFacts { return byFile[f] }); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Element) validateData(s schema) error {
	if len(s.required)+len(s.optional) == 0 {
		if len(e.Data) > 0 {
			return fieldErr(e.Type, firstKey(e.Data), "%s has no data fields", e.Type)
		}
		return nil
	}
	for _, f := range s.required {
		if strings.TrimSpace(e.Data[f]) == "" {
			return fieldErr(e.Type, f, "is required")
		}
	}
	for _, k := range sortedKeys(e.Data) {
		if !s.allows(k) {
			return fieldErr(e.Type, k, "is not a field of %s (fields: %s)", e.Type, strings.Join(Fields(e.Type), ", "))
		}
		if err := checkFieldValue(e.Type, k, e.Data[k]); err != nil {
			return err
		}
	}
	return nil
}

func checkFieldValue(t ElementType, k, v string) error {
	if len(v) > MaxFieldLen {
		return fieldErr(t, k, "is %d bytes, the limit is %d", len(v), MaxFieldLen)
	}
	if !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fieldErr(t, k, "must be printable UTF-8 text without control characters")
	}
	if v != strings.TrimSpace(v) {
		return fieldErr(t, k, "has leading or trailing space")
	}
	switch k {
	case "birth_date", "expiry_date":
		d, err := ParseDate(v)
		if err != nil {
			return fieldErr(t, k, "%v", err)
		}
		if k == "birth_date" && d.After(time.Now()) {
			return fieldErr(t, k, "%s is in the future", v)
		}
	case "country_code", "residence_country_code":
		if !IsCountryCode(v) {
			return fieldErr(t, k, "%q is not an ISO 3166-1 alpha-2 country code (e.g. US, DE, RU)", v)
		}
	case "gender":
		if v != "male" && v != "female" {
			return fieldErr(t, k, "%q: use male or female", v)
		}
	}
	return nil
}

// ParseDate reads a DD.MM.YYYY date and refuses dates that do not exist.
func ParseDate(v string) (time.Time, error) {
	d, err := time.Parse(dateLayout, v)
	if err != nil || d.Format(dateLayout) != v {
		return time.Time{}, fmt.Errorf("%q is not a real date in the form DD.MM.YYYY (e.g. 31.12.1990)", v)
	}
	return d, nil
}

func (e *Element) validateValue(s schema) error {
	if !s.value {
		if e.Value != "" {
			return fieldErr(e.Type, "value", "only phone_number and email have a value")
		}
		return nil
	}
	switch e.Type {
	case TypePhoneNumber:
		return checkPhone(e.Value)
	case TypeEmail:
		return checkEmail(e.Value)
	}
	return nil
}

// checkPhone accepts E.164-like numbers: an optional '+', then 7 to 15
// digits, the first not 0.
func checkPhone(v string) error {
	digits := strings.TrimPrefix(v, "+")
	ok := len(digits) >= 7 && len(digits) <= 15 && digits[0] != '0'
	for _, c := range digits {
		ok = ok && c >= '0' && c <= '9'
	}
	if !ok {
		return fieldErr(TypePhoneNumber, "value", "%q is not a phone number in international form (e.g. +4915112345678)", v)
	}
	return nil
}

func checkEmail(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || len(v) > 254 {
		return fieldErr(TypeEmail, "value", "%q is not a plain e-mail address (e.g. name@example.com)", v)
	}
	return nil
}

func (e *Element) validateFiles(s schema, facts func(*File) fileFacts) error {
	single := []struct {
		role    string
		f       *File
		allowed bool
		need    bool
	}{
		{RoleFrontSide, e.FrontSide, s.front, s.front},
		{RoleReverseSide, e.ReverseSide, s.reverse, s.reverse},
		{RoleSelfie, e.Selfie, s.selfie, false},
	}
	for _, x := range single {
		switch {
		case x.f == nil && x.need:
			return fieldErr(e.Type, x.role, "is required: add a scan of the document's %s", strings.ReplaceAll(x.role, "_", " "))
		case x.f != nil && !x.allowed:
			return fieldErr(e.Type, x.role, "%s has no %s", e.Type, x.role)
		case x.f != nil:
			if err := checkFile(e.Type, x.role, facts(x.f)); err != nil {
				return err
			}
		}
	}
	if err := checkList(e.Type, RoleFiles, e.Files, s.files, facts); err != nil {
		return err
	}
	if s.files && len(e.Files) == 0 {
		return fieldErr(e.Type, RoleFiles, "is required: add at least one page of the document")
	}
	return checkList(e.Type, RoleTranslation, e.Translation, s.translation, facts)
}

func checkList(t ElementType, role string, fs []File, allowed bool, facts func(*File) fileFacts) error {
	if len(fs) == 0 {
		return nil
	}
	if !allowed {
		return fieldErr(t, role, "%s has no %s", t, role)
	}
	if len(fs) > MaxFiles {
		return fieldErr(t, role, "has %d files, the limit is %d", len(fs), MaxFiles)
	}
	for i := range fs {
		if err := checkFile(t, fmt.Sprintf("%s[%d]", role, i), facts(&fs[i])); err != nil {
			return err
		}
	}
	return nil
}

func checkFile(t ElementType, field string, f fileFacts) error {
	switch {
	case f.size == 0:
		return fieldErr(t, field, "is empty")
	case f.size > MaxFileSize:
		return fieldErr(t, field, "is %d bytes, the limit is %d (10 MB): scan at a lower resolution", f.size, MaxFileSize)
	case len(f.name) > MaxNameLen || !utf8.ValidString(f.name) || strings.IndexFunc(f.name, unicode.IsControl) >= 0:
		return fieldErr(t, field, "name must be printable UTF-8 of at most %d bytes", MaxNameLen)
	}
	sniffed := SniffMIME(f.head)
	if sniffed == "" {
		return fieldErr(t, field, "is neither a JPEG nor a PDF (by its first bytes)")
	}
	if f.mime != sniffed {
		return fieldErr(t, field, "mime is %q but the content is %s", f.mime, sniffed)
	}
	return nil
}

// Size is the length in bytes of e's Marshal encoding.
func (e *Element) Size() int {
	n := 1 + lpLen(len(e.Type)) + uvarintLen(uint64(len(e.Data)))
	for k, v := range e.Data {
		n += lpLen(len(k)) + lpLen(len(v))
	}
	n += lpLen(len(e.Value))
	for _, f := range []*File{e.FrontSide, e.ReverseSide, e.Selfie} {
		n++
		if f != nil {
			n += f.size()
		}
	}
	for _, list := range [][]File{e.Files, e.Translation} {
		n += uvarintLen(uint64(len(list)))
		for i := range list {
			n += list[i].size()
		}
	}
	return n
}

func (f *File) size() int { return lpLen(len(f.Name)) + lpLen(len(f.MIME)) + lpLen(len(f.Bytes)) }

func lpLen(n int) int { return uvarintLen(uint64(n)) + n }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func firstKey(m map[string]string) string {
	ks := sortedKeys(m)
	if len(ks) == 0 {
		return ""
	}
	return ks[0]
}

// Clone returns a deep copy of e.
func (e *Element) Clone() *Element {
	c := *e
	if e.Data != nil {
		c.Data = make(map[string]string, len(e.Data))
		for k, v := range e.Data {
			c.Data[k] = v
		}
	}
	c.FrontSide, c.ReverseSide, c.Selfie = e.FrontSide.clone(), e.ReverseSide.clone(), e.Selfie.clone()
	c.Files, c.Translation = cloneFiles(e.Files), cloneFiles(e.Translation)
	return &c
}

func (f *File) clone() *File {
	if f == nil {
		return nil
	}
	c := *f
	c.Bytes = bytes.Clone(f.Bytes)
	return &c
}

func cloneFiles(fs []File) []File {
	if fs == nil {
		return nil
	}
	out := make([]File, len(fs))
	for i := range fs {
		out[i] = *fs[i].clone()
	}
	return out
}
