package resolver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

// writeTree writes files (slash paths relative to dir) and returns dir.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	return testfs.Tree(t, files)
}

func loadConfig(t testing.TB, dir string) *config.Config {
	t.Helper()
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func functionDirs(fns []Function) []string {
	var out []string
	for _, f := range fns {
		out = append(out, f.Name+"="+f.Dir)
	}
	return out
}

func TestDiscover(t *testing.T) {
	const pyproject = "[project]\nname = %q\nversion = \"1\"\ndependencies = [%s]\n%s"
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"functions/* by default", map[string]string{
			"functions/a/requirements.txt": "six==1.16.0\n",
			"functions/b/pyproject.toml":   fmt.Sprintf(pyproject, "b", "", ""),
			"functions/empty/README.md":    "not a function\n",
			"other/c/requirements.txt":     "six==1.16.0\n",
		}, []string{"a=functions/a", "b=functions/b"}},
		{"globs from layers.toml", map[string]string{
			"layers.toml": "functions = [\"services/*/handlers/*\", \"jobs/*\"]\n",
			"services/x/handlers/h1/requirements.txt": "six==1.16.0\n",
			"services/y/handlers/h2/requirements.txt": "six==1.16.0\n",
			"jobs/nightly/requirements.txt":           "six==1.16.0\n",
			"functions/ignored/requirements.txt":      "six==1.16.0\n",
		}, []string{"h1=services/x/handlers/h1", "h2=services/y/handlers/h2", "nightly=jobs/nightly"}},
		{"uv workspace members, less the libraries they depend on", map[string]string{
			"pyproject.toml":           "[project]\nname = \"root\"\nversion = \"1\"\n\n[tool.uv.workspace]\nmembers = [\"svc/*\", \"libs/*\"]\nexclude = [\"svc/old\"]\n",
			"svc/api/pyproject.toml":   fmt.Sprintf(pyproject, "api", `"core"`, "\n[tool.uv.sources]\ncore = { workspace = true }\n"),
			"svc/jobs/pyproject.toml":  fmt.Sprintf(pyproject, "jobs", "", ""),
			"svc/old/pyproject.toml":   fmt.Sprintf(pyproject, "old", "", ""),
			"libs/core/pyproject.toml": fmt.Sprintf(pyproject, "core", "", ""),
		}, []string{"api=svc/api", "jobs=svc/jobs"}},
		{"requirements override names the file", map[string]string{
			"layers.toml":                        "[function.a]\nrequirements = \"deps/prod.txt\"\n",
			"functions/a/deps/prod.txt":          "six==1.16.0\n",
			"functions/.hidden/requirements.txt": "six==1.16.0\n",
		}, []string{"a=functions/a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			fns, _, err := Discover(loadConfig(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			got := functionDirs(fns)
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("functions = %v, want %v", got, want)
			}
		})
	}
}

func TestDiscoverErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"two functions with one name", map[string]string{
			"layers.toml":               "functions = [\"a/*\", \"b/*\"]\n",
			"a/orders/requirements.txt": "six==1.16.0\n",
			"b/orders/requirements.txt": "six==1.16.0\n",
		}, `two functions are named "orders"`},
		{"override for no function", map[string]string{
			"layers.toml":                       "runtime = \"python3.12\"\n\n[function.ordres]\nextras = [\"x\"]\n",
			"functions/orders/requirements.txt": "six==1.16.0\n",
		}, "layers.toml:3: [function.ordres] matches no function (found: orders)"},
		{"glob that matches no function", map[string]string{
			"layers.toml":                       "functions = [\n  \"functions/*\",\n  \"services/*\",\n]\n",
			"functions/orders/requirements.txt": "six==1.16.0\n",
			"services/README.md":                "moved\n",
		}, `layers.toml:3: functions: glob "services/*" matches no function folder`},
		{"a newline in a function folder", map[string]string{
			"functions/a\nb/requirements.txt": "six==1.16.0\n",
		}, `function folder "functions/a\nb": "a\nb" cannot be a Lambda function name (letters, digits, - and _, at most 64; a function is named by its folder)`},
		{"a command substitution in a function folder", map[string]string{
			"functions/$(id)/requirements.txt": "six==1.16.0\n",
		}, `function folder "functions/$(id)": "$(id)" cannot be a Lambda function name`},
		{"a space in a function folder", map[string]string{
			"functions/my api/requirements.txt": "six==1.16.0\n",
		}, `"my api" cannot be a Lambda function name`},
		{"a function name too long", map[string]string{
			"functions/" + strings.Repeat("a", 65) + "/requirements.txt": "six==1.16.0\n",
		}, `cannot be a Lambda function name`},
		{"two functions differing in case", map[string]string{
			"functions/API/requirements.txt": "six==1.16.0\n",
			"functions/api/requirements.txt": "six==1.16.0\n",
		}, `two functions are named "API" and "api": functions/API and functions/api (names that differ only in case collide`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			_, _, err := Discover(loadConfig(t, dir))
			if err == nil || !diag.IsInput(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want an input error containing %q", err, c.want)
			}
		})
	}
}

func TestResolveInputs(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"layers.toml": "architectures = [\"x86_64\", \"arm64\"]\nexclude = [\"boto3\"]\n\n[function.c]\nextras = [\"fast\"]\n",
		// A pinned requirements file is a closure.
		"functions/a/requirements.txt": "requests==2.32.3\nurllib3==2.2.2\nboto3==1.34.0\norjson==3.10.0 ; platform_machine == 'x86_64'\n",
		// Not pinned: reported with file and line.
		"functions/b/requirements.txt": "six==1.16.0\n# a comment\nrequests>=2\n",
		// A pyproject without a lock cannot be closed offline.
		"functions/c/pyproject.toml": "[project]\nname = \"c\"\nversion = \"1\"\ndependencies = [\"attrs==23.2.0\"]\n\n[project.optional-dependencies]\nfast = [\"orjson\"]\n",
	})
	res, err := Resolve(context.Background(), loadConfig(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 2 || res.Targets[0].Arch != "arm64" || res.Targets[1].Arch != "x86_64" {
		t.Fatalf("targets = %+v", res.Targets)
	}
	for _, tr := range res.Targets {
		byName := map[string]Closure{}
		for _, c := range tr.Functions {
			byName[c.Name] = c
		}
		var a []string
		for _, p := range byName["a"].Packages {
			a = append(a, p.Name+"=="+p.Version)
		}
		want := []string{"requests==2.32.3", "urllib3==2.2.2"} // boto3 excluded
		if tr.Arch == "x86_64" {
			want = []string{"orjson==3.10.0", "requests==2.32.3", "urllib3==2.2.2"}
		}
		if !slices.Equal(a, want) {
			t.Errorf("%s: a = %v, want %v", tr.Arch, a, want)
		}
		b := byName["b"]
		if len(b.Packages) != 0 || len(b.Unresolved) != 1 || b.Unresolved[0].Line != 3 ||
			b.Unresolved[0].Path != "functions/b/requirements.txt" {
			t.Errorf("%s: b = %+v, want one unresolved requirement at functions/b/requirements.txt:3", tr.Arch, b)
		}
		if c := byName["c"]; len(c.Unresolved) == 0 || c.Unresolved[0].Reason != "no lock file" {
			t.Errorf("%s: c = %+v, want unresolved for lack of a lock", tr.Arch, c)
		}
	}
}

func TestResolveUnknownExtra(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"layers.toml":                "[function.c]\nextras = [\"fats\"]\n",
		"functions/c/pyproject.toml": "[project]\nname = \"c\"\nversion = \"1\"\ndependencies = []\n\n[project.optional-dependencies]\nfast = [\"orjson\"]\n",
	})
	_, err := Resolve(context.Background(), loadConfig(t, dir), Options{})
	if err == nil || !strings.Contains(err.Error(), `layers.toml:2: function c: functions/c/pyproject.toml has no extra "fats"`) {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkResolveWorkspace resolves a generated uv workspace of 500 members
// sharing one uv.lock of 1,500 registry packages, from the files on disk:
// discovery, every pyproject.toml, the lock, and 450 closures.
func BenchmarkResolveWorkspace(b *testing.B) {
	const members, registry = 500, 1500
	files := map[string]string{
		"uv.lock":        string(uvGenLock(members, registry)),
		"pyproject.toml": "[project]\nname = \"monorepo\"\nversion = \"0\"\n\n[tool.uv.workspace]\nmembers = [\"functions/*\", \"libs/*\"]\n",
		"layers.toml":    "functions = [\"functions/*\"]\n",
	}
	libs := members / 10
	for i := range members {
		name, folder := fmt.Sprintf("fn-%03d", i), "functions"
		if i < libs {
			name, folder = fmt.Sprintf("lib-%03d", i), "libs"
		}
		files[folder+"/"+name+"/pyproject.toml"] = fmt.Sprintf("[project]\nname = %q\nversion = \"0.1.0\"\ndependencies = []\n", name)
		files[folder+"/"+name+"/app.py"] = "def handler(event, context):\n    return {}\n"
	}
	dir := writeTree(b, files)
	cfg := loadConfig(b, dir)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Resolve(ctx, cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(res.Targets[0].Functions); n != members-libs {
			b.Fatalf("%d functions resolved, want %d", n, members-libs)
		}
	}
}

// A requirements.txt that is a folder is an input error naming it.
func TestRequirementsFileIsAFolder(t *testing.T) {
	dir := writeTree(t, map[string]string{"functions/a/requirements.txt/README": "oops\n"})
	_, err := Resolve(context.Background(), loadConfig(t, dir), Options{})
	if err == nil || !diag.IsInput(err) || !strings.Contains(err.Error(), "functions/a/requirements.txt: not a file") {
		t.Fatalf("err = %v, want an input error naming functions/a/requirements.txt", err)
	}
}
