package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/resolver"
)

// TestInitMixed runs init on testdata/mixed: every function is found,
// whatever manages it, and the written globs find them all again.
func TestInitMixed(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../testdata/mixed")); err != nil {
		t.Fatal(err)
	}
	res, err := Init(context.Background(), InitOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"functions/*", "jobs/*"}; !slices.Equal(res.Globs, want) {
		t.Errorf("globs = %q, want %q", res.Globs, want)
	}
	var dirs []string
	for _, f := range res.Functions {
		dirs = append(dirs, f.Dir)
	}
	want := []string{"functions/api", "functions/billing", "functions/catalog", "functions/checkout", "functions/cron", "functions/exporter",
		"functions/geo", "functions/invoices", "functions/mailer", "functions/search", "functions/thumbnails", "jobs/nightly"}
	if !slices.Equal(dirs, want) {
		t.Errorf("functions = %v, want %v", dirs, want)
	}
	if len(res.LeftOut) != 0 {
		t.Errorf("left out: %v", res.LeftOut)
	}
	// The workspace and its members ask for >=3.11, the Poetry projects
	// for ^3.11; but numpy and pillow are locked at releases with no wheel
	// for python3.11's glibc (2.26): the next runtime.
	if res.Runtime.Runtime != "python3.12" || !strings.Contains(res.Runtime.Source,
		`(">=3.11", ">=3.11,<4.0"): the oldest Lambda runtime all of them allow; not python3.11, whose glibc loads no locked wheel of numpy 2.4.6, pillow 13.0.0`) {
		t.Errorf("runtime %+v", res.Runtime)
	}
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatalf("the written layers.toml: %v", err)
	}
	fns, _, err := resolver.Discover(cfg)
	if err != nil || len(fns) != len(want) {
		t.Fatalf("the written globs find %d functions (%v), want %d", len(fns), err, len(want))
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"12 functions found by functions = [\"functions/*\", \"jobs/*\"]",
		"uv workspace member (4):",
		"pyproject.toml + poetry.lock (3):    billing, invoices, mailer",
		"requirements.txt (4):",
		"pylock.toml (1):",
		`runtime = "python3.12", from requires-python`,
	} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("init text lacks %q:\n%s", w, text.String())
		}
	}
}

// TestInitRuntime checks where init takes the runtime from, and that it
// says so.
func TestInitRuntime(t *testing.T) {
	const fn = "[project]\nname = %q\nversion = \"1\"\nrequires-python = %q\ndependencies = []\n"
	project := func(name, requires string) string {
		return strings.ReplaceAll(strings.Replace(fn, "%q", `"`+name+`"`, 1), "%q", `"`+requires+`"`)
	}
	for _, c := range []struct {
		name       string
		files      map[string]string
		runtime    string
		source     string
		overrides  map[string]string
		noteSubstr string
	}{
		{"requires-python: the oldest runtime it allows", map[string]string{
			"functions/a/pyproject.toml": project("a", ">=3.11"),
			"functions/b/pyproject.toml": project("b", ">=3.10,<3.13"),
		}, "python3.11", `requires-python in 2 functions' pyproject.toml (">=3.10,<3.13", ">=3.11"): the oldest Lambda runtime all of them allow`, nil, ""},
		{"no runtime allows all: overrides", map[string]string{
			"functions/a/pyproject.toml": project("a", ">=3.11,<3.12"),
			"functions/b/pyproject.toml": project("b", ">=3.11,<3.12"),
			"functions/c/pyproject.toml": project("c", ">=3.13"),
		}, "python3.11", "no Lambda runtime allows all of them; the oldest that 2 of 3 allow",
			map[string]string{"c": "python3.13"}, ""},
		{".python-version wins over requires-python", map[string]string{
			".python-version":            "3.13.1\n",
			"functions/a/pyproject.toml": project("a", ">=3.11"),
		}, "python3.13", ".python-version (3.13.1)", nil, ""},
		{"SAM wins over .python-version", map[string]string{
			".python-version":              "3.13\n",
			"template.yaml":                "Globals:\n  Function:\n    Runtime: python3.12\n",
			"functions/a/requirements.txt": "six==1.16.0\n",
		}, "python3.12", "the SAM setting in template.yaml:3", nil, ""},
		{"Serverless", map[string]string{
			"serverless.yml":               "provider:\n  name: aws\n  runtime: python3.10\n",
			"functions/a/requirements.txt": "six==1.16.0\n",
		}, "python3.10", "the Serverless setting in serverless.yml:3", nil, ""},
		{"Terraform, the most common of several", map[string]string{
			"infra/a.tf":                   "resource \"aws_lambda_function\" \"a\" {\n  runtime = \"python3.11\"\n}\n",
			"infra/b.tf":                   "resource \"aws_lambda_function\" \"b\" {\n  runtime = \"python3.11\"\n}\n",
			"serverless.yml":               "provider:\n  runtime: python3.13\n",
			"functions/a/requirements.txt": "six==1.16.0\n",
		}, "python3.11", "2 SAM/Serverless/Terraform settings (the first: infra/a.tf:2)", nil, "serverless.yml:2 (Serverless) sets python3.13"},
		{"a function the IaC runtime does not suit", map[string]string{
			"template.yaml":              "Resources:\n  A:\n    Properties:\n      Runtime: python3.11\n",
			"functions/a/pyproject.toml": project("a", ">=3.12"),
		}, "python3.11", "the SAM setting in template.yaml:4", map[string]string{"a": "python3.12"}, ""},
		{"nothing: the default", map[string]string{
			"functions/a/requirements.txt": "six==1.16.0\n",
		}, config.DefaultRuntime, "the default: no SAM, Serverless or Terraform runtime setting, no .python-version and no requires-python found", nil, ""},
		{"Poetry's || is noted", map[string]string{
			"functions/a/pyproject.toml": "[tool.poetry]\nname = \"a\"\nversion = \"1\"\n\n[tool.poetry.dependencies]\npython = \"~3.11 || ^3.13\"\n",
		}, config.DefaultRuntime, "the default", nil, "not a PEP 440 specifier"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := testfs.Tree(t, c.files)
			res, err := Init(context.Background(), InitOptions{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			if res.Runtime.Runtime != c.runtime || !strings.Contains(res.Runtime.Source, c.source) {
				t.Errorf("runtime %q from %q, want %q from %q", res.Runtime.Runtime, res.Runtime.Source, c.runtime, c.source)
			}
			got := map[string]string{}
			for name, o := range res.Overrides {
				got[name] = o.Runtime
			}
			if len(got) != len(c.overrides) {
				t.Errorf("overrides %v, want %v", got, c.overrides)
			}
			for name, rt := range c.overrides {
				if got[name] != rt {
					t.Errorf("override of %s: %q, want %q", name, got[name], rt)
				}
			}
			if c.noteSubstr != "" && !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, c.noteSubstr) }) {
				t.Errorf("notes %q lack %q", res.Notes, c.noteSubstr)
			}
			// What init wrote is what it says, and it loads.
			cfg, err := config.Load(root, "")
			if err != nil {
				t.Fatalf("written config: %v\n%s", err, res.ConfigText)
			}
			if cfg.Runtime != c.runtime {
				t.Errorf("written runtime %q", cfg.Runtime)
			}
			for name, rt := range c.overrides {
				if cfg.For(name).Runtime != rt {
					t.Errorf("written runtime of %s: %q, want %q", name, cfg.For(name).Runtime, rt)
				}
			}
		})
	}
}

// TestInitLeftOut checks a folder that cannot be a function of its own
// name is left out, named with the reason, and not matched by a glob.
func TestInitLeftOut(t *testing.T) {
	root := testfs.Tree(t, map[string]string{
		"functions/orders/requirements.txt": "six==1.16.0\n",
		"functions/search/requirements.txt": "six==1.16.0\n",
		"jobs/orders/requirements.txt":      "six==1.16.0\n",
		"jobs/report/requirements.txt":      "six==1.16.0\n",
	})
	res, err := Init(context.Background(), InitOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"functions/*", "jobs/report"}; !slices.Equal(res.Globs, want) {
		t.Errorf("globs %q, want %q", res.Globs, want)
	}
	if len(res.LeftOut) != 1 || res.LeftOut[0].Dir != "jobs/orders" || !strings.Contains(res.LeftOut[0].Reason, `functions/orders already has the name "orders"`) {
		t.Errorf("left out %+v", res.LeftOut)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "left out, 1 folder that look like functions:\n  jobs/orders (requirements.txt): functions/orders already has") {
		t.Errorf("init text:\n%s", text.String())
	}
	if _, err := os.Stat(filepath.Join(root, "layers.toml")); err != nil {
		t.Fatal(err)
	}
}
