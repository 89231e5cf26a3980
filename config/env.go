package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Environment variables. Every configuration key has an override named
// EnvPrefix + SECTION + "_" + KEY in upper case (TONMESH_P2P_LISTEN). The
// names below share the prefix but are not configuration keys: the CLI reads
// them, ApplyEnv never does.
const (
	EnvPrefix = "TONMESH_"
	EnvHome   = "TONMESH_HOME"  // the node's home directory
	EnvAPI    = "TONMESH_API"   // address of a running node's API, for the CLI
	EnvToken  = "TONMESH_TOKEN" // bearer token for that API
)

// reservedEnv reports whether name is one of the variables that share the
// prefix but are not configuration keys.
func reservedEnv(name string) bool {
	return name == EnvHome || name == EnvAPI || name == EnvToken
}

// ApplyEnv overrides c with the TONMESH_<SECTION>_<KEY> variables found in
// environ (entries "NAME=value", as os.Environ returns them; a later entry
// wins over an earlier one of the same name). Lists are comma-separated, with
// spaces around items trimmed and empty items dropped, so an empty value
// empties the list. Booleans take true or false (also 1/0, t/f); integers are
// decimal. Variables that are not configuration keys, including EnvHome,
// EnvAPI and EnvToken, are ignored; UnknownEnv lists the suspicious ones. A
// value that does not parse is an error naming the variable and the key; all
// such errors are returned together and the other overrides still apply.
func (c *Config) ApplyEnv(environ []string) error {
	byName := make(map[string]field)
	for _, f := range c.fields() {
		byName[f.env] = f
	}
	var errs []error
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || reservedEnv(name) {
			continue
		}
		f, ok := byName[name]
		if !ok {
			continue
		}
		if err := setFromString(f.v, value); err != nil {
			errs = append(errs, fmt.Errorf("config: environment variable %s=%q (key %q): %w", name, value, f.key, err))
		}
	}
	return errors.Join(errs...)
}

// UnknownEnv returns, sorted and without duplicates, the names in environ that
// start with EnvPrefix but are neither a configuration key nor one of EnvHome,
// EnvAPI, EnvToken. ApplyEnv ignores them; the CLI may warn about them, since
// they are most likely misspelt overrides.
func UnknownEnv(environ []string) []string {
	known := make(map[string]bool)
	for _, f := range (&Config{}).fields() {
		known[f.env] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) && !reservedEnv(name) && !known[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EnvName returns the environment variable that overrides key ("p2p.listen"
// gives "TONMESH_P2P_LISTEN"), and false when key is not a configuration key.
func EnvName(key string) (string, bool) {
	for _, f := range (&Config{}).fields() {
		if f.key == key {
			return f.env, true
		}
	}
	return "", false
}

// setFromString parses s into v according to v's kind.
func setFromString(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a boolean (use true or false)")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errors.New("not a decimal integer in range")
		}
		v.SetInt(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("lists of %s cannot be set from the environment", v.Type().Elem())
		}
		v.Set(reflect.ValueOf(splitList(s)))
	default:
		return fmt.Errorf("values of type %s cannot be set from the environment", v.Type())
	}
	return nil
}

// splitList splits a comma-separated list, trimming items and dropping empty
// ones; it returns nil for a list with no items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
