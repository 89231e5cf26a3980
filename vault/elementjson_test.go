package vault

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// The streamed JSON of an element decodes to the element, whatever files
// it carries: none, single ones, lists, lists after singles.
func TestElementJSONDecodesToTheElement(t *testing.T) {
	file := func(name string, n int) passport.File {
		return passport.File{Name: name, MIME: passport.MIMEJPEG, Bytes: jpeg(t, n)}
	}
	front, reverse, selfie := file("f.jpg", 100), file("r.jpg", 1), file("s<&>.jpg", 3<<10)
	for _, e := range []*passport.Element{
		{Type: passport.TypeEmail, Value: "ada@example.org"},
		personalDetails("Ada \"the first\""),
		passportElement(t, "X1", 2000),
		{Type: passport.TypeDriverLicense, Data: map[string]string{"document_no": "D1"}, FrontSide: &front, ReverseSide: &reverse, Selfie: &selfie,
			Translation: []passport.File{file("t1.jpg", 10), file("t2.jpg", 11)}},
		{Type: passport.TypeUtilityBill, Files: []passport.File{file("p1.jpg", 5), file("p2.jpg", 6), file("p3.jpg", 7)},
			Translation: []passport.File{file("t1.jpg", 8)}},
	} {
		enc, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		j := newElementJSON(&out)
		got, err := passport.DecodeElementFrom(bytes.NewReader(enc), j.file)
		if err == nil {
			err = j.end(got)
		}
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		var back passport.Element
		if err := json.Unmarshal(out.Bytes(), &back); err != nil {
			t.Fatalf("%s: streamed JSON does not decode: %v\n%s", e.Type, err, out.Bytes())
		}
		sameElement(t, &back, e)
		want, _ := json.Marshal(e)
		if !bytes.Equal(canonical(t, out.Bytes()), canonical(t, want)) {
			t.Fatalf("%s: streamed JSON differs from encoding/json's:\n%s\nwant\n%s", e.Type, out.Bytes(), want)
		}
	}
}

// canonical is JSON b re-encoded with sorted keys.
func canonical(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}
