package pep508

import (
	"slices"
	"strings"
	"testing"
)

// PEP 508's examples ("The complete grammar" and the text), with placeholder hosts.
func TestParseRequirementPEPExamples(t *testing.T) {
	cases := []struct {
		in                string
		name              string
		extras            []string
		spec, url, marker string // marker in canonical form
		pin               string
	}{
		{in: "A", name: "a"},
		{in: "A.B-C_D", name: "a-b-c-d"},
		{in: "aa", name: "aa"},
		{in: "name", name: "name"},
		{in: "name<=1", name: "name", spec: "<=1"},
		{in: "name>=3", name: "name", spec: ">=3"},
		{in: "name>=3,<2", name: "name", spec: ">=3,<2"},
		{in: "name (>=3)", name: "name", spec: ">=3"},
		{in: "name(>=3,<4)", name: "name", spec: ">=3,<4"},
		{in: "name ( == 4 )", name: "name", spec: "== 4", pin: "4"},
		{in: "name[quux, strange];python_version<'2.7' and platform_version=='2'", name: "name", extras: []string{"quux", "strange"},
			marker: `python_version < "2.7" and platform_version == "2"`},
		{in: "name[quux, strange]", name: "name", extras: []string{"quux", "strange"}},
		{in: "name@https://index.example.invalid/name.zip", name: "name", url: "https://index.example.invalid/name.zip"},
		{in: "name @ https://index.example.invalid/name.zip ; extra == 'feature'", name: "name", url: "https://index.example.invalid/name.zip", marker: `extra == "feature"`},
		{in: "name [fred,bar] @ https://index.example.invalid/name.zip ; python_version=='2.7'", name: "name", extras: []string{"bar", "fred"},
			url: "https://index.example.invalid/name.zip", marker: `python_version == "2.7"`},
		{in: "pip @ https://files.example.invalid/pip-1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686", name: "pip",
			url: "https://files.example.invalid/pip-1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686"},
		{in: `requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < "2.7"`, name: "requests", extras: []string{"security", "tests"},
			spec: ">= 2.8.1, == 2.8.*", marker: `python_version < "2.7"`},
		{in: "name; os_name=='a' and os_name=='b' or os_name=='c'", name: "name", marker: `os_name == "a" and os_name == "b" or os_name == "c"`},
		{in: "name; os_name=='a' and (os_name=='b' or os_name=='c')", name: "name", marker: `os_name == "a" and (os_name == "b" or os_name == "c")`},
		{in: "foo[]", name: "foo"},
		{in: "foo[Bar, bar,BAR ]", name: "foo", extras: []string{"bar"}},
		{in: "name ()", name: "name"},
		{in: "name===arbitrary.string", name: "name", spec: "===arbitrary.string", pin: "arbitrary.string"},
		{in: "name>=1.0,", name: "name", spec: ">=1.0,"},
		{in: "numpy==2.1.0 ; python_full_version >= '3.10' and platform_machine == 'aarch64'", name: "numpy", spec: "==2.1.0",
			marker: `python_full_version >= "3.10" and platform_machine == "aarch64"`, pin: "2.1.0"},
		{in: "pkg[Extra_1] @ git+https://git.example.invalid/pkg.git@v1.0 ; python_version >= '3.9'", name: "pkg", extras: []string{"extra-1"},
			url: "git+https://git.example.invalid/pkg.git@v1.0", marker: `python_version >= "3.9"`},
		{in: "local @ file:///work/libs/local", name: "local", url: "file:///work/libs/local"},
		{in: "\t  Django >=4.2 , <5 \n", name: "django", spec: ">=4.2 , <5"},
	}
	for _, c := range cases {
		r, err := ParseRequirement(c.in)
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", c.in, err)
			continue
		}
		if r.Name != c.name || !slices.Equal(r.Extras, c.extras) || r.Specifier.String() != c.spec || r.URL != c.url || r.Marker.Canonical() != c.marker {
			t.Errorf("ParseRequirement(%q) = name %q extras %q spec %q url %q marker %q", c.in, r.Name, r.Extras, r.Specifier, r.URL, r.Marker.Canonical())
		}
		if pin, _ := r.Specifier.Pin(); pin != c.pin {
			t.Errorf("ParseRequirement(%q) pins %q, want %q", c.in, pin, c.pin)
		}
		roundTrip(t, r)
	}
}

func TestRequirementString(t *testing.T) {
	cases := map[string]string{
		"Name[B,a]>=3; python_version == '2.7'":              "name[a,b]>=3; python_version == '2.7'",
		"name @ https://index.example.invalid/x":             "name @ https://index.example.invalid/x",
		"name@https://index.example.invalid/x ;os_name=='a'": "name @ https://index.example.invalid/x ; os_name=='a'",
		"name (>= 1.0 , <2)":                                 "name>= 1.0 , <2",
		"name":                                               "name",
		"name===x":                                           "name===x",
	}
	for in, want := range cases {
		r, err := ParseRequirement(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != want {
			t.Errorf("ParseRequirement(%q).String() = %q, want %q", in, got, want)
		}
		roundTrip(t, r)
	}
}

func TestParseRequirementInvalid(t *testing.T) {
	cases := map[string]string{
		"":                                   "expected a project name",
		"==0.0":                              "expected a project name",
		"foo!":                               "does not start with an operator",
		"name 1.0":                           "does not start with an operator",
		"name==1.0.org1":                     "invalid version",
		"name==":                             "missing version",
		"name >= 1.0 #":                      "whitespace inside the version",
		"name[bar baz]":                      "expected ',' between extra names",
		"name[bar, baz,]":                    "expected an extra name after ','",
		"name[bar, baz >= 1.0":               "expected ',' or ']' at column 15",
		"name[bar, baz":                      "unclosed [",
		"name[":                              "unclosed [",
		"name[a]]":                           "does not start with an operator",
		"name (>= 1.0":                       "unclosed (",
		"black (>=20.*) ; extra == 'format'": "'.*' is only allowed with == and !=",
		"name>=1.0+local":                    "a local version is only allowed with == and !=",
		"name @ ":                            "expected a URL after @",
		"name @ https://index.example.invalid/; extra == 'x'": "write `url ; marker`",
		"name; (extra == 'example'":                           "expected ')'",
		"name; invalid_name":                                  "unknown marker variable",
		"name; '3.7' <= invalid_name":                         "unknown marker variable",
		"name==1.0;":                                          "empty marker",
		"name (>=1) x":                                        "expected ';'",
		"name>=1,,<2":                                         "empty clause",
		"name[,a]":                                            "expected an extra name at column 6",
		// Stricter than packaging, as PEP 508's grammar is:
		"foo_":                                   "bad project name",
		"foo[bar_]":                              "bad extra name",
		"name @ ./lib":                           "must start with a scheme",
		"name @ @https://index.example.invalid/": "must start with a scheme",
	}
	for in, want := range cases {
		_, err := ParseRequirement(in)
		if err == nil {
			t.Errorf("ParseRequirement(%q) succeeded", in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "invalid requirement ") || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRequirement(%q): %v; want it to mention %q", in, err, want)
		}
	}
}
