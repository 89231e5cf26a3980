package vault

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// elementJSON writes an element as the JSON of passport.Element (the
// files' bytes base64), file by file as passport.DecodeElementFrom hands
// them over, so that the API's JSON answer of a large element is never
// whole in memory. Its fields come in the struct's order, which is the
// encoding's: type, data, value, the three single files, files[],
// translation[].
type elementJSON struct {
	w       *bufio.Writer
	started bool
	list    string // the list whose entries are being written
}

func newElementJSON(w io.Writer) *elementJSON { return &elementJSON{w: bufio.NewWriterSize(w, 64<<10)} }

// head writes the fields before the files, once.
func (j *elementJSON) head(e *passport.Element) {
	if j.started {
		return
	}
	j.started = true
	j.raw(`{"type":`)
	j.value(e.Type)
	if len(e.Data) > 0 {
		j.raw(`,"data":`)
		j.value(e.Data)
	}
	if e.Value != "" {
		j.raw(`,"value":`)
		j.value(e.Value)
	}
}

// file writes one file, its bytes base64 as they are read.
func (j *elementJSON) file(f *passport.StreamedFile) error {
	j.head(f.Head)
	list, _, inList := strings.Cut(f.Role, "[")
	switch {
	case inList && list == j.list:
		j.raw(",")
	case inList:
		j.endList()
		j.raw(`,"` + list + `":[`)
		j.list = list
	default:
		j.raw(`,"` + f.Role + `":`)
	}
	j.raw(`{"name":`)
	j.value(f.Name)
	j.raw(`,"mime":`)
	j.value(f.MIME)
	j.raw(`,"bytes":"`)
	enc := base64.NewEncoder(base64.StdEncoding, j.w)
	if _, err := io.Copy(enc, f.Body); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	j.raw(`"}`)
	return nil
}

func (j *elementJSON) endList() {
	if j.list != "" {
		j.raw("]")
		j.list = ""
	}
}

// end closes the object, after the last file.
func (j *elementJSON) end(e *passport.Element) error {
	j.head(e)
	j.endList()
	j.raw("}\n")
	return j.w.Flush()
}

// raw writes s; a write error shows at the next Flush (bufio keeps it).
func (j *elementJSON) raw(s string) { _, _ = j.w.WriteString(s) }

// value writes v, a string or a map of strings: Marshal cannot fail on
// them (invalid UTF-8 is replaced).
func (j *elementJSON) value(v any) {
	b, _ := json.Marshal(v)
	_, _ = j.w.Write(b)
}
