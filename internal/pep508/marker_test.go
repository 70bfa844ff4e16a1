package pep508

import (
	"fmt"
	"strings"
	"testing"
)

// lambdaTarget is one Lambda runtime and architecture.
type lambdaTarget struct {
	minor int // python3.<minor>
	arm   bool
}

func (tg lambdaTarget) env(t *testing.T) Env {
	t.Helper()
	arch := "x86_64"
	if tg.arm {
		arch = "arm64"
	}
	e, err := TargetEnv(fmt.Sprintf("python3.%d", tg.minor), arch)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func lambdaTargets() []lambdaTarget {
	var out []lambdaTarget
	for minor := 9; minor <= 14; minor++ {
		out = append(out, lambdaTarget{minor, false}, lambdaTarget{minor, true})
	}
	return out
}

// Markers as lock files and requirements files write them, on every Lambda
// target: python3.9..python3.14 on x86_64 and arm64 (platform_machine
// "aarch64").
func TestMarkersOnLambdaTargets(t *testing.T) {
	always := func(lambdaTarget) bool { return true }
	never := func(lambdaTarget) bool { return false }
	cases := []struct {
		marker string
		want   func(lambdaTarget) bool
	}{
		{"sys_platform == 'win32'", never},
		{"sys_platform != 'win32'", always},
		{"sys_platform == 'linux'", always},
		{"sys_platform == 'darwin' or sys_platform == 'cygwin'", never},
		{"os_name == 'nt'", never},
		{`os_name == "posix"`, always},
		{"platform_system == 'Windows'", never},
		{"platform_system != 'Darwin'", always},
		{"platform_machine == 'aarch64' and python_version >= '3.10'", func(t lambdaTarget) bool { return t.arm && t.minor >= 10 }},
		{"platform_machine == 'x86_64'", func(t lambdaTarget) bool { return !t.arm }},
		{"platform_machine == 'arm64' or platform_machine == 'AMD64'", never}, // macOS and Windows spellings
		{"python_full_version < '3.11'", func(t lambdaTarget) bool { return t.minor < 11 }},
		{"python_full_version >= '3.11.4'", func(t lambdaTarget) bool { return t.minor >= 11 }},
		{"python_full_version < '3.12.4'", func(t lambdaTarget) bool { return t.minor < 12 }},
		{"python_full_version == '3.14.*'", func(t lambdaTarget) bool { return t.minor == 14 }},
		{"python_version < '3.10'", func(t lambdaTarget) bool { return t.minor < 10 }},
		{"python_version <= '3.11'", func(t lambdaTarget) bool { return t.minor <= 11 }},
		{"python_version > '3.12'", func(t lambdaTarget) bool { return t.minor > 12 }},
		{"python_version == '3.1'", never}, // a version comparison: 3.10 is not 3.1
		{"python_version > '3.1'", always},
		{"python_version ~= '3.11'", func(t lambdaTarget) bool { return t.minor >= 11 }},
		{"python_version == '3.*'", always},
		{"python_version != '3.12.*'", func(t lambdaTarget) bool { return t.minor != 12 }},
		{"python_version === '3.13'", func(t lambdaTarget) bool { return t.minor == 13 }},
		{"python_version in '3.9 3.10'", func(t lambdaTarget) bool { return t.minor == 9 || t.minor == 10 }},
		{"'3.1' in python_version", func(t lambdaTarget) bool { return t.minor >= 10 }}, // a substring test
		{"'3.10' < python_version", func(t lambdaTarget) bool { return t.minor > 10 }},
		{"'3.10' >= python_version", func(t lambdaTarget) bool { return t.minor <= 10 }},
		{"implementation_name == 'pypy'", never},
		{"implementation_name == 'cpython'", always},
		{"platform_python_implementation == 'CPython'", always},
		{"platform_python_implementation != 'PyPy'", always},
		{"implementation_version >= '3.12'", func(t lambdaTarget) bool { return t.minor >= 12 }},
		{"platform_release >= '5.10'", never}, // unknown on Lambda: no version satisfies it
		{"platform_version == ''", always},
		{"extra == 'security'", never},
		{"extra != 'security'", always},
		{"'dev' in dependency_groups", never},
		{"python_version < '3.11' and (sys_platform == 'linux' or sys_platform == 'darwin')", func(t lambdaTarget) bool { return t.minor < 11 }},
		// "and" binds tighter than "or".
		{"python_version < '3.11' and sys_platform == 'win32' or platform_machine == 'aarch64'", func(t lambdaTarget) bool { return t.arm }},
		{"python_version < '3.11' and (sys_platform == 'win32' or platform_machine == 'aarch64')", func(t lambdaTarget) bool { return t.minor < 11 && t.arm }},
		{"platform_machine == 'aarch64' or python_version >= '3.13' and sys_platform == 'win32'", func(t lambdaTarget) bool { return t.arm }},
		{"python_full_version >= '3.10' and python_full_version < '3.13' and platform_machine == 'x86_64'", func(t lambdaTarget) bool { return !t.arm && t.minor >= 10 && t.minor < 13 }},
		{"os.name == 'posix' and platform.machine == 'aarch64'", func(t lambdaTarget) bool { return t.arm }},
	}
	for _, c := range cases {
		m, err := ParseMarker(c.marker)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", c.marker, err)
			continue
		}
		for _, tg := range lambdaTargets() {
			if got := m.Evaluate(tg.env(t)); got != c.want(tg) {
				t.Errorf("%q on python3.%d arm64=%v = %v, want %v", c.marker, tg.minor, tg.arm, got, c.want(tg))
			}
		}
	}
}

func TestTargetEnvErrors(t *testing.T) {
	for _, c := range [][2]string{{"python3.8", "x86_64"}, {"python3.15", "arm64"}, {"nodejs20.x", "x86_64"}, {"python3.12", "aarch64"}, {"python3.12", ""}} {
		if _, err := TargetEnv(c[0], c[1]); err == nil {
			t.Errorf("TargetEnv(%q, %q) succeeded", c[0], c[1])
		}
	}
}

func TestMarkerExtrasAndGroups(t *testing.T) {
	base, err := TargetEnv("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	env := base.WithExtras("Security", "foo_bar").WithGroups("Dev")
	cases := []struct {
		marker string
		want   bool
	}{
		{"extra == 'security'", true}, {"extra == 'SECURITY'", true}, {"extra == 'Foo.Bar'", true},
		{"'foo-bar' == extra", true}, {"extra == 'socks'", false}, {"extra != 'socks'", true},
		{"extra != 'security'", false}, {"extra == ''", false},
		{"python_version >= '3.8' and extra == 'security'", true},
		{"extra < 'z'", false}, {"extra in 'security'", false}, // undefined on a set of extras
		{"'security' in extras", true}, {"'Foo_Bar' in extras", true}, {"'socks' in extras", false},
		{"'socks' not in extras", true}, {"'dev' in dependency_groups", true}, {"'DEV' in dependency_groups", true},
		{"'docs' not in dependency_groups", true}, {"'security' in dependency_groups", false},
	}
	for _, c := range cases {
		m, err := ParseMarker(c.marker)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", c.marker, err)
			continue
		}
		if got := m.Evaluate(env); got != c.want {
			t.Errorf("%q with extras [security foo_bar] groups [dev] = %v, want %v", c.marker, got, c.want)
		}
	}
	// Without extras, extra is the empty string.
	for marker, want := range map[string]bool{"extra == ''": true, "extra <= ''": true, "extra != ''": false, "extra in 'abc'": true, "'x' in extras": false} {
		if got := mustMarker(t, marker).Evaluate(base); got != want {
			t.Errorf("%q without extras = %v, want %v", marker, got, want)
		}
	}
	// Extras given unnormalised in a hand-built Env still match.
	if !mustMarker(t, "extra == 'foo-bar'").Evaluate(Env{Extras: []string{"Foo_Bar"}}) {
		t.Error("an unnormalised extra in Env.Extras does not match")
	}
}

func mustMarker(t *testing.T, s string) *Marker {
	t.Helper()
	m, err := ParseMarker(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Comparisons packaging leaves undefined (it raises) are false here; strings
// compare by the current specification's rules.
func TestUndefinedComparisons(t *testing.T) {
	env, err := TargetEnv("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"os_name ~= 'posix'": false, "os_name === 'posix'": false, "'2.7.0' ~= os_name": false,
		"python_version ~= '3'": false, "python_version === ''": false,
		"os_name < 'z'": false, "os_name > 'a'": false, "os_name <= 'posix'": true, "os_name >= 'posix'": true,
		"os_name >= 'a'": false, "python_version == 'foo'": false, "python_version != 'foo'": true,
		"python_version < 'foo'": false, "python_version <= '3.12'": true,
		// One undefined comparison does not spoil the rest.
		"os_name == 'posix' or os_name ~= 'x'": true, "os_name ~= 'x' or os_name == 'posix'": true,
		"os_name == 'posix' and os_name ~= 'x'": false,
		// Written back to front, the literal is the left side.
		"'3.12' ~= python_version": true, "'posix' in os_name": true, "'posix' not in os_name": false,
		"'3.12' <= python_version": true, "'3.12' < python_version": false, "'=3.12' < python_version": false,
	}
	for marker, want := range cases {
		if got := mustMarker(t, marker).Evaluate(env); got != want {
			t.Errorf("%q = %v, want %v", marker, got, want)
		}
	}
}

func TestMarkerUntaggedPython(t *testing.T) {
	// platform.python_version() of a CPython built from a checkout.
	env := Env{Values: map[string]string{"python_full_version": "3.11.1+", "python_version": "3.11"}}
	for marker, want := range map[string]bool{
		"python_full_version < '3.12'": true, "python_full_version == '3.11.1'": true,
		"python_full_version == '3.11.1+local'": true, "python_full_version > '3.11.1'": false,
		"'3.11.1+local' == python_full_version": true,
	} {
		if got := mustMarker(t, marker).Evaluate(env); got != want {
			t.Errorf("%q with python_full_version 3.11.1+ = %v, want %v", marker, got, want)
		}
	}
}

func TestParseMarkerInvalid(t *testing.T) {
	cases := map[string]string{
		"":                                   "expected a marker variable",
		"python_version":                     "expected a comparison operator",
		"(python_version)":                   "expected a comparison operator",
		"this_isnt_a_real_variable >= '1.0'": "unknown marker variable",
		"platform.release == 'x'":            "unknown marker variable",
		"(python_version == '2.7' and os_name == 'linux'": "expected ')'",
		"(python_version == '2.7') with random text":      "expected 'and', 'or' or the end",
		"os_name == 'x":         "unterminated string",
		"os_name notin 'x'":     "expected a comparison operator",
		"os_name not 'x'":       "expected 'in' after 'not'",
		"'3.6'inpython_version": "expected a comparison operator",
		"os_name = 'x'":         "expected a comparison operator",
		"os_name == 'x' and":    "unexpected end of marker",
		// Stricter than packaging:
		"'a' == 'b'":              "both strings",
		"os_name == sys_platform": "both variables",
		"extra == os_name":        "both variables",
		"extras == 'x'":           "is a set",
		"'x' == extras":           "only in and not in apply",
		"'x' < dependency_groups": "only in and not in apply",
		`os_name == "C:\\x"`:      "cannot hold",
		"os_name == 'a\nb'":       "cannot hold",
		strings.Repeat("(", 201) + "os_name == 'x'" + strings.Repeat(")", 201): "nested more than 200",
	}
	for marker, want := range cases {
		_, err := ParseMarker(marker)
		if err == nil {
			t.Errorf("ParseMarker(%q) succeeded", marker)
			continue
		}
		if !strings.HasPrefix(err.Error(), "invalid marker ") || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "at column ") {
			t.Errorf("ParseMarker(%q): %v; want it to mention %q", marker, err, want)
		}
	}
	if _, err := ParseMarker(strings.Repeat("(", 200) + "os_name == 'x'" + strings.Repeat(")", 200)); err != nil {
		t.Errorf("200 nested parentheses: %v", err)
	}
}

func TestMarkerForms(t *testing.T) {
	cases := []struct{ in, canonical string }{
		{"python_version == '2.7'", `python_version == "2.7"`},
		{`python_version == "2.7" and os_name == "linux" or sys_platform == "win32"`, `python_version == "2.7" and os_name == "linux" or sys_platform == "win32"`},
		{`(python_version == "2.7")`, `python_version == "2.7"`},
		{`(python_version == "2.7" and sys_platform == "win32")`, `python_version == "2.7" and sys_platform == "win32"`},
		{`python_version == "2.7" and (sys_platform == "win32" or sys_platform == "linux")`, `python_version == "2.7" and (sys_platform == "win32" or sys_platform == "linux")`},
		{"((os_name=='a'))and(os_name=='b'or os_name=='c')", `os_name == "a" and (os_name == "b" or os_name == "c")`},
		{"extra == 'S_P__A_M'", `extra == "s-p-a-m"`},
		{"'S_P__A_M' == extra", `"s-p-a-m" == extra`},
		{"'Foo.Bar' in extras", `"foo-bar" in extras`},
		{`os_name == "it's"`, `os_name == "it's"`},
		{`os_name == '"quoted"'`, `os_name == '"quoted"'`},
		{"os.name == 'x' and sys.platform == 'y' and platform.version == 'z' and platform.machine == 'm'",
			`os_name == "x" and sys_platform == "y" and platform_version == "z" and platform_machine == "m"`},
		{"python_implementation == 'CPython' or platform.python_implementation != 'PyPy'",
			`platform_python_implementation == "CPython" or platform_python_implementation != "PyPy"`},
		{"'8' not  in\tplatform.version", `"8" not in platform_version`},
		{"  python_version >= '3.9'  ", `python_version >= "3.9"`},
	}
	for _, c := range cases {
		m := mustMarker(t, c.in)
		if m.String() != strings.TrimSpace(c.in) {
			t.Errorf("ParseMarker(%q).String() = %q", c.in, m.String())
		}
		if got := m.Canonical(); got != c.canonical {
			t.Errorf("ParseMarker(%q).Canonical() = %q, want %q", c.in, got, c.canonical)
		}
	}
	var nilMarker *Marker
	if nilMarker.String() != "" || nilMarker.Canonical() != "" || !nilMarker.Evaluate(Env{}) {
		t.Error("the nil marker should print empty and hold")
	}
}

// An Env from TargetEnv keeps its version values parsed; changing Values
// afterwards must still count.
func TestEnvValuesChangedAfterTargetEnv(t *testing.T) {
	env, err := TargetEnv("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	m := mustMarker(t, "python_full_version >= '3.12.5' and python_version == '3.12'")
	if !m.Evaluate(env) {
		t.Fatal("3.12.11 should satisfy the marker")
	}
	env.Values["python_full_version"] = "3.12.1"
	if m.Evaluate(env) {
		t.Error("the marker still sees the old python_full_version")
	}
	env.Values["python_full_version"] = " 3.12.11" // whitespace: === would see it
	if !m.Evaluate(env) || mustMarker(t, "python_full_version === '3.12.11'").Evaluate(env) {
		t.Error("a value with whitespace around it compares wrongly")
	}
}

// Lock files evaluate markers millions of times: Evaluate must not allocate.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	target, err := TargetEnv("python3.12", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	target = target.WithExtras("security").WithGroups("dev")
	byHand := Env{Values: map[string]string{"python_version": "3.12", "python_full_version": "3.12.11", "os_name": "posix"}, Extras: []string{"Security"}}
	for _, s := range []string{
		"python_full_version >= '3.10' and python_full_version < '3.13' and platform_machine == 'aarch64'",
		"sys_platform == 'win32' or (extra == 'security' and 'dev' in dependency_groups)",
		"'3.10' < python_version and python_version != '3.11.*' and implementation_name != 'pypy'",
		"python_version ~= '3.1' or platform_release >= '5' or 'x' in os_name",
	} {
		m := mustMarker(t, s)
		for _, env := range []Env{target, byHand} {
			if n := testing.AllocsPerRun(100, func() { m.Evaluate(env) }); n != 0 {
				t.Errorf("Evaluate(%q) allocates %v times", s, n)
			}
		}
	}
}
