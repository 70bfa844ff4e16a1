package tomlpos

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func TestError(t *testing.T) {
	type doc struct {
		Name  string   `toml:"name"`
		Extra []string `toml:"extra"`
	}
	cases := []struct {
		name, text string
		want       Failure
		line       int
	}{
		{"syntax", "name = \"a\"\n\nextra = 1.0\"\n", Failure{Msg: "expected newline but got U+0022 '\"'"}, 3},
		{"struct field", "\nname = 7\n", Failure{Key: []string{"name"}, Got: "integer", Want: "string"}, 2},
		{"array element", "extra = [\n\"a\",\n{ x = 1 }]\n", Failure{Key: []string{"extra"}, Got: "inline table", Want: "string"}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d doc
			err := toml.Unmarshal([]byte(c.text), &d)
			var got Failure
			e := Error("f.toml", err, func(f Failure) string { got = f; return "worded" })
			if e.Path != "f.toml" || e.Line != c.line || e.Msg != "worded" || !errors.Is(e, err) {
				t.Errorf("got %q at line %d, want \"worded\" at f.toml:%d wrapping %v", e.Msg, e.Line, c.line, err)
			}
			if c.want.Msg == "" {
				c.want.Msg = got.Msg // type errors: go-toml's wording is not ours to pin
			}
			if got.Msg != c.want.Msg || got.Got != c.want.Got || got.Want != c.want.Want || !slices.Equal(got.Key, c.want.Key) {
				t.Errorf("failure %+v, want %+v", got, c.want)
			}
		})
	}
	if e := Error("f.toml", errors.New("disk on fire"), nil); e.Line != 0 || e.Msg != "disk on fire" {
		t.Errorf("other error: %v", e)
	}
	var d doc
	if e := Error("f.toml", toml.Unmarshal([]byte("name = "), &d), nil); !strings.HasPrefix(e.Msg, "invalid TOML: ") {
		t.Errorf("default wording: %q", e.Msg)
	}
}
