package resolver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
)

// renderRequirements writes requirements as "line requirement [local=path] [editable]".
func renderRequirements(rs []Requirement) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		s := fmt.Sprintf("%d %s", r.Line, r.Requirement.String())
		if r.LocalPath != "" {
			s += " local=" + r.LocalPath
		}
		if r.Editable {
			s += " editable"
		}
		out[i] = s
	}
	return out
}

func renderRequirementMap(m map[string][]Requirement) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, rs := range m {
		out[k] = renderRequirements(rs)
	}
	return out
}

func TestParsePyproject(t *testing.T) {
	type want struct {
		name, version, python string
		poetry, dynamic       bool
		deps                  []string
		optional, groups      map[string][]string
		sources               map[string]UVSource
		workspace             *UVWorkspace
	}
	cases := []struct {
		root, rel string
		want      want
	}{
		{"testdata/pyproject", "pep621/pyproject.toml", want{
			name: "image-resizer", version: "3.1.0", python: ">=3.11",
			deps: []string{
				"11 pillow>=10.4,<12",
				"12 boto3~=1.35.0",
				"13 aws-lambda-powertools[tracer]==3.2.0",
				`14 pillow-heif>=0.18; platform_machine == "x86_64"`,
				"15 image-codecs local=vendor/image-codecs",
			},
			optional: map[string][]string{
				"s3-events": {"19 aws-lambda-powertools[parser]==3.2.0"},
				"avif":      {"20 pillow-avif-plugin>=1.4"},
				"all":       {"20 pillow-avif-plugin>=1.4", "19 aws-lambda-powertools[parser]==3.2.0"},
			},
			groups: map[string][]string{
				"test": {"25 pytest>=8.3", "26 moto[s3]>=5.0"},
				"lint": {"28 ruff==0.8.1"},
				"dev":  {"25 pytest>=8.3", "26 moto[s3]>=5.0", "28 ruff==0.8.1", "20 pillow-avif-plugin>=1.4"},
			},
		}},
		{"testdata/pyproject/uv-workspace", "pyproject.toml", want{
			name: "platform-monorepo", version: "0.0.0", python: ">=3.12",
			optional:  map[string][]string{},
			groups:    map[string][]string{"dev": {"9 pytest>=8.3", "9 mypy>=1.13"}},
			sources:   map[string]UVSource{"shared-utils": {Workspace: true}},
			workspace: &UVWorkspace{Members: []string{"functions/*", "libs/*"}, Exclude: []string{"functions/legacy"}},
		}},
		{"testdata/pyproject/uv-workspace", "functions/orders/pyproject.toml", want{
			name: "orders", version: "1.2.0", python: ">=3.12",
			deps: []string{
				"6 shared-utils",
				"7 pdf-tools>=0.4 local=vendor/pdf-tools editable",
				"8 internal-sdk @ git+https://git.example.invalid/platform/sdk.git@v2.3.0#subdirectory=python",
				"9 torch==2.5.1",
				"10 special-codec @ https://files.example.invalid/special_codec-1.0.tar.gz",
				"11 pydantic>=2.9",
			},
			optional: map[string][]string{},
			groups:   map[string][]string{"dev": {"15 pytest>=8.3"}},
			sources: map[string]UVSource{
				"shared-utils":  {Workspace: true},
				"pdf-tools":     {Path: "vendor/pdf-tools", Editable: true},
				"internal-sdk":  {Git: "https://git.example.invalid/platform/sdk.git", Ref: "v2.3.0", Subdirectory: "python"},
				"special-codec": {URL: "https://files.example.invalid/special_codec-1.0.tar.gz"},
				"pydantic":      {Index: "internal"},
				"torch":         {Index: "pytorch-cpu", Marker: mustMarker(t, "platform_machine == 'x86_64'")},
			},
		}},
		{"testdata/pyproject/uv-workspace", "functions/legacy/pyproject.toml", want{
			name: "legacy", version: "0.1.0", dynamic: true,
			optional: map[string][]string{}, groups: map[string][]string{},
		}},
		{"testdata/pyproject", "poetry1/pyproject.toml", want{
			name: "payments-webhook", version: "2.4.1", python: ">=3.11,<4.0", poetry: true,
			deps: []string{
				"9 requests>=2.31.0,<3.0.0",
				"10 boto3>=1.35,<1.36",
				"11 urllib3==2.*",
				"12 attrs",
				"13 certifi==2024.8.30",
				"14 simplejson>=3.19,<4",
				"15 cryptography", // an || constraint has no PEP 440 form
				"16 pydantic[email]>=2.9,<3.0",
				`17 uvloop>=0.21,<0.22; (sys_platform != 'win32') and (python_version >= "3.11")`,
				`18 pywin32>=308,<309; sys_platform == "win32"`,
				`21 numpy>=1.26,<2.0; python_version < "3.12"`,
				`22 numpy>=2.1,<3.0; python_version >= "3.12"`,
				"24 ledger local=libs/ledger editable",
				"25 signing @ git+https://git.example.invalid/payments/signing.git@v1.4.0",
				"26 zeromq>=0.0.3,<0.0.4",
				"27 legacy-codec>=0,<1",
			},
			optional: map[string][]string{"stripe": {"19 stripe>=11.1,<12.0"}},
			groups: map[string][]string{
				"test": {"33 pytest>=8.3,<9.0", "34 moto[s3,sqs]>=5.0,<6.0"},
				"lint": {"40 ruff==0.8.1"},
				"dev":  {"43 ipython>=8,<9"},
			},
		}},
		{"testdata/pyproject", "poetry2/pyproject.toml", want{
			name: "notifications", version: "0.7.0", python: ">=3.12,<4.0",
			deps: []string{
				"7 jinja2>=3.1,<4.0",
				"8 twilio>=9.3",
				"9 templates local=templates editable",
				"10 sdk @ git+https://git.example.invalid/platform/sdk.git@main",
			},
			optional: map[string][]string{"ses": {"14 boto3>=1.35"}},
			groups: map[string][]string{
				"dev":  {"25 pytest>=8.3,<9.0"},
				"lint": {"28 ruff>=0.8"},
			},
		}},
		{"testdata/poetry/monorepo", "functions/billing/pyproject.toml", want{
			name: "billing", version: "0.9.2", python: ">=3.11,<4.0", poetry: true,
			deps: []string{
				"10 requests>=2.31,<3.0",
				"11 boto3>=1.35,<1.36",
				"12 attrs",
				"13 python-dateutil==2.*",
				"14 pydantic[email]>=2.9,<3.0",
				`17 numpy>=1.26,<2.0; python_version < "3.12"`,
				`18 numpy>=2.1,<3.0; python_version >= "3.12"`,
				"20 shared-models local=libs/shared-models editable",
			},
			optional: map[string][]string{"payments": {"15 stripe>=10.0,<12.0"}},
			groups:   map[string][]string{"dev": {"26 pytest>=8.3,<9.0"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.rel, func(t *testing.T) {
			p, err := ParsePyproject(c.root, c.rel)
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				name: p.Name, version: p.Version, python: p.RequiresPython, poetry: p.Poetry, dynamic: p.DynamicDependencies,
				deps: renderRequirements(p.Dependencies), optional: renderRequirementMap(p.Optional), groups: renderRequirementMap(p.Groups),
				sources: p.Sources, workspace: p.Workspace,
			}
			if len(got.deps) == 0 {
				got.deps = nil
			}
			// Markers compare by text.
			for k, s := range got.sources {
				if w, ok := c.want.sources[k]; ok && s.Marker.String() == w.Marker.String() {
					s.Marker = w.Marker
					got.sources[k] = s
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, c.want)
			}
			for _, r := range p.Dependencies {
				if r.Path != c.rel || r.Raw == "" {
					t.Errorf("%s: Path %q, Raw %q", r.Name, r.Path, r.Raw)
				}
			}
		})
	}
}

func mustMarker(t *testing.T, s string) *pep508.Marker {
	t.Helper()
	m, err := pep508.ParseMarker(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPoetryConstraint(t *testing.T) {
	cases := []struct{ in, want string }{
		{"^1.2.3", ">=1.2.3,<2.0.0"},
		{"^1.2", ">=1.2,<2.0"},
		{"^1", ">=1,<2"},
		{"^0.2.3", ">=0.2.3,<0.3.0"},
		{"^0.0.3", ">=0.0.3,<0.0.4"},
		{"^0.0", ">=0.0,<0.1"},
		{"^0", ">=0,<1"},
		{"^2.0.0rc1", ">=2.0.0rc1,<3.0.0"},
		{"^v1.4", ">=1.4,<2.0"},
		{"^1!2.3", ">=1!2.3,<1!3.0"},
		{"~1.2.3", ">=1.2.3,<1.3.0"},
		{"~1.2", ">=1.2,<1.3"},
		{"~1", ">=1,<2"},
		{"~=1.2", "~=1.2"},
		{"*", ""},
		{"", ""},
		{"x", ""},
		{"1.*", "==1.*"},
		{"1.2.x", "==1.2.*"},
		{"!=1.3.*", "!=1.3.*"},
		{"1.2.3", "==1.2.3"},
		{"=1.2.3", "==1.2.3"},
		{"==1.2.3", "==1.2.3"},
		{">= 1.2, < 2", ">=1.2,<2"},
		{">=1.2 <2", ">=1.2,<2"},
		{"<>1.5", "!=1.5"},
		{">=2.0.0 || <1.5", ">=2.0.0 | <1.5"},
		{"^1.2 || ^2.0", ">=1.2,<2.0 | >=2.0,<3.0"},
		{"^1.2 || *", ""},
		{"^18446744073709551615", "error"},
		{"^x.y", "error"},
		{"^", "error"},
		{">=1.2.*", "error"},
		{"1.0 ||", "error"},
		{"==", "error"},
		{">=1.0; python_version > '3'", "error"},
	}
	for _, c := range cases {
		alts, err := poetryConstraint(c.in)
		got := "error"
		if err == nil {
			parts := make([]string, len(alts))
			for i, a := range alts {
				parts[i] = strings.Join(a, ",")
			}
			got = strings.Join(parts, " | ")
		}
		if got != c.want {
			t.Errorf("poetryConstraint(%q) = %q (%v), want %q", c.in, got, err, c.want)
		}
	}
}

func TestPoetryPythonMarker(t *testing.T) {
	env312, err := pep508.TargetEnv("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in, want string
		on312    bool
	}{
		{"^3.9", `python_version >= "3.9" and python_version < "4.0"`, true},
		{"~3.11", `python_version >= "3.11" and python_version < "3.12"`, false},
		{">=3.12.1", `python_full_version >= "3.12.1"`, true},
		{"3.12.*", `python_version == "3.12.*"`, true},
		{"3.12", `python_version == "3.12"`, true},
		{"<3.10 || >=3.12", `(python_version < "3.10") or (python_version >= "3.12")`, true},
		{"*", "", true},
	}
	for _, c := range cases {
		got, err := poetryPythonMarker(c.in)
		if err != nil || got != c.want {
			t.Errorf("poetryPythonMarker(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		if got == "" {
			continue
		}
		if m := mustMarker(t, got); m.Evaluate(env312) != c.on312 {
			t.Errorf("%s on python3.12 = %v, want %v", got, !c.on312, c.on312)
		}
	}
}

func TestParsePyprojectErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"bad requirement", `[project]
name = "orders"
dependencies = [
    "requests>=2",
    "boto3 >= 1.35 <2",
]
`, `pyproject.toml:5: invalid requirement "boto3 >= 1.35 <2"`},
		{"unknown include-group", `[project]
name = "orders"

[dependency-groups]
test = ["pytest"]
dev = [
    { include-group = "test" },
    { include-group = "lint" },
]
`, `pyproject.toml:8: dependency group "dev" includes "lint", which is not declared`},
		{"include cycle", `[dependency-groups]
a = ["ruff", { include-group = "b" }]
b = [
  { include-group = "c" },
]
c = [{ include-group = "A" }]
`, `pyproject.toml:6: dependency groups include each other in a cycle: a -> b -> c -> a`},
		{"bad include table", `[dependency-groups]
dev = [{ include = "test" }]
`, `pyproject.toml:2: dependency-groups.dev[0]: a table entry must be {include-group = "name"}`},
		{"bad caret", `[tool.poetry]
name = "billing"

[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.x.1"
`, `pyproject.toml:6: requests: bad version constraint "^2.x.1"`},
		{"bad poetry table", `[tool.poetry.dependencies]
requests = { version = "^2.31", optional = "yes" }
`, `pyproject.toml:2: requests: optional must be true or false, found a string`},
		{"bad poetry list", `[tool.poetry.dependencies]
numpy = [
  { version = "^1.26", python = "<3.12" },
  "^2.1",
]
`, `pyproject.toml:4: numpy: expected a table in the list of constraints, found a string`},
		{"toml syntax", `[project]
name = "orders"
dependencies = ["requests"
version = "1.0"
`, `pyproject.toml:4: invalid TOML`},
		{"dependencies is a string", `[project]
name = "orders"

dependencies = "requests"
`, `pyproject.toml:4: project.dependencies has the wrong type (a TOML string)`},
		{"optional-dependencies of strings", `[project]
name = "orders"
[project.optional-dependencies]
s3 = "boto3"
`, `pyproject.toml:4: project.optional-dependencies.s3 has the wrong type (a TOML string)`},
		{"bad name", `[project]
name = "-orders"
`, `pyproject.toml:2: project.name: "-orders" is not a valid project name`},
		{"bad requires-python", `[project]
name = "orders"
requires-python = ">=3.x"
`, `pyproject.toml:3: project.requires-python: invalid specifier`},
		{"unknown extra in poetry extras", `[tool.poetry.dependencies]
stripe = { version = "^11", optional = true }

[tool.poetry.extras]
payments = ["stripe", "braintree"]
`, `pyproject.toml:5: extra "payments" names "braintree", which is not in [tool.poetry.dependencies]`},
		{"path outside the repository", `[project]
name = "orders"
dependencies = ["lib"]

[tool.uv.sources]
lib = { path = "../../../lib" }
`, `functions/orders/pyproject.toml:6: ../../../lib is outside the repository`},
		{"uv source with two kinds", `[tool.uv.sources]
lib = { path = "../lib", index = "internal" }
`, `pyproject.toml:2: a uv source needs exactly one of workspace = true, path, git, url and index`},
		{"self-reference to an unknown extra", `[project]
name = "orders"
[project.optional-dependencies]
all = ["orders[s3]"]
`, `pyproject.toml:4: orders[s3] names extra "s3" of this project, which is not declared`},
		{"duplicate group", `[dependency-groups]
Test = ["pytest"]
test = ["pytest"]
`, `pyproject.toml:3: dependency group "test" is declared twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rel := "pyproject.toml"
			if strings.Contains(c.want, "functions/orders/") {
				rel = "functions/orders/pyproject.toml"
			}
			_, err := parsePyproject(".", rel, []byte(c.doc))
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("got %v (%T), want a *diag.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %v\nwant %s…", err, c.want)
			}
		})
	}
}

func TestParsePyprojectFileURLs(t *testing.T) {
	abs, err := filepath.Abs("testdata/pyproject")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ req, want string }{
		{"lib @ file:../libs/lib", "libs/lib"},
		{"lib @ file:./vendor/lib-1.0.tar.gz", "svc/vendor/lib-1.0.tar.gz"},
		{"lib @ file:///${PROJECT_ROOT}/../libs/lib", "libs/lib"},
		{"lib @ {root:uri}/../libs/lib", "libs/lib"},
		{"lib @ file://" + filepath.ToSlash(abs) + "/libs/my%20lib", "libs/my lib"},
		{"lib @ file://localhost" + filepath.ToSlash(abs) + "/libs/lib", "libs/lib"},
	}
	for _, c := range cases {
		doc := fmt.Sprintf("[project]\nname = \"svc\"\ndependencies = [%q]\n", c.req)
		p, err := parsePyproject("testdata/pyproject", "svc/pyproject.toml", []byte(doc))
		if err != nil {
			t.Errorf("%s: %v", c.req, err)
			continue
		}
		if r := p.Dependencies[0]; r.LocalPath != c.want || r.URL != "" {
			t.Errorf("%s: LocalPath %q, URL %q; want %q", c.req, r.LocalPath, r.URL, c.want)
		}
	}
}

// TestParsePyprojectExpansionBounded checks that includes meeting again
// (diamonds) do not multiply requirements, and that self-references written
// to multiply them are refused.
func TestParsePyprojectExpansionBounded(t *testing.T) {
	var groups strings.Builder
	groups.WriteString("[dependency-groups]\n")
	for i := range 40 {
		fmt.Fprintf(&groups, "g%d = [{include-group = \"g%d\"}, {include-group = \"g%d\"}]\n", i, i+1, i+1)
	}
	groups.WriteString("g40 = [\"pytest\"]\n")
	p, err := parsePyproject(".", "pyproject.toml", []byte(groups.String()))
	if err != nil || len(p.Groups["g0"]) != 1 {
		t.Fatalf("diamond includes: %v, %d requirements", err, len(p.Groups["g0"]))
	}

	var extras strings.Builder
	extras.WriteString("[project]\nname = \"me\"\n[project.optional-dependencies]\n")
	for i := range 40 {
		fmt.Fprintf(&extras, "e%d = [\"me[e%d]; os_name == 'a%d'\", \"me[e%d]; os_name == 'b%d'\"]\n", i, i+1, i, i+1, i)
	}
	extras.WriteString("e40 = [\"pytest\"]\n")
	_, err = parsePyproject(".", "pyproject.toml", []byte(extras.String()))
	if d := (*diag.Error)(nil); !errors.As(err, &d) || !strings.Contains(err.Error(), "expand to more than") {
		t.Fatalf("self-reference explosion: %v", err)
	}
}

func FuzzPyproject(f *testing.F) {
	for _, p := range []string{
		"testdata/pyproject/pep621/pyproject.toml",
		"testdata/pyproject/poetry1/pyproject.toml",
		"testdata/pyproject/poetry2/pyproject.toml",
		"testdata/pyproject/uv-workspace/functions/orders/pyproject.toml",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePyproject("/repo", "svc/pyproject.toml", data)
		if err != nil {
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("not a *diag.Error: %v", err)
			}
			return
		}
		check := func(rs []Requirement) {
			for _, r := range rs {
				if r.Line <= 0 || r.Path != "svc/pyproject.toml" || !pep508.ValidName(r.Name) {
					t.Fatalf("requirement %+v", r)
				}
				if r.LocalPath != "" && (strings.HasPrefix(r.LocalPath, "../") || r.URL != "") {
					t.Fatalf("local requirement %+v", r)
				}
			}
		}
		check(p.Dependencies)
		for _, rs := range p.Optional {
			check(rs)
		}
		for _, rs := range p.Groups {
			check(rs)
		}
	})
}

func BenchmarkParsePyproject(b *testing.B) {
	for _, rel := range []string{"pep621/pyproject.toml", "poetry1/pyproject.toml"} {
		data, err := os.ReadFile(filepath.Join("testdata/pyproject", rel))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(rel, func(b *testing.B) {
			for b.Loop() {
				if _, err := parsePyproject("testdata/pyproject", rel, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
