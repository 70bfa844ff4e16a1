package tomlpos

import (
	"errors"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
)

// Failure is a go-toml decoding failure taken apart, for a caller to word
// in its own file's terms.
type Failure struct {
	Key []string // the key go-toml was decoding; empty when it does not say
	Msg string   // go-toml's message, without its "toml: " prefix
	// Got and Want are set for a value of the wrong type: the TOML type
	// found ("integer", "inline table") and the Go type wanted as go-toml
	// prints it ("string", "[]string", "config.Function").
	Got, Want string
}

// Invalid words f as "invalid TOML: " and go-toml's message.
func Invalid(f Failure) string { return "invalid TOML: " + f.Msg }

// Error turns err, from decoding the TOML file at path, into a *diag.Error
// at the line go-toml stopped on, saying word(f) (Invalid when word is
// nil). An error that is not a *toml.DecodeError keeps its text, at line 0.
func Error(path string, err error, word func(Failure) string) *diag.Error {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return diag.Wrap(path, 0, err)
	}
	f := Failure{Key: de.Key(), Msg: strings.TrimPrefix(de.Error(), "toml: ")}
	// go-toml says "cannot decode TOML integer into string", or "… into
	// struct field config.Config.Runtime of type string".
	if rest, ok := strings.CutPrefix(f.Msg, "cannot decode TOML "); ok {
		if got, target, ok := strings.Cut(rest, " into "); ok {
			if i := strings.LastIndex(target, " of type "); i >= 0 {
				target = target[i+len(" of type "):]
			}
			f.Got, f.Want = got, target
		}
	}
	if word == nil {
		word = Invalid
	}
	line, _ := de.Position()
	return &diag.Error{Path: path, Line: line, Msg: word(f), Err: err}
}
