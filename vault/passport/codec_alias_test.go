package passport

import (
	"bytes"
	"testing"
	"unsafe"
)

// within reports whether p lies in b's memory.
func within(p, b []byte) bool {
	if len(p) == 0 {
		return false
	}
	start, end := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&b[0]))+uintptr(len(b))
	at := uintptr(unsafe.Pointer(&p[0]))
	return at >= start && at < end
}

func TestUnmarshalElementInAliasesOnlyFiles(t *testing.T) {
	files := 0
	for _, typ := range Types() {
		b, err := sample(typ).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		orig := bytes.Clone(b)
		in, err := UnmarshalElementIn(b)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		copied, err := UnmarshalElement(b)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		cf, inf := copied.allFiles(), in.allFiles()
		for i, f := range inf {
			files++
			if !within(f.Bytes, b) {
				t.Errorf("%s: UnmarshalElementIn copied the bytes of file %d", typ, i)
			}
			if within(cf[i].Bytes, b) {
				t.Errorf("%s: UnmarshalElement aliases the bytes of file %d", typ, i)
			}
			f.Bytes = append(f.Bytes, 0xff) // must not write into b
		}
		if !bytes.Equal(b, orig) {
			t.Fatalf("%s: appending to an aliased file changed the input", typ)
		}
	}
	if files == 0 {
		t.Fatal("no sample has files: the test checks nothing")
	}
}
