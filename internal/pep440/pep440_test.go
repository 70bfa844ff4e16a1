package pep440

import (
	"strings"
	"testing"
)

// PEP 440, "Normalization": every spelling on the left is the version on the right.
func TestNormalizedPEPExamples(t *testing.T) {
	cases := []struct{ in, want string }{
		// Case sensitivity
		{"1.1RC1", "1.1rc1"},
		// Integer normalization
		{"00", "0"}, {"09000", "9000"}, {"1.0.00", "1.0.0"}, {"1.01", "1.1"}, {"1.0a05", "1.0a5"},
		// Pre-release separators and spelling
		{"1.1.a1", "1.1a1"}, {"1.1-a1", "1.1a1"}, {"1.1_a1", "1.1a1"}, {"1.0a.1", "1.0a1"}, {"1.0a-1", "1.0a1"},
		{"1.1alpha1", "1.1a1"}, {"1.1beta2", "1.1b2"}, {"1.1c3", "1.1rc3"}, {"1.1pre3", "1.1rc3"}, {"1.1preview3", "1.1rc3"},
		// Implicit pre-release number
		{"1.2a", "1.2a0"},
		// Post-release separators, spelling, implicit number, implicit post release
		{"1.2-post2", "1.2.post2"}, {"1.2post2", "1.2.post2"}, {"1.2_post2", "1.2.post2"}, {"1.2.post-2", "1.2.post2"},
		{"1.0-r4", "1.0.post4"}, {"1.0-rev4", "1.0.post4"}, {"1.2.post", "1.2.post0"}, {"1.0-1", "1.0.post1"},
		// Development release separators and implicit number
		{"1.2-dev2", "1.2.dev2"}, {"1.2dev2", "1.2.dev2"}, {"1.2.dev", "1.2.dev0"},
		// Local version segments
		{"1.0+ubuntu-1", "1.0+ubuntu.1"}, {"1.0+ubuntu_1", "1.0+ubuntu.1"}, {"1.0+Ubuntu.01", "1.0+ubuntu.1"},
		// Preceding v, surrounding whitespace
		{"v1.0", "1.0"}, {"V1.0", "1.0"}, {"  1.0\t\n", "1.0"}, {"\u202f1.0\u2029", "1.0"},
		// Epochs
		{"0!1.0", "1.0"}, {"1!1.0", "1!1.0"}, {"01!1.0", "1!1.0"},
		// Everything at once
		{"V1!2.0-RC01.Post-2-DEV_3+Local-07.X", "1!2.0rc1.post2.dev3+local.7.x"},
		// Numbers beyond 64 bits are exact.
		{"18446744073709551616.0", "18446744073709551616.0"},
	}
	for _, c := range cases {
		v, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := v.Normalized(); got != c.want {
			t.Errorf("Parse(%q).Normalized() = %q, want %q", c.in, got, c.want)
		}
		if v.String() != strings.TrimSpace(c.in) && !strings.ContainsRune(c.in, '\u202f') {
			t.Errorf("Parse(%q).String() = %q, want the input trimmed", c.in, v.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, s := range []string{"", "foo", "1.0+", "1..0", "1.0.", ".1", "1.0.post.post", "1.0-", "1!", "1.0+a..b",
		"1.0+_x", "1. 0", "1.0 a1", "1.*", "1.0+\u0130", "\u0661.\u0662", "1.0;", "1.0a1a2"} {
		if v, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", s, v.Normalized())
		} else if !strings.Contains(err.Error(), "invalid version") {
			t.Errorf("Parse(%q): unexpected error text %q", s, err)
		}
	}
}

// PEP 440, "Summary of permitted suffixes and relative ordering", plus
// final releases, date-based releases and epochs from the same text.
func TestOrderingPEPExamples(t *testing.T) {
	orders := [][]string{
		{"1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
			"1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7",
			"1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1"},
		{"0.9", "0.9.1", "0.9.2", "0.9.10", "0.9.11", "1.0", "1.0.1", "1.1", "2.0", "2.0.1"},
		{"2012.4", "2012.7", "2012.10", "2013.1", "2013.6"},
		{"2013.10", "2014.04", "1!1.0", "1!1.1", "1!2.0"},
	}
	for _, order := range orders {
		for i := 1; i < len(order); i++ {
			a, b := MustParse(order[i-1]), MustParse(order[i])
			if Compare(a, b) != -1 || Compare(b, a) != 1 {
				t.Errorf("want %s < %s", a, b)
			}
		}
	}
	equal := [][2]string{{"1.0", "1.0.0"}, {"1", "1.0.0.0"}, {"1.0rc1", "1.0c1"}, {"1.0+ABC", "1.0+abc"},
		{"1.0+a-b", "1.0+a.b"}, {"0!1.0", "1.0"}, {"v1.0", "1.0"}, {"1.0.post0", "1.0-0"}}
	for _, e := range equal {
		if c := Compare(MustParse(e[0]), MustParse(e[1])); c != 0 {
			t.Errorf("Compare(%s, %s) = %d, want 0", e[0], e[1], c)
		}
	}
}

func TestVersionPredicates(t *testing.T) {
	cases := []struct {
		v              string
		pre, post, dev bool
		local          string
	}{
		{"1.0", false, false, false, ""},
		{"1.0.dev0", true, false, true, ""},
		{"1.0a1", true, false, false, ""},
		{"1.0rc1.post1", true, true, false, ""},
		{"1.0.post1", false, true, false, ""},
		{"1.0.post1.dev1", true, true, true, ""},
		{"1.0+Ubuntu-1", false, false, false, "Ubuntu-1"},
	}
	for _, c := range cases {
		v := MustParse(c.v)
		if v.IsPrerelease() != c.pre || v.IsPostRelease() != c.post || v.IsDevRelease() != c.dev || v.Local() != c.local {
			t.Errorf("%s: pre %v post %v dev %v local %q", c.v, v.IsPrerelease(), v.IsPostRelease(), v.IsDevRelease(), v.Local())
		}
	}
	if z := (Version{}); Compare(z, MustParse("0")) != 0 || z.Normalized() != "0" {
		t.Errorf("the zero Version should be 0, is %q", z.Normalized())
	}
}

// Every example of PEP 440's "Version specifiers" section, plus pypa/packaging's.
func TestSpecifierPEPExamples(t *testing.T) {
	cases := []struct {
		spec, version string
		want          bool
	}{
		{"", "1.0", true},
		{"", "not a version", true},
		// Compatible release: ~=2.2 is >=2.2, ==2.*
		{"~= 2.2", "2.2", true}, {"~=2.2", "2.3", true}, {"~=2.2", "2.9.9", true}, {"~=2.2", "3.0", false}, {"~=2.2", "2.1", false},
		{"~=1.4.5", "1.4.5", true}, {"~=1.4.5", "1.4.9", true}, {"~=1.4.5", "1.5.0", false}, {"~=1.4.5", "1.4.4", false},
		{"~=2.2.post3", "2.2.post3", true}, {"~=2.2.post3", "2.3", true}, {"~=2.2.post3", "2.2", false}, {"~=2.2.post3", "3.0", false},
		{"~=1.4.5a4", "1.4.5a4", true}, {"~=1.4.5a4", "1.4.5", true}, {"~=1.4.5a4", "1.4.6", true}, {"~=1.4.5a4", "1.5", false},
		{"~=2.2.0", "2.2.9", true}, {"~=2.2.0", "2.3", false},
		{"~=1.4.5.0", "1.4.5.9", true}, {"~=1.4.5.0", "1.4.6", false},
		{"~=1!2.2", "1!2.5", true}, {"~=1!2.2", "2.5", false}, {"~=2.2", "1!2.5", false},
		// Version matching, zero padding, prefix matching
		{"==1.1", "1.1.post1", false}, {"==1.1.post1", "1.1.post1", true}, {"==1.1.*", "1.1.post1", true},
		{"==1.1", "1.1.0", true}, {"==1.1.0", "1.1", true}, {"==1.1", "1.1a1", false}, {"==1.1a1", "1.1a1", true},
		{"==1.1.*", "1.1a1", true}, {"==1.1.*", "1.1.dev1", true}, {"==1.1.*", "1.10", false}, {"==1.1.*", "1.1.0.0.1", true},
		{"==1.0.0.*", "1", true}, {"==1!2.*", "1!2.5", true}, {"==2.*", "1!2.5", false},
		// Local versions: a public specifier ignores them, a local one does not
		{"==1.0", "1.0+downstream1", true}, {"==1.0+downstream1", "1.0+downstream1", true},
		{"==1.0+downstream1", "1.0", false}, {"==1.0+downstream1", "1.0+downstream2", false},
		{"==1.0+Down-Stream.01", "1.0+down.stream.1", true},
		// Version exclusion
		{"!=1.1", "1.1.post1", true}, {"!=1.1.post1", "1.1.post1", false}, {"!=1.1.*", "1.1.post1", false},
		{"!=1.1", "1.1+local", false}, {"!=1.3.*", "1.4", true},
		// Inclusive ordered comparison
		{"<=2.0", "2.0+local", true}, {"<=2.0", "2.0.post1", false}, {">=2.0", "2.0+local", true}, {">=2.0", "2.0rc1", false},
		// Exclusive ordered comparison: >V excludes V's post-releases and local versions ...
		{">1.7", "1.7.1", true}, {">1.7", "1.7.0.post1", false}, {">1.7", "1.7+local", false}, {">1.7", "1.8.dev0", true},
		{">1.7.post2", "1.7.1", true}, {">1.7.post2", "1.7.0.post3", true}, {">1.7.post2", "1.7.0", false},
		{">1.7.post2", "1.7.post2+local", false},
		// ... and <V excludes V's pre-releases unless V is one.
		{"<3.1", "3.1.dev0", false}, {"<3.1", "3.1a1", false}, {"<3.1", "3.0.dev0", true}, {"<3.1", "3.0+local", true},
		{"<3.1a2", "3.1a1", true}, {"<3.1.post1", "3.1.dev1", true}, {"<3.1.post1", "3.1.post1.dev0", false},
		// Arbitrary equality: a case-insensitive string comparison
		{"===foobar", "foobar", true}, {"===foobar", "FooBar", true}, {"===1.0", "1.0", true}, {"===1.0", "1.0.0", false},
		{"===1.0", "1.0+downstream1", false}, {"===1.0", "v1.0", false}, {"===1.0", " 1.0", false},
		// Lists: every clause must hold
		{">=1.0, !=1.3.*, <2", "1.2", true}, {">=1.0, !=1.3.*, <2", "1.3.4", false}, {">= 1.0 , < 2", "2.0", false},
		{">=1.0,<2,", "1.5", true},
		// Pre-releases match like any version
		{">=1.0", "2.0a1", true},
		// Not a version: only === can hold
		{">=1.0", "not a version", false}, {"!=1.0", "not a version", false}, {"===foobar,>=1", "foobar", false},
	}
	for _, c := range cases {
		s, err := ParseSpecifier(c.spec)
		if err != nil {
			t.Errorf("ParseSpecifier(%q): %v", c.spec, err)
			continue
		}
		if got := s.Contains(c.version); got != c.want {
			t.Errorf("%q contains %q = %v, want %v", c.spec, c.version, got, c.want)
		}
		if v, err := Parse(c.version); err == nil && c.version == v.String() {
			if got := s.ContainsVersion(v); got != c.want {
				t.Errorf("%q ContainsVersion %q = %v, want %v", c.spec, c.version, got, c.want)
			}
		}
	}
}

func TestSpecifierInvalid(t *testing.T) {
	for _, s := range []string{"1.0", ">=", "~=1", ">=1.*", "==1.0+loc.*", ">1.0+local", ">=1.0,,<2", ",>=1", "=>1.0",
		"== 1.0 2", "==1.0rc1.*", "==1.0.post1.*", "==1.0.dev1.*", "===", "===a b", "===a)", "<==1", "=1.0", "~=1.*"} {
		if _, err := ParseSpecifier(s); err == nil {
			t.Errorf("ParseSpecifier(%q) succeeded", s)
		} else if !strings.HasPrefix(err.Error(), "invalid specifier ") {
			t.Errorf("ParseSpecifier(%q): unexpected error text %q", s, err)
		}
	}
}

func TestSpecifierString(t *testing.T) {
	for in, want := range map[string]string{"": "", " >=1.0 , <2 ": ">=1.0 , <2", "==1.*": "==1.*"} {
		s, err := ParseSpecifier(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != want || s.IsZero() != (want == "") {
			t.Errorf("ParseSpecifier(%q): String %q IsZero %v", in, s.String(), s.IsZero())
		}
	}
	c, ok := Clause("<", "=3.12")
	if !ok || c.String() != "<=3.12" || !c.Contains("3.12") {
		t.Errorf(`Clause("<", "=3.12") = %q, %v`, c.String(), ok)
	}
}

func TestPin(t *testing.T) {
	cases := map[string]string{"==1.2.3": "1.2.3", "===1.2.3": "1.2.3", "==1.2.3,>=1": "1.2.3", ">=1,==1.2.3": "1.2.3",
		">=1.2": "", "==1.*": "", "": "", "==1.0,<1": "", "== 2.0+cpu": "2.0+cpu", "===foo": "foo"}
	for spec, want := range cases {
		s, err := ParseSpecifier(spec)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.Pin()
		if got != want || ok != (want != "") {
			t.Errorf("Pin(%q) = %q, %v; want %q", spec, got, ok, want)
		}
	}
}

// Markers parse and match versions on every evaluation: none of this may allocate.
func TestHotPathsDoNotAllocate(t *testing.T) {
	s, err := ParseSpecifier(">=2.8.1,!=2.9.*,<3")
	if err != nil {
		t.Fatal(err)
	}
	a, b := MustParse("3.12.11"), MustParse("3.12.11+local")
	for name, f := range map[string]func(){
		"Parse":           func() { _, _ = Parse(" 3.12.11 ") },
		"Compare":         func() { Compare(a, b) },
		"Contains":        func() { s.Contains("2.31.0") },
		"ContainsVersion": func() { s.ContainsVersion(a) },
		"Clause":          func() { c, _ := Clause("<", "=3.12"); c.Contains("3.12.11") },
		"invalid Clause":  func() { Clause("~=", "3") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}
