package config

import (
	"fmt"
	"reflect"
	"strings"
)

// field is one configuration key found by reflection over Config: the
// section struct's toml tag plus the field's toml tag.
type field struct {
	section string        // "p2p"
	name    string        // "listen"
	key     string        // "p2p.listen", the name used in every message
	env     string        // "TONMESH_P2P_LISTEN"
	goPath  string        // "config.P2PConfig.Listen", as go-toml names it in errors
	v       reflect.Value // the field itself, settable
}

// section is one [table] of the file.
type section struct {
	name   string // "p2p"
	goPath string // "config.Config.P2P"
	fields []field
}

// sections walks c by reflection and returns its sections and keys in
// declaration order, which is also the order Write uses.
func (c *Config) sections() []section {
	root := reflect.ValueOf(c).Elem()
	rootType := root.Type()
	var out []section
	for i := range rootType.NumField() {
		sf := rootType.Field(i)
		name := tomlName(sf)
		if name == "" || sf.Type.Kind() != reflect.Struct {
			continue
		}
		sec := section{name: name, goPath: fmt.Sprintf("%s.%s", rootType, sf.Name)}
		sv := root.Field(i)
		for j := range sf.Type.NumField() {
			ff := sf.Type.Field(j)
			fname := tomlName(ff)
			if fname == "" {
				continue
			}
			sec.fields = append(sec.fields, field{
				section: name,
				name:    fname,
				key:     name + "." + fname,
				env:     EnvPrefix + strings.ToUpper(name) + "_" + strings.ToUpper(fname),
				goPath:  fmt.Sprintf("%s.%s", sf.Type, ff.Name),
				v:       sv.Field(j),
			})
		}
		out = append(out, sec)
	}
	return out
}

// fields returns every key of c, flattened.
func (c *Config) fields() []field {
	var out []field
	for _, s := range c.sections() {
		out = append(out, s.fields...)
	}
	return out
}

// tomlName is the key name in a toml tag, or "" when the field is not part of
// the file (no tag, or "-").
func tomlName(sf reflect.StructField) string {
	if !sf.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// normalize makes empty lists nil so that a Config read from a file compares
// equal to one built in code.
func (c *Config) normalize() {
	for _, f := range c.fields() {
		if f.v.Kind() == reflect.Slice && f.v.Len() == 0 && !f.v.IsNil() {
			f.v.SetZero()
		}
	}
}
