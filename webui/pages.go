package webui

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
)

// pageData is what every template gets: the page's name (for the
// navigation), an error for the whole page, and the page's own data.
type pageData struct {
	Page  string
	Error string
	Data  any
}

// loader fetches a page's data from the API; an error is shown on the page.
type loader func(r *http.Request) (any, error)

var funcs = template.FuncMap{
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:6] + "…" + s[len(s)-6:]
		}
		return s
	},
	"join": strings.Join,
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("15:04:05")
	},
	"has": func(list []string, v string) bool { return slices.Contains(list, v) },
	"claimKnown": func(m map[string]bool, k string) bool {
		_, ok := m[k]
		return ok
	},
}

// render executes template name into a buffer first, so that a template
// error gives a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, name string, d pageData) {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, d); err != nil {
		s.log.Error("web app: render", "template", name, "err", err)
		http.Error(w, "web app: render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = b.WriteTo(w)
}

func (s *Server) page(name string, load loader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := pageData{Page: name}
		var err error
		d.Data, err = load(r)
		d.Error = errText(err)
		s.render(w, name, d)
	})
}

// fragments maps a fragment's name to the loader of its data; the
// fragment is the template "frag-<name>", also part of its page.
func (s *Server) fragments() map[string]loader {
	return map[string]loader{
		"peers":         s.nodeData,
		"elements":      s.passportData,
		"consent":       s.passportData,
		"shares":        s.passportData,
		"auctions":      s.marketData,
		"mine":          s.marketData,
		"codes":         s.marketData,
		"conversations": s.chatData,
		"messages":      s.chatData,
		"groups":        s.chatData,
		"devices":       s.chatData,
		"offers":        s.computeData,
		"earnings":      s.computeData,
	}
}

// fragment serves a part of a page for the script to swap in after an
// event or a form.
func (s *Server) fragment(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	load, ok := s.fragments()[name]
	if !ok {
		http.Error(w, "no fragment "+name, http.StatusNotFound)
		return
	}
	d := pageData{Page: name}
	var err error
	d.Data, err = load(r)
	d.Error = errText(err)
	s.render(w, "frag-"+name, d)
}

// get is call for a GET; several of them fill one page.
func (s *Server) get(ctx context.Context, path string, out any) error {
	return s.call(ctx, http.MethodGet, path, nil, out)
}

// firstErr keeps the first error of a page's calls: the page still shows
// what the others returned.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
