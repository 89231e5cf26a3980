package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Load reads the configuration file at path. Keys absent from the file take
// the defaults of the profile named in node.profile (server if none); then the
// environment overrides of ApplyEnv(os.Environ()) apply; then Validate. The
// file is read strictly: syntax errors name the line and column, and keys
// that are not configuration keys or have the wrong type are errors naming
// the key and its line. A missing file is an error that says to run
// `tonmesh init`.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config: no configuration file at %s: run `tonmesh init` to create one (or set %s to the home of an initialised node): %w", path, EnvHome, err)
	}
	if err != nil {
		return nil, fmt.Errorf("config: cannot read %s: %w", path, err)
	}
	c, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	if err := c.ApplyEnv(os.Environ()); err != nil {
		return nil, fmt.Errorf("config: bad environment override for %s:\n%w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config: %s (with environment overrides applied) is not valid:\n%w", path, err)
	}
	return c, nil
}

// decode parses data on top of the defaults of the profile it names. name
// only labels errors.
func decode(name string, data []byte) (*Config, error) {
	var head struct {
		Node struct {
			Profile string `toml:"profile"`
		} `toml:"node"`
	}
	// Errors here are left to the strict decode below, which finds them too
	// and can name the key; the profile then falls back to server.
	headErr := toml.Unmarshal(data, &head)
	profile := head.Node.Profile
	if profile == "" {
		profile = ProfileServer
	}
	c, err := Default(profile)
	if err != nil {
		return nil, fmt.Errorf("config: %s: key \"node.profile\": %q is not a profile (use %s)", name, profile, oneOf(profiles()))
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, describe(name, data, err)
	}
	if headErr != nil { // cannot happen: the strict decode is stricter
		return nil, describe(name, data, headErr)
	}
	c.normalize()
	return c, nil
}

// describe turns a go-toml error into one that names the file, the line and,
// where there is one, the key, in the words of this package.
func describe(name string, data []byte, err error) error {
	if se, ok := errors.AsType[*toml.StrictMissingError](err); ok {
		errs := make([]error, 0, len(se.Errors))
		for i := range se.Errors {
			errs = append(errs, unknownKey(name, &se.Errors[i]))
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	where := name
	key, found := fieldInMessage(msg), ""
	if key != "" {
		found = foundType(msg)
	}
	if de, ok := errors.AsType[*toml.DecodeError](err); ok {
		line, col := de.Position()
		if !parses(data) {
			return fmt.Errorf("config: %s, line %d, column %d: syntax error: %s", name, line, col, msg)
		}
		where = fmt.Sprintf("%s, line %d", name, line)
		if key == "" {
			key = keyAt(data, line)
		}
		if key == "" {
			return fmt.Errorf("config: %s, column %d: %s", where, col, msg)
		}
	}
	expected := expectedFor(key)
	switch {
	case key == "":
		return fmt.Errorf("config: %s: cannot decode: %s", where, msg)
	case found != "" && expected != "":
		return fmt.Errorf("config: %s: key %q: expected %s, found a TOML %s", where, key, expected, found)
	case expected != "":
		return fmt.Errorf("config: %s: key %q: expected %s: %s", where, key, expected, msg)
	}
	return fmt.Errorf("config: %s: key %q: %s", where, key, msg)
}

// unknownKey words one entry of a StrictMissingError.
func unknownKey(name string, de *toml.DecodeError) error {
	line, _ := de.Position()
	key := []string(de.Key())
	c := &Config{}
	var tables []string
	for _, s := range c.sections() {
		tables = append(tables, s.name)
		if len(key) == 2 && key[0] == s.name {
			var keys []string
			for _, f := range s.fields {
				keys = append(keys, f.name)
			}
			return fmt.Errorf("config: %s, line %d: unknown key %q (keys of [%s]: %s)", name, line, strings.Join(key, "."), s.name, strings.Join(keys, ", "))
		}
	}
	return fmt.Errorf("config: %s, line %d: unknown key %q (the file's tables are %s; every key belongs in one of them)", name, line, strings.Join(key, "."), strings.Join(bracket(tables), ", "))
}

func bracket(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "[" + n + "]"
	}
	return out
}

// fieldInMessage finds the Go field go-toml names in a type-mismatch message
// ("cannot decode TOML string into struct field config.P2PConfig.MDNS of type
// bool") and returns its key, or "".
func fieldInMessage(msg string) string {
	_, rest, ok := strings.Cut(msg, "into struct field ")
	if !ok {
		return ""
	}
	goPath, _, _ := strings.Cut(rest, " ")
	for _, s := range (&Config{}).sections() {
		if s.goPath == goPath {
			return s.name
		}
		for _, f := range s.fields {
			if f.goPath == goPath {
				return f.key
			}
		}
	}
	return ""
}

// expectedFor says what a section or key holds, or "" if it is neither.
func expectedFor(key string) string {
	for _, s := range (&Config{}).sections() {
		if s.name == key {
			return "a [" + s.name + "] table"
		}
		for _, f := range s.fields {
			if f.key == key {
				return expectedValue(f.v.Type())
			}
		}
	}
	return ""
}

// foundType extracts the TOML type from a type-mismatch message.
func foundType(msg string) string {
	_, rest, ok := strings.Cut(msg, "cannot decode TOML ")
	if !ok {
		return "value"
	}
	found, _, _ := strings.Cut(rest, " into ")
	return found
}

// expectedValue says in TOML terms what a key of type t holds.
func expectedValue(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a quoted string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return `a list of quoted strings, e.g. ["a", "b"]`
	default:
		return "a " + t.String()
	}
}

// parses reports whether data is syntactically valid TOML, which tells a
// syntax error from a decoding error.
func parses(data []byte) bool {
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
	}
	return p.Error() == nil
}

// keyAt returns the dotted name of the last key or table header that starts
// on or before line in a syntactically valid document, or "".
func keyAt(data []byte, line int) string {
	var p unstable.Parser
	p.Reset(data)
	var table []string
	found := ""
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		var start int
		it := iterKey(e)
		if it == nil {
			continue
		}
		for it.Next() {
			n := it.Node()
			if start == 0 {
				start = p.Shape(n.Raw).Start.Line
			}
			parts = append(parts, string(n.Data))
		}
		if start > line {
			break
		}
		if e.Kind == unstable.KeyValue {
			found = strings.Join(append(append([]string(nil), table...), parts...), ".")
		} else {
			table = parts
			found = strings.Join(table, ".")
		}
	}
	return found
}

// iterKey returns the key parts of a key/value or table expression, nil for
// other expressions (comments).
func iterKey(e *unstable.Node) *unstable.Iterator {
	switch e.Kind {
	case unstable.KeyValue, unstable.Table, unstable.ArrayTable:
		it := e.Key()
		return &it
	}
	return nil
}
