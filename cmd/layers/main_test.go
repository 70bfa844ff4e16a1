package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/golden"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

const demo = "../../testdata/demo"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

type planDoc struct {
	Targets []struct {
		Runtime      string `json:"runtime"`
		Architecture string `json:"architecture"`
		Functions    []struct {
			Name     string `json:"name"`
			Path     string `json:"path"`
			Packages []struct {
				Name, Version, Source string
			} `json:"packages"`
			Layers      []string `json:"layers"`
			PackageType string   `json:"package_type"`
			Reason      string   `json:"reason"`
		} `json:"functions"`
		Layers []struct {
			Name     string `json:"name"`
			Packages []struct {
				Name, Version string
			} `json:"packages"`
			Functions     []string `json:"functions"`
			UnzippedBytes *int64   `json:"unzipped_bytes"`
		} `json:"layers"`
	} `json:"targets"`
}

func TestPlanJSONOnDemo(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--dir", demo, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var doc planDoc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatal("stdout holds more than one JSON document")
	}
	golden.Check(t, "plan-demo.json", stdout)

	var targets []string
	for _, tg := range doc.Targets {
		targets = append(targets, tg.Runtime+"/"+tg.Architecture)
	}
	if want := []string{"python3.12/arm64", "python3.12/x86_64"}; !slices.Equal(targets, want) {
		t.Fatalf("targets = %v, want %v", targets, want)
	}
	for _, tg := range doc.Targets {
		layerPkgs := map[string]map[string]string{} // layer -> name -> version
		for _, l := range tg.Layers {
			layerPkgs[l.Name] = map[string]string{}
			for _, p := range l.Packages {
				layerPkgs[l.Name][p.Name] = p.Version
			}
		}
		fns := map[string][]string{}
		for _, f := range tg.Functions {
			var names []string
			for _, p := range f.Packages {
				names = append(names, p.Name)
			}
			fns[f.Name] = names
			// reports needs pandas, numpy and pyarrow: estimated from the
			// lock's wheels, more than Lambda's 250 MiB (aws-cdk #26900).
			if f.Name == "reports" {
				if f.PackageType != "image" || !strings.Contains(f.Reason, "262,144,000") || len(f.Layers) != 0 {
					t.Errorf("%s/reports: package_type %q, reason %q, layers %v; want an image over the limit",
						tg.Architecture, f.PackageType, f.Reason, f.Layers)
				}
				continue
			}
			if f.PackageType != "layers" {
				t.Errorf("%s/%s: package_type %q, want layers", tg.Architecture, f.Name, f.PackageType)
			}
			// The function's layers hold its whole closure, at the versions it resolved.
			for _, p := range f.Packages {
				found := false
				for _, l := range f.Layers {
					if v, ok := layerPkgs[l][p.Name]; ok {
						if v != p.Version {
							t.Errorf("%s: layer %s has %s %s, closure has %s", f.Name, l, p.Name, v, p.Version)
						}
						found = true
					}
				}
				if !found {
					t.Errorf("%s/%s: %s is in no layer of the function", tg.Architecture, f.Name, p.Name)
				}
			}
		}
		// Workspace members and extras as the demo declares them.
		mustHave(t, fns["orders"], "acme-shared", "requests", "aws-lambda-powertools", "aws-xray-sdk", "pydantic", "boto3")
		mustNotHave(t, fns["orders"], "pytest", "orders")
		mustHave(t, fns["reports"], "pandas", "numpy", "pyarrow", "acme-shared")
		mustHave(t, fns["thumbnails"], "pillow", "boto3")
		if tg.Architecture == "x86_64" {
			mustHave(t, fns["notify"], "orjson")
			mustHave(t, fns["legacy"], "requests", "pyyaml", "boto3", "urllib3")
		} else {
			mustNotHave(t, fns["notify"], "orjson") // platform_machine == 'x86_64'
			if _, ok := fns["legacy"]; ok {
				t.Error("legacy is x86_64 only, but it is planned for arm64")
			}
		}
	}
}

func mustHave(t *testing.T, got []string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !slices.Contains(got, n) {
			t.Errorf("closure %v lacks %s", got, n)
		}
	}
}

func mustNotHave(t *testing.T, got []string, names ...string) {
	t.Helper()
	for _, n := range names {
		if slices.Contains(got, n) {
			t.Errorf("closure %v has %s", got, n)
		}
	}
}

func TestPlanTextOnDemo(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--dir", demo)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	golden.Check(t, "plan-demo.txt", stdout)
	for _, want := range []string{"python3.12 / x86_64", "python3.12 / arm64", "orders", "legacy", "█", "/ 250 MiB", "LAYER"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestPlanExplain(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--dir", demo, "--explain", "botocore")
	if code != 0 || !strings.Contains(stdout, "botocore") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "plan", "--dir", demo, "--explain", "no-such-thing")
	if code == 0 || !strings.Contains(stderr, "no-such-thing") {
		t.Fatalf("explain of an unknown name: exit %d, stderr %q", code, stderr)
	}
}

// Bad input: one message naming file:line, exit 2, nothing on stdout, nothing written.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"unknown config key", map[string]string{
			"layers.toml":                  "runtime = \"python3.12\"\nbogus = 1\n",
			"functions/a/requirements.txt": "six==1.16.0\n",
		}, "layers.toml:2:"},
		{"unsupported runtime", map[string]string{
			"layers.toml":                  "runtime = \"python2.7\"\n",
			"functions/a/requirements.txt": "six==1.16.0\n",
		}, "layers.toml:1:"},
		{"bad requirement", map[string]string{
			"functions/a/requirements.txt": "six==1.16.0\n# comment\nrequests>=>2\n",
		}, "functions/a/requirements.txt:3:"},
		{"bad marker", map[string]string{
			"functions/a/requirements.txt": "six==1.16.0 ; python_version >> '3'\n",
		}, "functions/a/requirements.txt:1:"},
		{"missing include", map[string]string{
			"functions/a/requirements.txt": "six==1.16.0\n-r base.txt\n",
		}, "functions/a/requirements.txt:2:"},
		{"include cycle", map[string]string{
			"functions/a/requirements.txt": "-r other.txt\n",
			"functions/a/other.txt":        "six==1.16.0\n-r requirements.txt\n",
		}, "functions/a/other.txt:2:"},
		{"bad pyproject", map[string]string{
			"functions/a/pyproject.toml": "[project]\nname = \"a\"\ndependencies = [\n  \"requests\",\n  \"bad name here\",\n]\n",
		}, "functions/a/pyproject.toml:5:"},
		{"lock lacks a package", map[string]string{
			"functions/a/pyproject.toml": "[project]\nname = \"a\"\nversion = \"1\"\ndependencies = [\"requests\"]\n",
			"functions/a/uv.lock": `version = 1
requires-python = ">=3.11"

[[package]]
name = "a"
version = "1"
source = { editable = "." }
dependencies = [
    { name = "requests" },
]
`,
		}, "functions/a/uv.lock:9:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := testfs.Tree(t, c.files)
			before := listFiles(t, dir)
			code, stdout, stderr := runCLI(t, "plan", "--dir", dir, "--json")
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty: %q", stdout)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("stderr = %q, want one line containing %q", stderr, c.want)
			}
			if after := listFiles(t, dir); !slices.Equal(before, after) {
				t.Errorf("files changed: before %v, after %v", before, after)
			}
		})
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, strings.TrimPrefix(p, dir))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInitThenPlan(t *testing.T) {
	dir := testfs.Tree(t, map[string]string{
		"services/billing/requirements.txt": "six==1.16.0\n",
		"services/search/requirements.txt":  "six==1.16.0\n",
	})
	code, _, stderr := runCLI(t, "init", "--dir", dir)
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	written, err := os.ReadFile(filepath.Join(dir, "layers.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), `"services/*"`) {
		t.Errorf("starter does not find services/*:\n%s", written)
	}
	code, stdout, stderr := runCLI(t, "plan", "--dir", dir, "--json")
	if code != 0 || !strings.Contains(stdout, `"billing"`) || !strings.Contains(stdout, `"search"`) {
		t.Fatalf("plan after init: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A second init must not clobber the file.
	code, _, _ = runCLI(t, "init", "--dir", dir)
	if code == 0 {
		t.Error("second init succeeded without --force")
	}
	again, _ := os.ReadFile(filepath.Join(dir, "layers.toml"))
	if !bytes.Equal(again, written) {
		t.Error("second init changed the file")
	}
}

func TestMissingRoot(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--dir", filepath.Join(t.TempDir(), "nope"))
	if code != 2 || stdout != "" || !strings.Contains(stderr, "is not a folder") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A run stopped by SIGINT or SIGTERM (its context cancelled) says
// "interrupted", not "context canceled".
func TestInterruptedSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code := run(ctx, []string{"plan", "--dir", "../../testdata/demo", "--offline"}, &stdout, &stderr)
	if code == 0 {
		t.Skip("plan finished before it saw the cancellation")
	}
	if code != 1 || strings.Contains(stderr.String(), "context canceled") || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want exit 1 and \"interrupted\"", code, stderr.String())
	}
}

// TestLayerNamesOnDemo pins the demo's layer names next to their content:
// each name's hint is the package most of the layer's functions ask for
// directly (orders asks for requests, payments for stripe and cryptography),
// else the largest, a group standing for its members; not the first
// package in alphabetical order.
func TestLayerNamesOnDemo(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--dir", demo, "--json", "--fresh")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var doc planDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tg := range doc.Targets {
		b.WriteString(tg.Runtime + " / " + tg.Architecture + "\n")
		for _, l := range tg.Layers {
			var pkgs []string
			for _, p := range l.Packages {
				pkgs = append(pkgs, p.Name)
			}
			b.WriteString("  " + l.Name + ": " + strings.Join(pkgs, " ") + "\n")
		}
	}
	golden.Check(t, "layer-names-demo.txt", b.String())
}

// TestMixedMonorepo is the first hour on testdata/mixed, as a user reads
// it: plan before init names the function the defaults leave out; init
// finds all twelve functions (a uv workspace of four, Poetry projects,
// compiled requirements, a pylock.toml, a job outside functions/), says
// where the runtime comes from, and plan then plans them all.
func TestMixedMonorepo(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../testdata/mixed")); err != nil {
		t.Fatal(err)
	}
	clean := func(s string) string { return strings.ReplaceAll(s, dir, "DIR") }
	code, stdout, stderr := runCLI(t, "plan", "--dir", dir)
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	golden.Check(t, "mixed-plan-before-init.txt", clean(stdout))
	code, _, stderr = runCLI(t, "init", "--dir", dir)
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	golden.Check(t, "mixed-init.txt", clean(stderr))
	written, err := os.ReadFile(filepath.Join(dir, "layers.toml"))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "mixed-layers.toml", string(written))
	code, stdout, stderr = runCLI(t, "plan", "--dir", dir)
	if code != 0 {
		t.Fatalf("plan after init: exit %d: %s", code, stderr)
	}
	golden.Check(t, "mixed-plan.txt", clean(stdout))
	if !strings.Contains(stdout, "python3.12 / x86_64: 12 functions") || strings.Contains(stdout, "not planned") {
		t.Errorf("plan after init does not plan all 12 functions:\n%s", stdout)
	}
}

// TestReadmeQuickstart keeps the README's quickstart true: its commands,
// the init output it shows (the golden of TestMixedMonorepo), and the
// error a machine without Docker gets.
func TestReadmeQuickstart(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, quick, _ := strings.Cut(string(data), "\n## Quickstart\n")
	quick, _, _ = strings.Cut(quick, "\n## Commands\n")
	for _, cmd := range []string{
		"go run ./cmd/layers plan --dir testdata/demo",
		"go run ./cmd/layers build --dir testdata/demo",
		"go run ./cmd/layers verify --dir testdata/demo",
		"go run ./cmd/layers report --dir testdata/demo",
		"go run ./cmd/layers publish --dir testdata/demo --dry-run",
		"make test",
	} {
		if !strings.Contains(quick, cmd) {
			t.Errorf("the quickstart lacks %q", cmd)
		}
	}
	init, err := os.ReadFile("testdata/mixed-init.txt")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(string(init), "DIR", "/tmp/mixed"); !strings.Contains(quick, want) {
		t.Errorf("the quickstart's init output is not what init prints:\n%s", want)
	}

	// No engine where DOCKER_HOST points, as on a machine without Docker.
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "demo"), os.DirFS(demo)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_HOST", "unix://"+dir+"/docker.sock")
	code, stdout, stderr := runCLI(t, "build", "--dir", filepath.Join(dir, "demo"))
	if code != 1 || stdout != "" {
		t.Fatalf("build without an engine: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	msg := strings.ReplaceAll(strings.TrimSpace(stderr), "unix://"+dir+"/docker.sock", "unix:///var/run/docker.sock")
	if !strings.Contains(quick, "\n"+msg+"\n") {
		t.Errorf("the quickstart does not show the error without Docker:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", ".layers")); err == nil {
		t.Error("build without an engine wrote .layers/")
	}
}

// TestPlanStrictRefusesMissingWheels: plan warns about a locked package
// no wheel of which its runtime loads and exits 0; --strict exits 2 with
// the message at the lock's entry.
func TestPlanStrictRefusesMissingWheels(t *testing.T) {
	t.Setenv("LAYERS_CACHE", t.TempDir())
	dir := filepath.Join("..", "..", "testdata", "wheelcompat")
	code, stdout, stderr := runCLI(t, "plan", "--dir", dir, "--offline")
	if code != 0 || !strings.Contains(stderr, "warning: some packages have no wheel their Lambda runtime loads") ||
		!strings.Contains(stdout, "refused by `layers build`: numpy 2.4.6: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older)") {
		t.Fatalf("plan: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "plan", "--dir", dir, "--offline", "--strict")
	if code != 2 || !strings.Contains(stderr, "testdata/wheelcompat/functions/stats/uv.lock:10: numpy 2.4.6: no wheel for python3.11/x86_64") ||
		!strings.Contains(stderr, "pyarrow 26.0.1: no wheel") {
		t.Errorf("plan --strict: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestErrorPathsOneStyle checks every input error names its file the same
// way: relative to the working directory when the file lies below it (as
// a shell opens it), else absolute; layers.toml the same as a requirements
// file, whatever --dir is.
func TestErrorPathsOneStyle(t *testing.T) {
	parent := t.TempDir()
	repoDir := filepath.Join(parent, "repo")
	testfs.WriteFiles(t, repoDir, map[string]string{"functions/a/requirements.txt": "six==1.16.0\n"})
	badConfig := "runtime = \"python3.12\"\nbogus = 1\n"
	badReq := "six==1.16.0\nrequests>=>2\n"
	for _, c := range []struct {
		cwd, dir string
		config   string // what the layers.toml error starts with
		req      string // what the requirements error starts with
	}{
		{repoDir, ".", "layers.toml:2:", "functions/a/requirements.txt:2:"},
		{parent, "repo", "repo/layers.toml:2:", "repo/functions/a/requirements.txt:2:"},
		{parent, repoDir, "repo/layers.toml:2:", "repo/functions/a/requirements.txt:2:"},
		{filepath.Join(repoDir, "functions"), "..", repoDir + "/layers.toml:2:", "a/requirements.txt:2:"},
	} {
		t.Run(c.cwd+" "+c.dir, func(t *testing.T) {
			t.Chdir(c.cwd)
			for _, f := range []struct{ file, text, want string }{
				{"layers.toml", badConfig, c.config},
				{"functions/a/requirements.txt", badReq, c.req},
			} {
				testfs.WriteFiles(t, repoDir, map[string]string{f.file: f.text})
				code, _, stderr := runCLI(t, "plan", "--dir", c.dir)
				if code != 2 || !strings.HasPrefix(stderr, f.want) {
					t.Errorf("%s: exit %d, stderr %q, want it to start with %q", f.file, code, stderr, f.want)
				}
				os.Remove(filepath.Join(repoDir, "layers.toml"))
				testfs.WriteFiles(t, repoDir, map[string]string{"functions/a/requirements.txt": "six==1.16.0\n"})
			}
		})
	}
}
