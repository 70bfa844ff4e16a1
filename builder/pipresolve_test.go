package builder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/pipeline"
	"github.com/layers-dev/layers/resolver"
)

func TestParseReport(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "resolve", "pip-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := builder.ParseReport(data, "/layers-in/src")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, version string
		source        resolver.Source
		url, path     string
		hash          string
	}{
		{"attrs", "25.4.0", resolver.SourceURL, "https://files.example.invalid/packages/3a/2a/7cc015f5b9f5db42b7d48157e23356022889fc354a2813c15934b7cb5c0e/attrs-25.4.0-py3-none-any.whl", "",
			"sha256:adcf7e2a1fb3b36ac48d97835bb6d8ade15b8dcce26aba8bf1d14847b57a3373"},
		{"certifi", "2026.10.19.post1", resolver.SourceRegistry, "", "", "sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2"},
		{"charset-normalizer", "3.5.3", resolver.SourceRegistry, "", "", "sha256:2a6f937e0b70133d1f826d0a253331b6fe1a4c874808cc12e16f2fb8177042f4"},
		{"idna", "3.20", resolver.SourceRegistry, "", "", "sha256:ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c"},
		{"requests", "2.34.2", resolver.SourceRegistry, "", "", "sha256:2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0"},
		{"shared-lib", "0.3.0", resolver.SourceLocal, "", "libs/shared", ""},
		{"six", "1.17.0", resolver.SourceRegistry, "", "", "sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"},
		{"tinyflags", "1.2.0", resolver.SourceURL, "git+https://git.example.invalid/acme/tinyflags.git@8f0c1f3b9e0d4c2a7b6e5d4c3b2a19080706a5b4", "", ""},
		{"urllib3", "2.8.0", resolver.SourceRegistry, "", "", "sha256:0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d packages, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		p := got[i]
		var hash string
		if len(p.Hashes) > 0 {
			hash = p.Hashes[0]
		}
		if p.Name != w.name || p.Version != w.version || p.Source != w.source || p.URL != w.url || p.Path != w.path || hash != w.hash || len(p.Hashes) > 1 {
			t.Errorf("package %d = %+v, want %+v", i, p, w)
		}
	}
	if w := got[3].Wheels; len(w) != 1 || w[0].Filename != "idna-3.20-py3-none-any.whl" || w[0].Hash != got[3].Hashes[0] {
		t.Errorf("idna's wheels: %+v", w)
	}
}

func TestParseReportBad(t *testing.T) {
	tests := []struct {
		name, report, want string
	}{
		{"not JSON", `{"version": `, "pip's report"},
		{"other version", `{"version": "2", "install": []}`, `version "2"`},
		{"no name", `{"version": "1", "install": [{"metadata": {"version": "1.0"}, "download_info": {"url": "https://files.example.invalid/x.whl"}}]}`,
			"valid name"},
		{"twice", `{"version": "1", "install": [{"metadata": {"name": "Six", "version": "1.0"}}, {"metadata": {"name": "six", "version": "1.1"}}]}`,
			"six twice"},
		{"file outside", `{"version": "1", "install": [{"is_direct": true, "metadata": {"name": "x", "version": "1.0"}, "download_info": {"url": "file:///etc/x", "dir_info": {}}}]}`,
			"outside the repository"},
		{"file escaping", `{"version": "1", "install": [{"is_direct": true, "metadata": {"name": "x", "version": "1.0"}, "download_info": {"url": "file:///layers-in/src/../../etc", "dir_info": {}}}]}`,
			"outside the repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := builder.ParseReport([]byte(tt.report), "/layers-in/src")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// unpinned is a monorepo whose functions list requirements no lock pins:
// api a range and a bare name, worker a local library (with its own
// dependency and a module that does not compile) next to a bare name.
var unpinned = map[string]string{
	"functions/api/requirements.txt":    "requests>=2.31,<3\nsix\n",
	"functions/api/app.py":              "import requests\n",
	"functions/worker/requirements.txt": "../../libs/shared\nsix\n",
	"functions/worker/app.py":           "import shared_lib\n",
	"libs/shared/pyproject.toml": "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n" +
		"[project]\nname = \"shared-lib\"\nversion = \"0.3.0\"\ndependencies = [\"six>=1.16\"]\n",
	"libs/shared/shared_lib/__init__.py": "import six\n",
	// A Python 2 leftover: it does not compile, and that is no failure.
	"libs/shared/shared_lib/legacy.py": "print \"python 2\"\n",
}

var target311 = config.Target{Runtime: "python3.11", Architecture: "x86_64"}

// closureOf resolves cfg from its files and returns the closure of fn.
func closureOf(t *testing.T, cfg *config.Config, fn string) resolver.Closure {
	t.Helper()
	res, err := resolver.Resolve(context.Background(), cfg, resolver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Targets[0].Functions {
		if c.Name == fn {
			return c
		}
	}
	t.Fatalf("no function %s", fn)
	return resolver.Closure{}
}

// pipRequest is the request that resolves c in img.
func pipRequest(t *testing.T, c resolver.Closure, img builder.Image) builder.PipRequest {
	t.Helper()
	if c.Request == nil {
		t.Fatalf("function %s: no request (%v)", c.Name, c.RequestErr)
	}
	return builder.PipRequest{Function: c.Name, Target: target311, Image: img, Request: *c.Request}
}

func names(pkgs []resolver.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Name)
	}
	return out
}

// TestResolveInBuildImage resolves a function's unpinned requirements with
// pip in the stand-in build image, then serves them from the cache.
func TestResolveInBuildImage(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	e := &dockertest.Counting{Engine: d}
	cfg := writeRepo(t, image, copyMap(unpinned))
	c := closureOf(t, cfg, "api")
	if len(c.Unresolved) == 0 {
		t.Fatal("api's closure is resolved from its files")
	}
	ctx := context.Background()
	img, err := builder.ResolveImage(ctx, e, image, target311, false)
	if err != nil {
		t.Fatal(err)
	}
	ca := hostCA(t)
	rs, err := builder.NewPipResolver(builder.PipResolverOptions{Engine: e, CacheDir: t.TempDir(), CABundle: ca, Tool: "test", Root: cfg.Root})
	if err != nil {
		t.Fatal(err)
	}
	req := pipRequest(t, c, img)
	pkgs, cached, err := rs.Resolve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"certifi", "charset-normalizer", "idna", "requests", "six", "urllib3"}
	if got := names(pkgs); cached || !slices.Equal(got, want) {
		t.Fatalf("resolved %v (cached %v), want %v", got, cached, want)
	}
	for _, p := range pkgs {
		if p.Source != resolver.SourceRegistry || p.Version == "" || len(p.Hashes) != 1 || !strings.HasPrefix(p.Hashes[0], "sha256:") {
			t.Errorf("package %+v", p)
		}
		if p.Name == "requests" && !strings.HasPrefix(p.Version, "2.") {
			t.Errorf("requests %s is outside >=2.31,<3", p.Version)
		}
	}
	if n := e.Runs(); n != 1 {
		t.Errorf("%d containers, want 1", n)
	}

	again, cached, err := rs.Resolve(ctx, req)
	if err != nil || !cached || !slices.EqualFunc(again, pkgs, func(a, b resolver.Package) bool { return a.Name == b.Name && a.Version == b.Version }) {
		t.Errorf("second resolution: %v, cached %v, %v", names(again), cached, err)
	}
	if n := e.Runs(); n != 1 {
		t.Errorf("a cached resolution started a container (%d in all)", n)
	}
	offline := req
	offline.Image = builder.Image{}
	if _, ok, err := rs.Cached(ctx, offline); !ok || err != nil {
		t.Errorf("no cached resolution for the same inputs in any image (%v)", err)
	}

	// Another requirement, another image, another tool: another key.
	file := filepath.Join(cfg.Root, "functions", "api", "requirements.txt")
	if err := os.WriteFile(file, []byte("requests>=2.31,<3\nsix\nidna<4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := pipRequest(t, closureOf(t, cfg, "api"), img)
	otherImage := req
	otherImage.Image.ID = "sha256:0ther"
	otherTool, err := builder.NewPipResolver(builder.PipResolverOptions{CacheDir: t.TempDir(), Tool: "other", Root: cfg.Root})
	if err != nil {
		t.Fatal(err)
	}
	for name, miss := range map[string]func() (bool, error){
		"changed file": func() (bool, error) { _, ok, err := rs.Cached(ctx, changed); return ok, err },
		"other image":  func() (bool, error) { _, ok, err := rs.Cached(ctx, otherImage); return ok, err },
		"other tool":   func() (bool, error) { _, ok, err := otherTool.Cached(ctx, req); return ok, err },
		"other extras": func() (bool, error) {
			r := req
			r.Selection = []string{"extra:x"}
			_, ok, err := rs.Cached(ctx, r)
			return ok, err
		},
		"other targets": func() (bool, error) {
			r := req
			r.Target.Runtime = "python3.12"
			_, ok, err := rs.Cached(ctx, r)
			return ok, err
		},
	} {
		if ok, err := miss(); ok || err != nil {
			t.Errorf("%s: cache hit %v, error %v; want a miss", name, ok, err)
		}
	}
}

// TestBuildUnpinned builds a monorepo whose inputs are not pinned: the
// build resolves them in the build image, and plan then serves them from
// the cache without starting a container.
func TestBuildUnpinned(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cfg := writeRepo(t, image, copyMap(unpinned))
	cacheDir := t.TempDir()
	res, err := build(t, d, cfg, cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	byFunction := map[string][]string{}
	layerPkgs := map[string][]string{}
	for _, l := range res.Manifest.Targets[0].Layers {
		for _, p := range l.Packages {
			layerPkgs[l.Name] = append(layerPkgs[l.Name], p.Name)
		}
	}
	for _, f := range res.Manifest.Targets[0].Functions {
		for _, l := range f.Layers {
			byFunction[f.Name] = append(byFunction[f.Name], layerPkgs[l]...)
		}
		slices.Sort(byFunction[f.Name])
	}
	want := map[string][]string{
		"api":    {"certifi", "charset-normalizer", "idna", "requests", "six", "urllib3"},
		"worker": {"shared-lib", "six"},
	}
	for fn, w := range want {
		if !slices.Equal(byFunction[fn], w) {
			t.Errorf("function %s's layers hold %v, want %v", fn, byFunction[fn], w)
		}
	}
	importLayers(t, d, image, cfg, res.Manifest, map[string]string{
		"api": "import requests, six, urllib3, idna, certifi, charset_normalizer", "worker": "import shared_lib, six",
	})
	if res.NotCompiled != 1 {
		t.Errorf("%d files did not compile, want 1 (legacy.py)", res.NotCompiled)
	}
	var summary strings.Builder
	if err := res.WriteSummary(&summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary.String(), "byte code: 1 file of the units built did not compile") {
		t.Errorf("the summary does not count the file that did not compile:\n%s", summary.String())
	}
	checkByteCode(t, zips(t, cfg, res.Manifest), "shared_lib/legacy.py")

	counting := &dockertest.Counting{Engine: d}
	doc, err := pipeline.PlanWith(context.Background(), cfg, pipeline.PlanOptions{Resolve: true, Engine: counting, CacheDir: cacheDir, Tool: "test",
		Getenv: dockertest.Getenv(cacheDir), Progress: func(line string) { t.Log(line) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.Runs(); n != 0 {
		t.Errorf("plan after a build started %d containers", n)
	}
	for _, f := range doc.Targets[0].Functions {
		if len(f.Unresolved) > 0 || len(f.Layers) == 0 {
			t.Errorf("plan: function %s has unresolved %v, layers %v", f.Name, f.Unresolved, f.Layers)
		}
	}
	offline, err := pipeline.PlanWith(context.Background(), cfg, pipeline.PlanOptions{Resolve: true, Offline: true, CacheDir: cacheDir, Tool: "test",
		Getenv: dockertest.Getenv(cacheDir)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range offline.Targets[0].Functions {
		if len(f.Unresolved) > 0 {
			t.Errorf("offline plan: function %s has unresolved %v", f.Name, f.Unresolved)
		}
	}
}

// TestResolveFailures runs pip in the build image on requirements it
// cannot satisfy, and without the CA bundle on a network that re-signs
// TLS: the first is the inputs' fault, the second one line with the fix,
// never pip's "No matching distribution found" that TLS also makes it say.
func TestResolveFailures(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	ctx := context.Background()
	img, err := builder.ResolveImage(ctx, d, image, target311, false)
	if err != nil {
		t.Fatal(err)
	}
	ca := hostCA(t)
	resolve := func(reqs string, ca []byte) error {
		cfg := writeRepo(t, image, map[string]string{"functions/api/requirements.txt": reqs})
		rs, err := builder.NewPipResolver(builder.PipResolverOptions{Engine: d, CacheDir: t.TempDir(), CABundle: ca, Tool: "test", Root: cfg.Root,
			Env: []string{"PIP_RETRIES=1"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = rs.Resolve(ctx, pipRequest(t, closureOf(t, cfg, "api"), img))
		return err
	}

	err = resolve("six>=9999,<1\n", ca)
	var re *builder.ResolveError
	if !errors.As(err, &re) || !re.Unsatisfiable() || re.TLS() {
		t.Errorf("six>=9999,<1: %v, want pip's unsatisfiable requirement", err)
	}

	err = resolve("six>=1\n", nil)
	switch {
	case err == nil:
		t.Skip("this network does not re-sign TLS: pip verified the index without a CA bundle")
	case !errors.As(err, &re) || !re.TLS() || re.Unsatisfiable():
		t.Errorf("without the CA bundle: %v, want the TLS failure", err)
	case strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "LAYERS_CA_BUNDLE"):
		t.Errorf("the TLS failure is not one line naming the fix: %q", err)
	}
}

// hostCA returns the CA bundle the host trusts, for pip behind a proxy
// that re-signs TLS; nil when there is none.
func hostCA(t *testing.T) []byte {
	t.Helper()
	p := dockertest.HostCABundle()
	if p == "" {
		return nil
	}
	ca, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
