package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// MaxElementBody is the largest POST /api/v1/passport/elements body: the
// largest element (passport.MaxElementSize), its files base64-encoded in
// the JSON, and room for the rest of the JSON.
const MaxElementBody = (passport.MaxElementSize+2)/3*4 + 1<<20

// Routes registers the vault routes of the local API with handle.
func (v *Vault) Routes(handle func(pattern string, h http.Handler)) {
	handle("POST /api/v1/passport/elements", http.HandlerFunc(v.handleAdd))
	handle("GET /api/v1/passport/elements", http.HandlerFunc(v.handleList))
	handle("GET /api/v1/passport/elements/{type}", http.HandlerFunc(v.handleElement))
	handle("GET /api/v1/passport/elements/{type}/content", http.HandlerFunc(v.handleContent))
	handle("GET /api/v1/passport/elements/{type}/fields", http.HandlerFunc(v.handleFields))
	handle("PUT /api/v1/passport/elements/{type}/content", http.HandlerFunc(v.handlePutContent))
	handle("DELETE /api/v1/passport/elements/{type}", http.HandlerFunc(v.handleDelete))
	handle("GET /api/v1/passport/elements/{type}/holders", http.HandlerFunc(v.handleHolders))
	handle("POST /api/v1/passport/restore", http.HandlerFunc(v.handleRestore))
	handle("POST /api/v1/passport/audit", http.HandlerFunc(v.handleAudit))
}

// DeleteResult answers DELETE /api/v1/passport/elements/{type}.
type DeleteResult struct {
	Type    passport.ElementType `json:"type"`
	Deleted bool                 `json:"deleted"`
}

func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		apiutil.BadRequest(w, err.Error())
	case errors.Is(err, ErrNotFound):
		apiutil.WriteError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrNoManifest):
		apiutil.WriteError(w, http.StatusNotFound, "no_manifest", err.Error())
	case errors.Is(err, ErrNotEnoughPeers):
		apiutil.WriteError(w, http.StatusServiceUnavailable, "not_enough_peers", err.Error())
	case errors.Is(err, ErrUnavailable):
		apiutil.WriteError(w, http.StatusBadGateway, "unavailable", err.Error())
	default:
		apiutil.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

// pathType reads the {type} path value; on error it has answered 400.
func pathType(w http.ResponseWriter, r *http.Request) (passport.ElementType, bool) {
	t, err := passport.ParseType(r.PathValue("type"))
	if err != nil {
		apiutil.BadRequest(w, err.Error())
		return "", false
	}
	return t, true
}

// readElementBody reads an element strictly, with a body limit fit for scans.
func readElementBody(w http.ResponseWriter, r *http.Request) (*passport.Element, bool) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxElementBody))
	dec.DisallowUnknownFields()
	var e passport.Element
	err := dec.Decode(&e)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return &e, true
	case errors.As(err, &tooLarge):
		apiutil.WriteError(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("request body: over %d bytes: use smaller scans (at most %d bytes each)", MaxElementBody, passport.MaxFileSize))
	case errors.Is(err, io.EOF):
		apiutil.BadRequest(w, "request body: empty: send a passport element as JSON (type, data, files as base64)")
	default:
		apiutil.BadRequest(w, fmt.Sprintf("request body: %v", err))
	}
	return nil, false
}

func (v *Vault) handleAdd(w http.ResponseWriter, r *http.Request) {
	e, ok := readElementBody(w, r)
	if !ok {
		return
	}
	info, err := v.Add(r.Context(), e)
	respond(w, info, err)
}

func (v *Vault) handleList(w http.ResponseWriter, r *http.Request) {
	list, err := v.List(r.Context())
	respond(w, list, err)
}

// handleElement answers an element as JSON, written file by file as the
// element is decrypted (elementjson.go): a large one is never whole in
// memory, as the JSON nor as the element. As for the content route, an
// error before the first byte is a JSON error answer, one after it cuts
// the answer off.
func (v *Vault) handleElement(w http.ResponseWriter, r *http.Request) {
	t, ok := pathType(w, r)
	if !ok {
		return
	}
	body := &answerWriter{w: w, header: func(h http.Header) { h.Set("Content-Type", "application/json") }}
	out := newElementJSON(body)
	e, err := v.decodeStreamed(r.Context(), t, out.file)
	if err == nil {
		err = out.end(e)
	}
	v.endAnswer(w, body, t, err)
}

// ContentType is the media type of /api/v1/passport/elements/{type}/content,
// read (GET) and written (PUT): the element's binary encoding
// (passport.Element.Marshal's; passport.DecodeElementFrom reads it).
const ContentType = "application/vnd.tonmesh.passport-element"

// handleContent streams an element's encoding as it is decrypted, with
// its length as Content-Length. An error before the first byte is a JSON
// error answer; one after it cuts the answer off, which its reader sees
// as a short body (and the decoder as a truncated element).
func (v *Vault) handleContent(w http.ResponseWriter, r *http.Request) {
	t, ok := pathType(w, r)
	if !ok {
		return
	}
	body := &answerWriter{w: w}
	err := v.WriteElement(r.Context(), t, func(info ElementInfo) (io.Writer, error) {
		body.header = func(h http.Header) {
			h.Set("Content-Type", ContentType)
			h.Set("Content-Length", strconv.Itoa(info.Size))
		}
		return body, nil
	})
	v.endAnswer(w, body, t, err)
}

// answerWriter sends the headers of a streamed answer (header's, and
// no-store: decrypted documents) at its first byte, so that an error
// before it can still be a JSON error answer.
type answerWriter struct {
	w       http.ResponseWriter
	header  func(http.Header)
	started bool
}

func (a *answerWriter) Write(p []byte) (int, error) {
	if !a.started {
		a.started = true
		h := a.w.Header()
		a.header(h)
		h.Set("Cache-Control", "no-store")
		a.w.WriteHeader(http.StatusOK)
	}
	return a.w.Write(p)
}

// endAnswer ends a streamed answer of element t that err stopped: as a
// JSON error answer before its first byte, else cut off (the client sees a
// short or unfinished body, never a whole one).
func (v *Vault) endAnswer(w http.ResponseWriter, body *answerWriter, t passport.ElementType, err error) {
	switch {
	case err == nil:
	case !body.started:
		writeErr(w, err)
	default:
		v.log.Warn("element answer cut off midway", "type", t, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// handleFields answers an element's type, data and value (Fields): no
// files, and only the first stripes of a large element read.
func (v *Vault) handleFields(w http.ResponseWriter, r *http.Request) {
	t, ok := pathType(w, r)
	if !ok {
		return
	}
	e, err := v.Fields(r.Context(), t)
	if err == nil {
		w.Header().Set("Cache-Control", "no-store") // decrypted documents
	}
	respond(w, e, err)
}

// handlePutContent adds (or replaces) the element of {type} from its
// binary encoding, Content-Length bytes of ContentType, as it arrives
// (AddFrom): no base64, and the node holds a few stripes of it, not the
// element. The answer is Add's.
func (v *Vault) handlePutContent(w http.ResponseWriter, r *http.Request) {
	t, ok := pathType(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != ContentType {
		apiutil.WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
			fmt.Sprintf("Content-Type is %q: send the element's binary encoding as %s (or POST /api/v1/passport/elements as JSON)", ct, ContentType))
		return
	}
	switch {
	case r.ContentLength < 0:
		apiutil.WriteError(w, http.StatusLengthRequired, "length_required", "send the encoding's length as Content-Length (it sizes the shards before the first byte)")
		return
	case r.ContentLength > passport.MaxElementSize:
		apiutil.WriteError(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("the element is %d bytes, the limit is %d: use smaller scans (at most %d bytes each)", r.ContentLength, passport.MaxElementSize, passport.MaxFileSize))
		return
	}
	info, err := v.AddFrom(r.Context(), t, r.Body, int(r.ContentLength))
	respond(w, info, err)
}

func (v *Vault) handleDelete(w http.ResponseWriter, r *http.Request) {
	t, ok := pathType(w, r)
	if !ok {
		return
	}
	if err := v.Delete(r.Context(), t); err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, DeleteResult{Type: t, Deleted: true})
}

func (v *Vault) handleHolders(w http.ResponseWriter, r *http.Request) {
	t, ok := pathType(w, r)
	if !ok {
		return
	}
	hs, err := v.Holders(r.Context(), t)
	respond(w, hs, err)
}

func (v *Vault) handleRestore(w http.ResponseWriter, r *http.Request) {
	res, err := v.Restore(r.Context())
	respond(w, res, err)
}

func (v *Vault) handleAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := v.Audit(r.Context())
	respond(w, rep, err)
}

// respond writes v as JSON, or err as the error answer it maps to.
func respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, v)
}
