package webui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// webui uses the passport package for its schema only (which fields and
// files each element type has), to draw the form; the element itself goes
// to the API like any client's.

type elementView struct {
	Type      string    `json:"type"`
	Size      int       `json:"size"`
	K         int       `json:"k"`
	N         int       `json:"n"`
	Reachable int       `json:"reachable"`
	Added     time.Time `json:"added"`
	Checked   time.Time `json:"checked"`
}

// Healthy reports whether every shard passed its last check.
func (e elementView) Healthy() bool { return e.Reachable >= e.N }

// Readable reports whether enough shards did to rebuild the element.
func (e elementView) Readable() bool { return e.Reachable >= e.K }

type askView struct {
	Type   string   `json:"type"`
	OneOf  []string `json:"one_of"`
	Fields []string `json:"fields"`
	Files  []string `json:"files"`
	// A claims ask: what it asks, what the user's attestations would
	// disclose (by which verifier), and what none of them proves.
	Claims     []string        `json:"claims"`
	Disclose   map[string]bool `json:"disclose"`
	Verifier   string          `json:"verifier"`
	Unattested []string        `json:"unattested"`
}

// attestationView is one attestation the user holds, with its claims.
type attestationView struct {
	Type      string          `json:"type"`
	Verifier  string          `json:"verifier"`
	Statement string          `json:"statement"`
	ExpiresAt int64           `json:"expires_at"`
	Claims    map[string]bool `json:"claims"`
}

// Expires is when the attestation stops being valid.
func (a attestationView) Expires() time.Time { return time.Unix(a.ExpiresAt, 0) }

type pendingView struct {
	ID         string    `json:"id"`
	Service    string    `json:"service"`
	Via        string    `json:"via"`
	Callback   string    `json:"callback"`
	Asks       []askView `json:"asks"`
	Missing    []string  `json:"missing"`
	ReceivedAt time.Time `json:"received_at"`
}

type shareView struct {
	ID      string    `json:"id"`
	Service string    `json:"service"`
	Types   []string  `json:"types"`
	Time    time.Time `json:"time"`
}

// formField is one input of the add/replace form.
type formField struct {
	Name, Value, Error string
}

// elementForm is the add/replace form for one type.
type elementForm struct {
	Type   string
	Fields []formField
	Files  []formField // Value unused: browsers never refill a file input
	Error  string      // the API's message when it is about no single field
	Added  string      // the type just stored, after a success
}

type passportView struct {
	Types    []string
	Elements []elementView
	Pending  []pendingView
	Shares   []shareView
	Attested []attestationView
	Form     *elementForm
}

func (s *Server) passportData(r *http.Request) (any, error) {
	return s.passportView(r, nil)
}

func (s *Server) passportView(r *http.Request, form *elementForm) (passportView, error) {
	ctx := r.Context()
	var v passportView
	for _, t := range passport.Types() {
		v.Types = append(v.Types, string(t))
	}
	err := firstErr(s.get(ctx, "/api/v1/passport/elements", &v.Elements),
		s.get(ctx, "/api/v1/passport/requests", &v.Pending),
		s.get(ctx, "/api/v1/passport/shares", &v.Shares),
		s.get(ctx, "/api/v1/passport/attestations", &v.Attested))
	if form == nil {
		q := r.URL.Query()
		if t, perr := passport.ParseType(q.Get("type")); perr == nil {
			form = newForm(t, s.storedValues(r, t, v.Elements))
		}
		if form != nil && q.Get("added") != "" {
			form.Added = form.Type
		}
	}
	v.Form = form
	return v, err
}

// storedValues returns the data of the stored element of type t, to
// prefill its replace form (files are never prefilled, nor read: the
// fields route stops at the first file), or nil.
func (s *Server) storedValues(r *http.Request, t passport.ElementType, have []elementView) url.Values {
	if !slices.ContainsFunc(have, func(e elementView) bool { return e.Type == string(t) }) {
		return nil
	}
	var e struct {
		Data  map[string]string `json:"data"`
		Value string            `json:"value"`
	}
	if s.get(r.Context(), "/api/v1/passport/elements/"+url.PathEscape(string(t))+"/fields", &e) != nil {
		return nil
	}
	vals := url.Values{}
	for k, v := range e.Data {
		vals.Set(k, v)
	}
	if e.Value != "" {
		vals.Set(string(t), e.Value)
	}
	return vals
}

// newForm lays out the form of type t: every field and file the type may
// hold, with the values of a form sent before.
func newForm(t passport.ElementType, values url.Values) *elementForm {
	ask := passport.AskOf(passport.ScopeOne{Type: t, Selfie: true, Translation: true, NativeNames: true})
	f := &elementForm{Type: string(t)}
	for _, name := range ask.Fields {
		f.Fields = append(f.Fields, formField{Name: name, Value: values.Get(name)})
	}
	for _, name := range ask.Files {
		f.Files = append(f.Files, formField{Name: name})
	}
	return f
}

// fieldOf finds the field an element validation error names
// ("… field birth_date: …").
var fieldOf = regexp.MustCompile(`field ([a-z_]+(?:\[\d+\])?):`)

// addElement takes the add/replace form (multipart, with the scans), sends
// the element to the API in its binary encoding, and shows the API's 4xx
// next to the field it names.
func (s *Server) addElement(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		http.Error(w, fmt.Sprintf("the form did not arrive whole (at most %d MiB of scans): %v", maxUpload>>20, err), http.StatusBadRequest)
		return
	}
	defer r.MultipartForm.RemoveAll()
	t, err := passport.ParseType(r.FormValue("type"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := newForm(t, r.MultipartForm.Value)
	el, err := elementOf(t, form, r.MultipartForm)
	if err == nil {
		err = s.upload(r.Context(), el)
	}
	if err == nil {
		http.Redirect(w, r, "/ui/passport?type="+url.QueryEscape(string(t))+"&added=1", http.StatusSeeOther)
		return
	}
	msg := errText(err)
	placed := false
	if m := fieldOf.FindStringSubmatch(msg); m != nil {
		for _, list := range [][]formField{form.Fields, form.Files} {
			for i := range list {
				if list[i].Name == m[1] || (len(m[1]) > len(list[i].Name) && m[1][:len(list[i].Name)+1] == list[i].Name+"[") {
					list[i].Error, placed = msg, true
				}
			}
		}
	}
	if !placed {
		form.Error = msg
	}
	v, verr := s.passportView(r, form)
	status := http.StatusBadRequest
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.Status
	}
	w.WriteHeader(status)
	s.render(w, "passport", pageData{Page: "passport", Data: v, Error: errText(verr)})
}

// maxUpload bounds the form: the largest element, its files sent as
// they are (not base64), and room for the rest of the form.
const maxUpload = passport.MaxElementSize + 1<<20

// elementOf builds the element of the form.
func elementOf(t passport.ElementType, form *elementForm, mf *multipart.Form) (*passport.Element, error) {
	el := &passport.Element{Type: t}
	for _, f := range form.Fields {
		switch {
		case f.Value == "":
		case f.Name == string(t): // phone_number, email: the element's value
			el.Value = f.Value
		default:
			if el.Data == nil {
				el.Data = map[string]string{}
			}
			el.Data[f.Name] = f.Value
		}
	}
	for _, f := range form.Files {
		var files []passport.File
		for _, fh := range mf.File[f.Name] {
			file, err := readUpload(fh)
			if err != nil {
				return nil, err
			}
			files = append(files, file)
		}
		if len(files) == 0 {
			continue
		}
		switch f.Name {
		case passport.RoleFiles:
			el.Files = files
		case passport.RoleTranslation:
			el.Translation = files
		case passport.RoleFrontSide:
			el.FrontSide = &files[0]
		case passport.RoleReverseSide:
			el.ReverseSide = &files[0]
		case passport.RoleSelfie:
			el.Selfie = &files[0]
		}
	}
	return el, nil
}

func readUpload(fh *multipart.FileHeader) (passport.File, error) {
	f, err := fh.Open()
	if err != nil {
		return passport.File{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return passport.File{}, err
	}
	mime := passport.SniffMIME(b)
	if mime == "" {
		mime = fh.Header.Get("Content-Type")
	}
	return passport.File{Name: fh.Filename, MIME: mime, Bytes: b}, nil
}

// upload sends el to the API's content route in its binary encoding,
// written as the API reads it (no base64, no second copy of the scans).
// An element that does not validate is not sent: its error names the
// field, as the API's would.
func (s *Server) upload(ctx context.Context, el *passport.Element) error {
	if err := el.Validate(); err != nil {
		return err
	}
	body := el.Encoding()
	defer body.Close() // an answer before the whole body: the writer stops
	return s.send(ctx, http.MethodPut, "/api/v1/passport/elements/"+url.PathEscape(string(el.Type))+"/content",
		vault.ContentType, body, int64(el.Size()), nil)
}
