package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/planner"
)

var starterCases = []struct {
	name string
	in   StarterInput
	want func(c *Config) // turns Default into what the starter must parse to
}{
	{"nothing found", StarterInput{}, func(c *Config) {}},
	{"uv workspace", StarterInput{
		Workspace:  true,
		Discovered: []string{"packages/orders", "packages/users"},
	}, func(c *Config) {}},
	{"functions folder", StarterInput{
		Runtime:       "python3.13",
		Architectures: []string{"arm64"},
		Discovered:    []string{"functions/a", "functions/b"},
	}, func(c *Config) {
		c.Runtime = "python3.13"
		c.Architectures = []string{"arm64"}
	}},
	{"explicit globs", StarterInput{
		Runtime:       "python3.9",
		Architectures: []string{"x86_64", "arm64"},
		Functions:     []string{"services/*/lambda", "jobs/**"},
		Discovered:    []string{"services/a/lambda", "jobs/nightly"},
	}, func(c *Config) {
		c.Runtime = "python3.9"
		c.Architectures = []string{"x86_64", "arm64"}
		c.Functions = []string{"services/*/lambda", "jobs/**"}
	}},
	{"runtime source, left out folders and a function's own runtime", StarterInput{
		Runtime:       "python3.11",
		RuntimeSource: `requires-python in pyproject.toml (">=3.11"): the oldest Lambda runtime it allows, said at some length so that the comment wraps`,
		Functions:     []string{"functions/*"},
		Discovered:    []string{"functions/a (uv workspace member)", "functions/b (pyproject.toml + poetry.lock)"},
		LeftOut:       []string{"jobs/a: functions/a already has the name \"a\""},
		Overrides: map[string]StarterOverride{
			"b":     {Runtime: "python3.13", Why: `requires-python ">=3.13" in functions/b/pyproject.toml does not allow python3.11`},
			"a.b c": {Runtime: "python3.12", Why: "a name that needs quoting"},
		},
	}, func(c *Config) {
		c.Runtime = "python3.11"
		c.Functions = []string{"functions/*"}
		c.Function = map[string]Function{"b": {Runtime: "python3.13"}, "a.b c": {Runtime: "python3.12"}}
	}},
	{"strings that need quoting", StarterInput{
		Functions:  []string{`odd "quoted"/*`, `back\\slash/*`, "tab\there/*"},
		Discovered: []string{"new\nline", "carriage\rreturn", "nul\x00", "bad\xffutf8", "# = [x]", "ünïcode"},
	}, func(c *Config) {
		c.Functions = []string{`odd "quoted"/*`, `back\\slash/*`, "tab\there/*"}
	}},
}

func TestStarterParses(t *testing.T) {
	for _, tc := range starterCases {
		t.Run(tc.name, func(t *testing.T) {
			data := Starter(tc.in)
			got, err := Parse("layers.toml", data)
			if err != nil {
				t.Fatalf("Parse(Starter) = %v\n%s", err, data)
			}
			want := Default(".")
			want.Path = "layers.toml"
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(Starter) =\n%+v\nwant\n%+v\n%s", got, want, data)
			}
			for _, d := range tc.in.Discovered {
				if !strings.Contains(string(data), commentText(d)) {
					t.Errorf("discovered folder %q is not listed", d)
				}
			}
		})
	}
}

// commentedSetting matches a commented-out key or table, not prose.
var commentedSetting = regexp.MustCompile(`(?m)^# ([a-z0-9_]+ = |\[)`)

// uncomment turns every commented-out setting of a starter file on.
func uncomment(data []byte) []byte {
	return commentedSetting.ReplaceAll(data, []byte("$1"))
}

// TestStarterCommentedDefaults turns every commented-out setting on: the
// file must still parse, the defaults it shows must be the real ones, and
// every key of the schema must appear, so a key added later cannot be
// forgotten in the starter.
func TestStarterCommentedDefaults(t *testing.T) {
	for _, tc := range starterCases {
		t.Run(tc.name, func(t *testing.T) {
			data := uncomment(Starter(tc.in))
			got, err := Parse("layers.toml", data)
			if err != nil {
				t.Fatalf("Parse(uncommented Starter) = %v\n%s", err, data)
			}
			want := Default(".")
			tc.want(want)
			if got.Functions == nil {
				got.Functions = []string{} // `functions = []` is discovery, like nil
			}
			if want.Functions == nil {
				want.Functions = []string{}
			}
			if !reflect.DeepEqual(got.Functions, want.Functions) || got.Runtime != want.Runtime ||
				!reflect.DeepEqual(got.Architectures, want.Architectures) {
				t.Errorf("globals changed: %v %v %v", got.Runtime, got.Architectures, got.Functions)
			}
			if len(got.Exclude) != 0 || got.Limits != want.Limits || got.Layers.Prefix != "" || got.Layers.LocalInCode {
				t.Errorf("commented-out values are not the defaults: %+v %+v %+v", got.Exclude, got.Limits, got.Layers)
			}
			// The example override repeats the globals.
			if f, g := got.For("NAME"), got.For("other"); f.Runtime != g.Runtime ||
				!reflect.DeepEqual(f.Architectures, g.Architectures) || f.Package != g.Package {
				t.Errorf("example override %+v differs from the defaults %+v", f, g)
			}

			if i := bytes.Index(data, []byte("%!")); i >= 0 {
				t.Errorf("a formatting verb went wrong: %q", data[max(i-40, 0):i+20])
			}
			var doc map[string]any
			if err := toml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range missingKeys(reflect.TypeFor[Config](), doc, "") {
				t.Errorf("starter does not show key %s", k)
			}
		})
	}
}

// missingKeys lists the keys of struct t that doc lacks, recursively.
func missingKeys(t reflect.Type, doc map[string]any, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		k := tomlKey(f)
		if k == "" {
			continue
		}
		v, ok := doc[k]
		if !ok {
			out = append(out, prefix+k)
			continue
		}
		sub, _ := v.(map[string]any)
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			out = append(out, missingKeys(ft, sub, prefix+k+".")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			if len(sub) == 0 {
				out = append(out, prefix+k+".NAME")
			}
			for name, e := range sub {
				if _, example := sub["NAME"]; example && name != "NAME" {
					continue // a real table (a function's own runtime) sets what it needs
				}
				m, _ := e.(map[string]any)
				out = append(out, missingKeys(ft.Elem(), m, prefix+k+"."+name+".")...)
			}
		}
	}
	return out
}

func TestWriteStarter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "layers.toml")
	data := Starter(StarterInput{})

	if err := WriteStarter(path, data, false); err != nil {
		t.Fatalf("first write: %v", err)
	}
	checkFile(t, path, data)

	err := WriteStarter(path, []byte("other"), false)
	if !errors.Is(err, fs.ErrExist) || !diag.IsInput(err) {
		t.Fatalf("second write without force = %v, want an input error wrapping fs.ErrExist", err)
	}
	if want := path + ": already exists; not overwriting it"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	checkFile(t, path, data)

	if err := WriteStarter(path, []byte("forced\n"), true); err != nil {
		t.Fatalf("forced write: %v", err)
	}
	checkFile(t, path, []byte("forced\n"))

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	err = WriteStarter(filepath.Join(dir, "missing", "layers.toml"), data, false)
	if err == nil || !strings.HasPrefix(err.Error(), "write config: ") {
		t.Errorf("write into a missing folder = %v, want a write config error", err)
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("%s mode = %v, want 0644", path, st.Mode())
	}
}

func TestTomlString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "nul\x00bell\x07del\x7f", "ünïcode ✓"} {
		var v struct{ V string }
		if err := toml.Unmarshal([]byte("V = "+tomlString(s)), &v); err != nil || v.V != s {
			t.Errorf("tomlString(%q) = %s reads back as %q, %v", s, tomlString(s), v.V, err)
		}
	}
}

// The starter's commented keys show their defaults; max_extra's lives in
// the planner.
func TestStarterMaxExtraIsTheDefault(t *testing.T) {
	text := string(Starter(StarterInput{}))
	m := regexp.MustCompile(`(?m)^# max_extra = ([0-9.]+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no max_extra line in:\n%s", text)
	}
	if got, err := strconv.ParseFloat(m[1], 64); err != nil || got != planner.DefaultMaxExtra {
		t.Errorf("starter says max_extra = %s, the default is %v", m[1], planner.DefaultMaxExtra)
	}
}
