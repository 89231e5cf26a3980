package passport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxScopeSize bounds a scope's JSON.
const MaxScopeSize = 4 << 10

// Scope is what a service asks for, in the specification's v1 form:
//
//	{"v":1,"data":["personal_details",
//	  {"type":"passport","selfie":true,"translation":true},
//	  {"one_of":["identity_card","driver_license"],"selfie":true},
//	  {"type":"address"},
//	  {"type":"personal_details","claims":["age_over_18"]}]}
//
// Each type appears at most once in the whole scope. An entry with
// "claims" (a tonmesh extension) asks only for those derived claims, as a
// verifier attested them (claims.go), and for none of the element's data
// fields or files: a service that asks age_over_18 of personal_details
// never receives the birth date.
type Scope struct {
	Data []ScopeElement
}

// ScopeOne asks for one type, with the parts a scope may add.
type ScopeOne struct {
	Type        ElementType `json:"type"`
	Selfie      bool        `json:"selfie,omitempty"`
	Translation bool        `json:"translation,omitempty"`
	NativeNames bool        `json:"native_names,omitempty"`
	Claims      []string    `json:"claims,omitempty"`
}

// ClaimsOnly reports whether o asks for derived claims instead of data.
func (o ScopeOne) ClaimsOnly() bool { return len(o.Claims) > 0 }

// ScopeElement is one entry of a scope: a single type (Options has one
// entry and OneOf is false), or a one_of list of which the user provides
// the first one they have. The flags of a one_of group are folded into
// each option.
type ScopeElement struct {
	OneOf   bool
	Options []ScopeOne
}

// scopeWire is the JSON of one data entry (besides a bare type string).
type scopeWire struct {
	Type        *string           `json:"type,omitempty"`
	OneOf       []json.RawMessage `json:"one_of,omitempty"`
	Selfie      bool              `json:"selfie,omitempty"`
	Translation bool              `json:"translation,omitempty"`
	NativeNames bool              `json:"native_names,omitempty"`
	Claims      []string          `json:"claims,omitempty"`
}

// ParseScope reads a scope: the v1 object, or the legacy plain array of
// type names. Unknown keys, unknown or repeated types and flags a type
// cannot have are errors that say which entry is wrong.
func ParseScope(raw []byte) (*Scope, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("scope: empty: send {\"v\":1,\"data\":[…]}")
	}
	if len(raw) > MaxScopeSize {
		return nil, fmt.Errorf("scope: %d bytes, the limit is %d", len(raw), MaxScopeSize)
	}
	var entries []json.RawMessage
	if raw[0] == '[' {
		if err := strictJSON(raw, &entries); err != nil {
			return nil, fmt.Errorf("scope: %w", err)
		}
	} else {
		var top struct {
			V    *int              `json:"v"`
			Data []json.RawMessage `json:"data"`
		}
		if err := strictJSON(raw, &top); err != nil {
			return nil, fmt.Errorf("scope: %w (form: {\"v\":1,\"data\":[…]})", err)
		}
		if top.V == nil || *top.V != 1 {
			return nil, errors.New(`scope: "v" must be 1`)
		}
		entries = top.Data
	}
	if len(entries) == 0 {
		return nil, errors.New("scope: data is empty: ask for at least one element type")
	}
	s := &Scope{}
	seen := map[ElementType]bool{}
	for i, ent := range entries {
		el, err := parseScopeElement(ent, seen)
		if err != nil {
			return nil, fmt.Errorf("scope: data[%d]: %w", i, err)
		}
		s.Data = append(s.Data, el)
	}
	return s, nil
}

func parseScopeElement(raw json.RawMessage, seen map[ElementType]bool) (ScopeElement, error) {
	one, isGroup, group, err := parseScopeOne(raw, true)
	if err != nil {
		return ScopeElement{}, err
	}
	if !isGroup {
		if err := claim(one.Type, seen); err != nil {
			return ScopeElement{}, err
		}
		return ScopeElement{Options: []ScopeOne{one}}, nil
	}
	if len(group.OneOf) == 0 {
		return ScopeElement{}, errors.New("one_of is empty: list the types the user may choose from")
	}
	el := ScopeElement{OneOf: true}
	withClaims := 0
	for j, o := range group.OneOf {
		opt, nested, _, err := parseScopeOne(o, false)
		if err == nil && nested {
			err = errors.New("one_of cannot be nested")
		}
		if err == nil {
			opt.Selfie = opt.Selfie || group.Selfie
			opt.Translation = opt.Translation || group.Translation
			opt.Claims = unionClaims(group.Claims, opt.Claims)
			err = opt.check()
		}
		if err == nil && opt.ClaimsOnly() {
			withClaims++
		}
		if err == nil {
			err = claim(opt.Type, seen)
		}
		if err != nil {
			return ScopeElement{}, fmt.Errorf("one_of[%d]: %w", j, err)
		}
		el.Options = append(el.Options, opt)
	}
	if withClaims != 0 && withClaims != len(el.Options) {
		return ScopeElement{}, errors.New("one_of: ask claims of every option or of none")
	}
	return el, nil
}

// parseScopeOne reads a bare type string or an object. For a one_of object
// (allowed when groups is set) it returns isGroup and the raw group.
func parseScopeOne(raw json.RawMessage, groups bool) (ScopeOne, bool, scopeWire, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		t, err := ParseType(name)
		if err != nil {
			return ScopeOne{}, false, scopeWire{}, err
		}
		return ScopeOne{Type: t}, false, scopeWire{}, nil
	}
	var w scopeWire
	if err := strictJSON(raw, &w); err != nil {
		return ScopeOne{}, false, w, fmt.Errorf("%w (use a type name or {\"type\":…} or {\"one_of\":[…]})", err)
	}
	switch {
	case w.Type != nil && w.OneOf != nil:
		return ScopeOne{}, false, w, errors.New(`give either "type" or "one_of", not both`)
	case w.OneOf != nil:
		if !groups {
			return ScopeOne{}, true, w, nil
		}
		if w.NativeNames {
			return ScopeOne{}, false, w, errors.New("native_names applies to personal_details only, not to a one_of list")
		}
		return ScopeOne{}, true, w, nil
	case w.Type == nil:
		return ScopeOne{}, false, w, errors.New(`missing "type"`)
	}
	t, err := ParseType(*w.Type)
	if err != nil {
		return ScopeOne{}, false, w, err
	}
	one := ScopeOne{Type: t, Selfie: w.Selfie, Translation: w.Translation, NativeNames: w.NativeNames, Claims: w.Claims}
	if groups {
		err = one.check()
	}
	return one, false, w, err
}

func claim(t ElementType, seen map[ElementType]bool) error {
	if seen[t] {
		return fmt.Errorf("%s is asked for more than once: each type may appear once in a scope", t)
	}
	seen[t] = true
	return nil
}

func (o ScopeOne) check() error {
	if o.Claims != nil {
		if len(o.Claims) == 0 {
			return errors.New(`claims: empty: list claims such as "age_over_18", or leave "claims" out`)
		}
		if o.Selfie || o.Translation || o.NativeNames {
			return errors.New("claims: an entry with claims asks for the claims only; selfie, translation and native_names cannot go with it (ask the type in another way, without claims)")
		}
		return checkClaimList(o.Type, o.Claims)
	}
	switch {
	case o.Selfie && !o.Type.IsIdentityDocument():
		return fmt.Errorf("selfie: %s has no selfie (only passport, driver_license, identity_card, internal_passport)", o.Type)
	case o.Translation && !o.Type.hasTranslation():
		return fmt.Errorf("translation: %s has no translation (only identity documents and proofs of address)", o.Type)
	case o.NativeNames && o.Type != TypePersonalDetails:
		return fmt.Errorf("native_names: applies to personal_details only, not %s", o.Type)
	}
	return nil
}

// MarshalJSON writes the scope in v1 form.
func (s *Scope) MarshalJSON() ([]byte, error) {
	data := make([]any, 0, len(s.Data))
	for _, el := range s.Data {
		if !el.OneOf && len(el.Options) == 1 {
			data = append(data, el.Options[0])
			continue
		}
		data = append(data, map[string]any{"one_of": el.Options})
	}
	return json.Marshal(map[string]any{"v": 1, "data": data})
}

// unionClaims is a followed by the entries of b not in a; nil when both are
// empty.
func unionClaims(a, b []string) []string {
	if len(a) == 0 && len(b) == 0 {
		return b
	}
	out := append([]string{}, a...)
	for _, c := range b {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// ClaimsOnly reports whether the entry asks for claims (all its options do).
func (el ScopeElement) ClaimsOnly() bool { return len(el.Options) > 0 && el.Options[0].ClaimsOnly() }

// DataScope is s without its claims entries: what travels in the Telegram
// Passport format. It may have no entries.
func (s *Scope) DataScope() *Scope {
	out := &Scope{}
	for _, el := range s.Data {
		if !el.ClaimsOnly() {
			out.Data = append(out.Data, el)
		}
	}
	return out
}

// ClaimEntries lists the entries of s that ask for claims.
func (s *Scope) ClaimEntries() []ScopeElement {
	var out []ScopeElement
	for _, el := range s.Data {
		if el.ClaimsOnly() {
			out = append(out, el)
		}
	}
	return out
}

// Types lists every type the scope names, in order.
func (s *Scope) Types() []ElementType {
	var out []ElementType
	for _, el := range s.Data {
		for _, o := range el.Options {
			out = append(out, o.Type)
		}
	}
	return out
}

// Select picks, for each scope entry, the first option the owner has (has
// reports that). It returns the chosen options in scope order and, for
// each entry the owner cannot satisfy, the types it lacks.
func (s *Scope) Select(has func(ElementType) bool) (chosen []ScopeOne, missing []ElementType) {
	for _, el := range s.Data {
		found := false
		for _, o := range el.Options {
			if has(o.Type) {
				chosen = append(chosen, o)
				found = true
				break
			}
		}
		if !found {
			for _, o := range el.Options {
				missing = append(missing, o.Type)
			}
		}
	}
	return chosen, missing
}

// Ask is what one option requests, for a user to review: the data fields
// and the files.
type Ask struct {
	Type   ElementType   `json:"type"`
	OneOf  []ElementType `json:"one_of,omitempty"`
	Fields []string      `json:"fields"`
	Files  []string      `json:"files"`
	// Claims are the derived claims asked instead of data (Fields and
	// Files are then empty). Unattested lists those no attestation the
	// user holds can prove, and Disclose the values the user's
	// attestations would disclose; both are filled in on the user's node.
	Claims     []string        `json:"claims,omitempty"`
	Unattested []string        `json:"unattested,omitempty"`
	Disclose   map[string]bool `json:"disclose,omitempty"`
	Verifier   string          `json:"verifier,omitempty"`
}

// AskOf lists the fields and files option o asks for.
func AskOf(o ScopeOne) Ask {
	s := schemaOf(o.Type)
	a := Ask{Type: o.Type, Fields: []string{}, Files: []string{}}
	if o.ClaimsOnly() {
		a.Claims = append([]string{}, o.Claims...)
		return a
	}
	for _, f := range Fields(o.Type) {
		if isNative(f) && !o.NativeNames {
			continue
		}
		a.Fields = append(a.Fields, f)
	}
	if s.value {
		a.Fields = append(a.Fields, string(o.Type))
	}
	if s.front {
		a.Files = append(a.Files, RoleFrontSide)
	}
	if s.reverse {
		a.Files = append(a.Files, RoleReverseSide)
	}
	if o.Selfie {
		a.Files = append(a.Files, RoleSelfie)
	}
	if s.files {
		a.Files = append(a.Files, RoleFiles)
	}
	if o.Translation {
		a.Files = append(a.Files, RoleTranslation)
	}
	return a
}

// Project returns a copy of e holding only what o asks for: no selfie or
// translation unless asked, no native names unless asked.
func Project(e *Element, o ScopeOne) *Element {
	c := e.Clone()
	if !o.Selfie {
		c.Selfie = nil
	}
	if !o.Translation {
		c.Translation = nil
	}
	if !o.NativeNames {
		for f := range c.Data {
			if isNative(f) {
				delete(c.Data, f)
			}
		}
	}
	if len(c.Data) == 0 {
		c.Data = nil
	}
	return c
}

func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
