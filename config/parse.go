package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// Parse decodes and validates data, the contents of the config file at path.
// path appears in error messages as given; Root is its folder. Every error is
// a *diag.Error.
func Parse(path string, data []byte) (*Config, error) {
	// A UTF-8 byte order mark, as some editors write: TOML tools accept it.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	c := Default(filepath.Dir(path))
	c.Path = path
	err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(c)
	var problems []problem
	var missing *toml.StrictMissingError
	switch {
	case errors.As(err, &missing): // before DecodeError: it wraps some
		for _, e := range missing.Errors {
			line, _ := e.Position()
			problems = append(problems, problem{line: line, msg: unknownKeyMsg(e.Key())})
		}
	case err != nil:
		return nil, tomlpos.Error(path, err, decodeMsg)
	}
	// go-toml matches keys to fields ignoring case; TOML keys are not.
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, diag.Wrap(path, 0, err)
	}
	problems = append(problems, caseMismatches(reflect.TypeFor[Config](), doc, nil)...)
	if limits, _ := doc["limits"].(map[string]any); limits["reserved_layers"] == nil && c.Limits.LayersPerFunction > 0 {
		// The default reserve fits whatever layers_per_function says.
		c.Limits.ReservedLayers = min(c.Limits.ReservedLayers, c.Limits.LayersPerFunction-1)
	}
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return nil, first(path, data, problems)
	}
	c.engineLines(data)
	return c, nil
}

// problem is an input error found after decoding: its line is known, or
// found from key when needed.
type problem struct {
	key  []any // a tomlpos path
	line int
	msg  string
}

// maxLineLookups bounds the tomlpos look-ups for one error: each re-reads
// the document, and a broken file can have a problem per key.
const maxLineLookups = 10

// first returns the problem that comes first in the document, among those
// with a known line and the first maxLineLookups others.
func first(path string, data []byte, problems []problem) *diag.Error {
	best, lookups := 0, 0
	for i := range problems {
		p := &problems[i]
		if p.line == 0 && p.key != nil && lookups < maxLineLookups {
			p.line = tomlpos.Line(data, p.key...)
			lookups++
		}
		if b := problems[best]; p.line > 0 && (b.line == 0 || p.line < b.line) {
			best = i
		}
	}
	p := problems[best]
	return diag.Errorf(path, p.line, "%s", p.msg)
}

// decodeMsg words a syntax or type error from go-toml by its key: a type
// mismatch reads "want a string, got integer", not in Go type names.
func decodeMsg(f tomlpos.Failure) string {
	key := keyString(f.Key...)
	if key == "" {
		return tomlpos.Invalid(f)
	}
	if want, ok := tomlTypes[f.Want]; ok {
		return key + ": want " + want + ", got " + f.Got
	}
	return key + ": " + f.Msg
}

// tomlTypes names the Go types of the schema the way a TOML user would.
var tomlTypes = map[string]string{
	"string":                     "a string",
	"[]string":                   "an array of strings",
	"int":                        "an integer",
	"int64":                      "an integer",
	"float64":                    "a number",
	"bool":                       "a boolean",
	"config.Function":            "a table",
	"config.Limits":              "a table",
	"config.Layers":              "a table",
	"map[string]config.Function": "a table",
	"map[string][]string":        "a table",
}

// unknownKeyMsg says which key is unknown, where, and which keys would be
// known there.
func unknownKeyMsg(key []string) string {
	if len(key) == 0 {
		return "unknown key"
	}
	parent, name := key[:len(key)-1], key[len(key)-1]
	msg := fmt.Sprintf("unknown key %q", name)
	if len(parent) > 0 {
		msg += " in [" + keyString(parent...) + "]"
	}
	if known := keysAt(parent); len(known) > 0 {
		msg += " (known: " + strings.Join(known, ", ") + ")"
	}
	return msg
}

// keysAt returns the sorted keys allowed in the table at key, nil when the
// table is not a struct of the schema. Map levels ([function.NAME]) consume
// one key part; struct fields match ignoring case as go-toml does.
func keysAt(key []string) []string {
	t := reflect.TypeFor[Config]()
	for _, part := range key {
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldFor(t, part, strings.EqualFold)
			if !ok {
				return nil
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for f := range t.Fields() {
		if k := tomlKey(f); k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// fieldFor finds the field of struct t whose toml key matches name.
func fieldFor(t reflect.Type, name string, match func(a, b string) bool) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if k := tomlKey(f); k != "" && match(k, name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tomlKey returns a field's key, "" for fields TOML does not see.
func tomlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if k == "-" || !f.IsExported() {
		return ""
	}
	return k
}

// caseMismatches reports keys of doc, decoded generically, that only match a
// field of t when case is ignored; every other unknown key has been reported
// by strict decoding already.
func caseMismatches(t reflect.Type, doc map[string]any, key []string) []problem {
	var out []problem
	for _, name := range slices.Sorted(maps.Keys(doc)) { // sorted: first() looks up a bounded number
		v := doc[name]
		k := append(slices.Clip(key), name)
		f, ok := fieldFor(t, name, func(a, b string) bool { return a == b })
		if !ok {
			if _, folded := fieldFor(t, name, strings.EqualFold); folded {
				out = append(out, problem{key: anyPath(k), msg: unknownKeyMsg(k)})
			}
			continue
		}
		sub, ok := v.(map[string]any)
		if !ok {
			continue
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			out = append(out, caseMismatches(ft, sub, k)...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			for _, n := range slices.Sorted(maps.Keys(sub)) {
				if m, ok := sub[n].(map[string]any); ok {
					out = append(out, caseMismatches(ft.Elem(), m, append(slices.Clip(k), n))...)
				}
			}
		}
	}
	return out
}

func anyPath(key []string) []any {
	out := make([]any, len(key))
	for i, k := range key {
		out[i] = k
	}
	return out
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// keyString writes a key path as TOML would: dotted, quoting parts that are
// not bare keys.
func keyString(parts ...string) string {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		if bareKey.MatchString(p) {
			quoted[i] = p
		} else {
			quoted[i] = tomlString(p)
		}
	}
	return strings.Join(quoted, ".")
}
