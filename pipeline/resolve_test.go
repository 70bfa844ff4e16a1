package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/resolver"
)

// resolvingEngine is pipEngine that also answers pip's dry runs with a
// report resolving six and idna (without hashes, which pipEngine's
// install line does not expect).
type resolvingEngine struct {
	pipEngine
	resolves []engine.RunSpec
}

const sixIdnaReport = `{"version": "1", "pip_version": "23.0.1", "install": [
 {"download_info": {"url": "https://files.example.invalid/packages/six-1.17.0-py2.py3-none-any.whl", "archive_info": {}},
  "is_direct": false, "requested": true, "metadata": {"metadata_version": "2.1", "name": "six", "version": "1.17.0"}},
 {"download_info": {"url": "https://files.example.invalid/packages/idna-3.20-py3-none-any.whl", "archive_info": {}},
  "is_direct": false, "requested": false, "metadata": {"metadata_version": "2.4", "name": "IDNA", "version": "3.20"}}]}`

func (r *resolvingEngine) Run(ctx context.Context, spec engine.RunSpec) error {
	if !strings.Contains(strings.Join(spec.Cmd, " "), "--dry-run") {
		return r.pipEngine.Run(ctx, spec)
	}
	r.mu.Lock()
	r.resolves = append(r.resolves, spec)
	r.mu.Unlock()
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(archive.WriteTar(pw, []archive.File{archive.FromBytes("out/report.json", []byte(sixIdnaReport), false)}, archive.DefaultTime))
	}()
	defer pr.Close()
	return spec.Out[0].Extract(pr)
}

var unpinnedRepo = map[string]string{
	"layers.toml":                    "runtime = \"python3.11\"\n[build]\nimage = \"standin:1\"\n",
	"functions/api/requirements.txt": "--index-url https://ci:t0ken@index.example.invalid/simple\nsix>=1.16\n",
	"functions/api/app.py":           "",
}

func TestBuildResolvesUnpinned(t *testing.T) {
	cfg := repo(t, unpinnedRepo)
	e := &resolvingEngine{}
	cacheDir := t.TempDir()
	res, err := testBuild(t, cfg, e, cacheDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.resolves) != 1 {
		t.Fatalf("%d resolutions, want 1", len(e.resolves))
	}
	spec := e.resolves[0]
	if strings.Contains(strings.Join(spec.Cmd, " "), "t0ken") {
		t.Error("the index credentials are on pip's command line")
	}
	if !slices.Contains(spec.Env, "PIP_INDEX_URL=https://ci:t0ken@index.example.invalid/simple") {
		t.Errorf("the input file's index is not in the environment: %v", spec.Env)
	}
	var pkgs []string
	for _, l := range res.Manifest.Targets[0].Layers {
		for _, p := range l.Packages {
			pkgs = append(pkgs, p.Name+"=="+p.Version)
		}
	}
	slices.Sort(pkgs)
	if want := []string{"idna==3.20", "six==1.17.0"}; !slices.Equal(pkgs, want) {
		t.Errorf("layers hold %v, want %v", pkgs, want)
	}
	entries, err := os.ReadDir(filepath.Join(cacheDir, "resolutions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		data, err := os.ReadFile(filepath.Join(cacheDir, "resolutions", de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "t0ken") || strings.Contains(de.Name(), "t0ken") {
			t.Errorf("resolution cache file %s holds the credential", de.Name())
		}
	}

	// A second build, and a plan, use the cached resolution.
	if _, err := testBuild(t, cfg, e, cacheDir, nil); err != nil {
		t.Fatal(err)
	}
	doc, err := PlanWith(context.Background(), cfg, PlanOptions{Resolve: true, Engine: e, CacheDir: cacheDir, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.resolves) != 1 {
		t.Errorf("%d resolutions after a rebuild and a plan, want 1", len(e.resolves))
	}
	if f := doc.Targets[0].Functions[0]; len(f.Unresolved) > 0 || len(f.Packages) != 2 {
		t.Errorf("plan: %+v", f)
	}
}

// A plan without an engine or a cached resolution reports the unresolved
// requirements, as one that does not resolve at all.
func TestPlanOfflineKeepsUnresolved(t *testing.T) {
	cfg := repo(t, unpinnedRepo)
	for _, o := range []PlanOptions{{Resolve: true, Offline: true, CacheDir: t.TempDir()}, {}} {
		doc, err := PlanWith(context.Background(), cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		f := doc.Targets[0].Functions[0]
		if len(f.Unresolved) != 1 || f.Unresolved[0].Requirement != "six>=1.16" || len(f.Packages) != 0 {
			t.Errorf("%+v: function %+v", o, f)
		}
	}
}

func TestCulprit(t *testing.T) {
	un := []resolver.Unresolved{
		{Path: "functions/api/requirements.txt", Line: 1, Requirement: "requests>=2.31,<3"},
		{Path: "functions/api/requirements.txt", Line: 2, Requirement: "Six>=99"},
	}
	tests := []struct {
		output string
		line   int
	}{
		{"ERROR: Could not find a version that satisfies the requirement six>=99\nERROR: No matching distribution found for six>=99\n", 2},
		{"ERROR: No matching distribution found for urllib3<0\n", 1}, // a dependency's: no line of the file
		{"ERROR: Cannot install requests because these package versions have conflicting dependencies.\n", 1},
	}
	for _, tt := range tests {
		if got := culprit(un, tt.output); got.Line != tt.line {
			t.Errorf("%q: line %d, want %d", tt.output, got.Line, tt.line)
		}
	}
}
