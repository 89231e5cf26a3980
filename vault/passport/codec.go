package passport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// elementVersion starts every marshalled element.
const elementVersion = 1

// Marshal encodes e in the compact binary form the vault encrypts and
// stores:
//
//	version=1 | type:lp | n:uvarint | n × (key:lp value:lp), keys ascending |
//	value:lp | 3 × (0 | 1 file) for front_side, reverse_side, selfie |
//	files: n:uvarint n × file | translation: n:uvarint n × file
//
// where lp is a uvarint length then the bytes and file is
// name:lp mime:lp bytes:lp. The encoding is canonical: UnmarshalElement
// accepts exactly the bytes Marshal produces. Marshal does not validate e
// beyond the limits the decoder enforces.
func (e *Element) Marshal() ([]byte, error) {
	return e.AppendMarshal(nil)
}

// AppendMarshal appends Marshal's encoding of e to b; with room for
// Size() more bytes in b it allocates nothing.
func (e *Element) AppendMarshal(b []byte) ([]byte, error) {
	if err := e.checkBounds(); err != nil {
		return nil, err
	}
	return e.encode(slices.Grow(b, e.Size()), func(b, body []byte) []byte { return append(b, body...) }), nil
}

// WriteTo writes Marshal's encoding of e to w: each file's bytes are
// written as they are, not copied, between writes of what lies around them.
// It returns the bytes written.
func (e *Element) WriteTo(w io.Writer) (int64, error) {
	if err := e.checkBounds(); err != nil {
		return 0, err
	}
	var n int64
	var err error
	write := func(p []byte) {
		if err == nil && len(p) > 0 {
			var k int
			k, err = w.Write(p)
			n += int64(k)
		}
	}
	b := e.encode(make([]byte, 0, 512), func(b, body []byte) []byte {
		write(b)
		write(body)
		return b[:0]
	})
	write(b)
	return n, err
}

// Encoding returns a reader of Marshal's encoding of e, written into it
// as it is read (WriteTo, in a goroutine of its own); Close stops it.
func (e *Element) Encoding() io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		_, err := e.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	return pr
}

// encode appends e's encoding to b, but hands each file's bytes to body
// with what it has appended so far; body returns what to append the rest
// to.
func (e *Element) encode(b []byte, body func(b, file []byte) []byte) []byte {
	b = append(b, elementVersion)
	b = wire.AppendLenPrefixed(b, []byte(e.Type))
	b = binary.AppendUvarint(b, uint64(len(e.Data)))
	for _, k := range sortedKeys(e.Data) {
		b = wire.AppendLenPrefixed(b, []byte(k))
		b = wire.AppendLenPrefixed(b, []byte(e.Data[k]))
	}
	b = wire.AppendLenPrefixed(b, []byte(e.Value))
	file := func(b []byte, f *File) []byte {
		b = wire.AppendLenPrefixed(b, []byte(f.Name))
		b = wire.AppendLenPrefixed(b, []byte(f.MIME))
		return body(binary.AppendUvarint(b, uint64(len(f.Bytes))), f.Bytes)
	}
	for _, f := range []*File{e.FrontSide, e.ReverseSide, e.Selfie} {
		if f == nil {
			b = append(b, 0)
			continue
		}
		b = file(append(b, 1), f)
	}
	for _, list := range [][]File{e.Files, e.Translation} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for i := range list {
			b = file(b, &list[i])
		}
	}
	return b
}

// checkBounds applies the decoder's limits, so Marshal never produces what
// UnmarshalElement refuses.
func (e *Element) checkBounds() error {
	if !e.Type.Valid() {
		return fmt.Errorf("passport: marshal: unknown element type %q", e.Type)
	}
	if len(e.Data) > maxDataFields {
		return fmt.Errorf("passport: marshal: %d data fields, the limit is %d", len(e.Data), maxDataFields)
	}
	for k, v := range e.Data {
		if k == "" || len(k) > maxKeyLen || len(v) > MaxFieldLen {
			return fmt.Errorf("passport: marshal: data field %q: names are 1-%d bytes and values at most %d", k, maxKeyLen, MaxFieldLen)
		}
	}
	if len(e.Value) > MaxFieldLen {
		return fmt.Errorf("passport: marshal: value is over %d bytes", MaxFieldLen)
	}
	if len(e.Files) > MaxFiles || len(e.Translation) > MaxFiles {
		return fmt.Errorf("passport: marshal: more than %d files in a list", MaxFiles)
	}
	for _, f := range e.allFiles() {
		if len(f.Name) > MaxNameLen || len(f.MIME) > maxMIMELen || len(f.Bytes) > MaxFileSize {
			return fmt.Errorf("passport: marshal: file %q is over the name, MIME or %d-byte size limit", f.Name, MaxFileSize)
		}
	}
	if n := e.Size(); n > MaxElementSize {
		return fmt.Errorf("passport: marshal: element is %d bytes, the limit is %d", n, MaxElementSize)
	}
	return nil
}

const (
	maxDataFields = 16
	maxKeyLen     = 64
	maxMIMELen    = 64
)

// UnmarshalElement decodes Marshal's encoding strictly: a known version and
// type, bounded lengths and counts, data keys in ascending order without
// repeats, and no trailing bytes. It checks structure only; call Validate
// for the specification's rules. The result does not alias b.
func UnmarshalElement(b []byte) (*Element, error) { return unmarshalElement(b, false) }

// UnmarshalElementIn is UnmarshalElement whose files' bytes alias b (the
// rest is copied), for a caller that hands b over: b must not be changed
// or reused while the element is in use. It saves the copy of the files,
// the bulk of a large element.
func UnmarshalElementIn(b []byte) (*Element, error) { return unmarshalElement(b, true) }

func unmarshalElement(b []byte, alias bool) (*Element, error) {
	if len(b) > MaxElementSize {
		return nil, fmt.Errorf("passport: element is %d bytes, the limit is %d", len(b), MaxElementSize)
	}
	r := wire.NewReader(b)
	e := decodeElement(r, func(_ *Element, _ string, f *File, n int) {
		body := r.Fixed("file bytes", n)
		switch {
		case r.Err() != nil:
		case alias:
			f.Bytes = body[:n:n] // an append must not write into b
		default:
			f.Bytes = append([]byte{}, body...)
		}
	})
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("passport: decode element: %w", err)
	}
	return e, nil
}

// fieldSource is what decodeElement reads fields from: a wire.Reader over a
// whole encoding, or a streamSource over a stream. Its first error sticks.
type fieldSource interface {
	Byte(what string) byte
	Uvarint(what string) uint64
	LenPrefixed(what string, max int) []byte
	Fail(err error)
	Err() error
}

// decodeElement reads one element from r in Marshal's encoding, but for
// the files' bytes: for each file, once its name, MIME type and length n
// (at most MaxFileSize) are read, body consumes its n bytes from r, and
// keeps them in f.Bytes or not. head is the element decoded so far (the
// files before this one), role names the file as FieldError does
// ("front_side", "files[2]"). It stops at the first error, which r holds;
// trailing input is the caller's to check.
func decodeElement(r fieldSource, body func(head *Element, role string, f *File, n int)) *Element {
	if v := r.Byte("version"); r.Err() == nil && v != elementVersion {
		r.Fail(fmt.Errorf("element encoding version %d is not supported (want %d)", v, elementVersion))
	}
	e := &Element{Type: ElementType(r.LenPrefixed("type", 32))}
	if r.Err() == nil && !e.Type.Valid() {
		r.Fail(fmt.Errorf("type: unknown element type %q", e.Type))
	}
	n := r.Uvarint("data count")
	if r.Err() == nil && n > maxDataFields {
		r.Fail(fmt.Errorf("data count %d exceeds the limit of %d", n, maxDataFields))
	}
	if r.Err() == nil && n > 0 {
		e.Data = make(map[string]string, n)
		prev := ""
		for i := uint64(0); i < n && r.Err() == nil; i++ {
			k := string(r.LenPrefixed("data key", maxKeyLen))
			v := string(r.LenPrefixed("data value", MaxFieldLen))
			if r.Err() == nil && (k == "" || (i > 0 && k <= prev)) {
				r.Fail(errors.New("data keys must be non-empty and strictly ascending"))
			}
			e.Data[k], prev = v, k
		}
	}
	e.Value = string(r.LenPrefixed("value", MaxFieldLen))
	singles := []struct {
		role string
		slot **File
	}{{"front_side", &e.FrontSide}, {"reverse_side", &e.ReverseSide}, {"selfie", &e.Selfie}}
	for _, s := range singles {
		switch r.Byte("file presence") {
		case 0:
		case 1:
			*s.slot = readFile(r, e, s.role, body)
		default:
			r.Fail(errors.New("file presence must be 0 or 1"))
		}
	}
	e.Files = readFiles(r, e, &e.Files, "files", body)
	e.Translation = readFiles(r, e, &e.Translation, "translation", body)
	return e
}

// readFiles reads a file list, appending to *list as it goes (so that
// head shows the files before each one).
func readFiles(r fieldSource, head *Element, list *[]File, what string, body func(*Element, string, *File, int)) []File {
	n := r.Uvarint(what + " count")
	if r.Err() != nil || n == 0 {
		return nil
	}
	if n > MaxFiles {
		r.Fail(fmt.Errorf("%s count %d exceeds the limit of %d", what, n, MaxFiles))
		return nil
	}
	*list = make([]File, 0, n)
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		if f := readFile(r, head, fmt.Sprintf("%s[%d]", what, i), body); f != nil {
			*list = append(*list, *f)
		}
	}
	return *list
}

// readFile reads one file's header and hands its bytes to body.
func readFile(r fieldSource, head *Element, role string, body func(*Element, string, *File, int)) *File {
	// One statement each: a streamSource's bytes last only until its next
	// read, and a conversion in a composite literal may run after it.
	f := &File{Name: string(r.LenPrefixed("file name", MaxNameLen))}
	f.MIME = string(r.LenPrefixed("file mime", maxMIMELen))
	n := r.Uvarint("file bytes")
	if r.Err() == nil && n > MaxFileSize {
		r.Fail(fmt.Errorf("file bytes: length %d exceeds the limit of %d", n, MaxFileSize))
	}
	if r.Err() != nil {
		return nil
	}
	if body(head, role, f, int(n)); r.Err() != nil {
		return nil
	}
	return f
}

// allFiles lists e's files in a fixed order: front side, reverse side,
// selfie, files, translation.
func (e *Element) allFiles() []*File {
	var out []*File
	for _, f := range []*File{e.FrontSide, e.ReverseSide, e.Selfie} {
		if f != nil {
			out = append(out, f)
		}
	}
	for i := range e.Files {
		out = append(out, &e.Files[i])
	}
	for i := range e.Translation {
		out = append(out, &e.Translation[i])
	}
	return out
}
