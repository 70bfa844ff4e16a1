package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/manifest"
)

// pipEngine stands in for the engine and pip: every unit gets one module
// named after the distribution, sized by its version's patch number.
type pipEngine struct {
	mu   sync.Mutex
	runs int
	env  [][]string
	fail string // a distribution whose install fails
}

var unitArg = regexp.MustCompile(`'--target' '/out/(\d+)'.* '([a-z0-9._-]+)==([^']+)'`)

func (p *pipEngine) ImageID(context.Context, string, string) (string, error) {
	return "sha256:feed", nil
}
func (p *pipEngine) Pull(context.Context, string, string) error {
	return errors.New("no registry here")
}
func (p *pipEngine) RemoveLeftovers(context.Context) (int, error) { return 0, nil }
func (p *pipEngine) Run(_ context.Context, spec engine.RunSpec) error {
	p.mu.Lock()
	p.runs++
	p.env = append(p.env, spec.Env)
	p.mu.Unlock()
	if len(spec.Out) > 0 && spec.Out[0].Path == "/out/tool" { // the builder installs uv
		return extractFiles(spec, archive.FromBytes("tool/uv", []byte("#!/bin/sh\n"), true))
	}
	var files []archive.File
	done := map[string]bool{}
	for _, line := range strings.Split(runScript(spec), "\n") {
		m := unitArg.FindStringSubmatch(line)
		if m == nil || done[m[1]] {
			continue // uv's line comes first, then its fallback to pip
		}
		done[m[1]] = true
		if m[2] == p.fail {
			fmt.Fprintf(spec.Stderr, "ERROR: No matching distribution found for %s==%s\n\n%s%s\n", m[2], m[3], "layers-failed-unit: ", m[1])
			return &engine.ExitError{Code: 3}
		}
		mod := strings.ReplaceAll(m[2], "-", "_")
		files = append(files, archive.FromBytes("out/"+m[1]+"/"+mod+"/__init__.py", []byte(strings.Repeat("#", 100+len(m[3]))), false),
			archive.FromBytes("out/"+m[1]+"/"+mod+"-"+m[3]+".dist-info/METADATA", []byte("Name: "+m[2]+"\n"), false))
	}
	return archive.WriteTar(spec.Stdout, files, archive.DefaultTime) // the units stream out
}

// runScript returns what a build container runs: its command, then the
// unit scripts copied into it.
func runScript(spec engine.RunSpec) string {
	all := strings.Join(spec.Cmd, " ")
	for _, in := range spec.In {
		for _, f := range in.Files {
			if strings.HasSuffix(f.Name, ".sh") {
				rc, err := f.Open()
				if err != nil {
					panic(err)
				}
				data, _ := io.ReadAll(rc)
				rc.Close()
				all += "\n" + string(data)
			}
		}
	}
	return all
}

// extractFiles hands files to the run's output as the container's tar.
func extractFiles(spec engine.RunSpec, files ...archive.File) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.WriteTar(pw, files, archive.DefaultTime)) }()
	defer pr.Close()
	return spec.Out[0].Extract(pr)
}

func repo(t *testing.T, files map[string]string) *config.Config {
	t.Helper()
	dir := testfs.Tree(t, files)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var smallRepo = map[string]string{
	"layers.toml":                       "runtime = \"python3.11\"\narchitectures = [\"x86_64\", \"arm64\"]\n[build]\nimage = \"standin:1\"\n",
	"functions/api/requirements.txt":    "--index-url https://ci:t0ken@index.example.invalid/simple\nsix==1.16.0\nidna==3.10\n",
	"functions/api/app.py":              "",
	"functions/worker/requirements.txt": "six==1.16.0\npyyaml==6.0.2\n",
	"functions/worker/app.py":           "",
}

func testBuild(t *testing.T, cfg *config.Config, e engine.Engine, cacheDir string, env map[string]string) (*BuildResult, error) {
	t.Helper()
	return Build(context.Background(), cfg, BuildOptions{Engine: e, CacheDir: cacheDir, Tool: "test", Jobs: 1,
		Getenv: func(k string) string { return env[k] }})
}

func TestBuildManifest(t *testing.T) {
	cfg := repo(t, smallRepo)
	e := &pipEngine{}
	cacheDir := t.TempDir()
	res, err := testBuild(t, cfg, e, cacheDir, map[string]string{"SOURCE_DATE_EPOCH": "1700000000", "PIP_EXTRA_INDEX_URL": "https://x.example.invalid/simple"})
	if err != nil {
		t.Fatal(err)
	}
	// Two targets; per target api's units (other index) and worker's
	// units share no container, and uv is installed once (six runs).
	if e.runs != 6 || res.UnitsBuilt != 6 || res.UnitsCached != 0 {
		t.Errorf("%d containers, %d units built, %d cached", e.runs, res.UnitsBuilt, res.UnitsCached)
	}
	data, err := os.ReadFile(manifest.Path(cfg.Root))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "t0ken") {
		t.Error("the manifest holds a credential")
	}
	secretSeen := false
	for _, env := range e.env {
		for _, kv := range env {
			secretSeen = secretSeen || kv == "PIP_INDEX_URL=https://ci:t0ken@index.example.invalid/simple"
		}
	}
	if !secretSeen {
		t.Error("the index URL never reached a container's environment")
	}
	m, err := manifest.Read(cfg.Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Targets) != 2 || m.SourceDateEpoch != 1700000000 || m.Targets[0].Image.ID != "sha256:feed" || m.Targets[1].Architecture != "x86_64" {
		t.Fatalf("manifest %s", data)
	}
	for _, tm := range m.Targets {
		inLayers := map[string]bool{}
		for _, l := range tm.Layers {
			sum, b64, size, err := digest.File(filepath.Join(cfg.Root, l.File))
			if err != nil || sum != l.SHA256 || b64 != l.CodeSha256 || size != l.ZippedBytes || l.UnzippedBytes == 0 {
				t.Errorf("layer %s: file %s %s %d %v, manifest %+v", l.Name, sum, b64, size, err, l)
			}
			inLayers[l.Name] = true
		}
		if len(tm.Functions) != 2 {
			t.Errorf("%d functions", len(tm.Functions))
		}
		for _, f := range tm.Functions {
			for _, l := range f.Layers {
				if !inLayers[l] {
					t.Errorf("function %s attaches unknown layer %s", f.Name, l)
				}
			}
		}
	}

	// Nothing changed: no container, no zip written, same manifest.
	again, err := testBuild(t, cfg, e, cacheDir, map[string]string{"SOURCE_DATE_EPOCH": "1700000000"})
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := os.ReadFile(manifest.Path(cfg.Root))
	if e.runs != 6 || again.LayersWritten != 0 || again.UnitsCached != 6 || string(data2) != string(data) {
		t.Errorf("rebuild: %d containers, %d layers written, %d cached, manifest changed %v", e.runs, again.LayersWritten, again.UnitsCached, string(data2) != string(data))
	}

	// Another zip time rewrites every zip; the old ones are gone.
	third, err := testBuild(t, cfg, e, cacheDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if third.LayersWritten != len(m.Targets[0].Layers)+len(m.Targets[1].Layers) || third.Manifest.InputsSHA256 == m.InputsSHA256 {
		t.Errorf("new epoch: %d layers written, inputs digest kept %v", third.LayersWritten, third.Manifest.InputsSHA256 == m.InputsSHA256)
	}
	var sb strings.Builder
	if err := third.WriteSummary(&sb); err != nil || !strings.Contains(sb.String(), "units: 0 built, 6 from cache (100% hits)") {
		t.Errorf("summary %v:\n%s", err, sb.String())
	}
}

func TestBuildFailureWritesNoManifest(t *testing.T) {
	cfg := repo(t, smallRepo)
	_, err := testBuild(t, cfg, &pipEngine{fail: "pyyaml"}, t.TempDir(), nil)
	var ue *builder.UnitError
	if !errors.As(err, &ue) || !strings.HasPrefix(ue.Unit, "pyyaml==6.0.2") || !strings.Contains(err.Error(), "No matching distribution") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Root, manifest.Dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a build that failed installing units created %s (%v)", manifest.Dir, err)
	}
	if _, err := manifest.Read(cfg.Root); err == nil {
		t.Error("ReadManifest found a manifest")
	}
}

func TestBuildBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		want  string
		input bool
	}{
		{"unpinned", map[string]string{
			"layers.toml":                    "runtime = \"python3.11\"\n",
			"functions/api/requirements.txt": "six==1.16.0\nrequests>=2\n",
		}, nil, "resolve function api (python3.11/x86_64)", false}, // the engine failed, not the input: TestPlanUnsatisfiable has the input's fault
		{"two images", map[string]string{
			"layers.toml":                    "runtime = \"python3.11\"\n[build]\nimage = \"a:1\"\n[function.b]\nimage = \"b:1\"\n",
			"functions/a/requirements.txt":   "six==1.16.0\n",
			"functions/b/requirements.txt":   "six==1.16.0\n",
			"functions/api/requirements.txt": "six==1.16.0\n",
		}, nil, "functions api and b of python3.11/x86_64 name different build images (a:1, b:1)", false},
		{"missing CA bundle", map[string]string{
			"layers.toml":                    "runtime = \"python3.11\"\n[build]\nca_bundle = \"certs/ca.pem\"\n",
			"functions/api/requirements.txt": "six==1.16.0\n",
		}, nil, "CA bundle ([build] ca_bundle): open", false},
		{"CA bundle not PEM", map[string]string{
			"layers.toml":                    "runtime = \"python3.11\"\n",
			"functions/api/requirements.txt": "six==1.16.0\n",
			"ca.pem":                         "hello",
		}, map[string]string{"LAYERS_CA_BUNDLE": "ca.pem"}, "holds no PEM certificate", false},
		{"bad epoch", map[string]string{
			"layers.toml":                    "runtime = \"python3.11\"\n",
			"functions/api/requirements.txt": "six==1.16.0\n",
		}, map[string]string{"SOURCE_DATE_EPOCH": "soon"}, "SOURCE_DATE_EPOCH", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := repo(t, tt.files)
			env := tt.env
			if env["LAYERS_CA_BUNDLE"] != "" {
				env = map[string]string{"LAYERS_CA_BUNDLE": filepath.Join(cfg.Root, env["LAYERS_CA_BUNDLE"])}
			}
			_, err := testBuild(t, cfg, &pipEngine{}, t.TempDir(), env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if diag.IsInput(err) != tt.input {
				t.Errorf("input error %v, want %v", diag.IsInput(err), tt.input)
			}
		})
	}
}

func TestManifestJSON(t *testing.T) {
	cfg := repo(t, smallRepo)
	res, err := testBuild(t, cfg, &pipEngine{}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	data, _ := json.Marshal(res.Manifest)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	layer := doc["targets"].([]any)[0].(map[string]any)["layers"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "file", "sha256", "code_sha256", "zipped_bytes", "unzipped_bytes", "packages", "functions"} {
		if _, ok := layer[k]; !ok {
			t.Errorf("layer has no %q: %v", k, layer)
		}
	}
}

// A build with no units says so rather than boast a 100% hit rate.
func TestSummaryUnitCounts(t *testing.T) {
	cases := []struct {
		built, cached int
		want          string
	}{
		{0, 0, "units: none, "},
		{0, 6, "units: 0 built, 6 from cache (100% hits), "},
		{1, 3, "units: 1 built, 3 from cache (75% hits), "},
	}
	for _, c := range cases {
		var sb strings.Builder
		r := &BuildResult{Manifest: &manifest.Manifest{}, UnitsBuilt: c.built, UnitsCached: c.cached}
		if err := r.WriteSummary(&sb); err != nil || !strings.Contains(sb.String(), c.want) {
			t.Errorf("%d built, %d cached: summary %q, %v; want %q", c.built, c.cached, sb.String(), err, c.want)
		}
	}
}

// TestBuildWaitsForAnotherRun holds the repository's lock as a running
// build or publish would: a second build waits, says so, and finishes
// once the lock is let go; it never writes while the other run holds it.
func TestBuildWaitsForAnotherRun(t *testing.T) {
	cfg := repo(t, smallRepo)
	ctx := context.Background()
	unlock, err := manifest.Lock(ctx, cfg.Root, nil)
	if err != nil {
		t.Fatal(err)
	}
	notices := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		_, err := Build(ctx, cfg, BuildOptions{Engine: &pipEngine{}, CacheDir: t.TempDir(), Tool: "test",
			Getenv: func(string) string { return "" }, Notice: func(s string) { notices <- s }})
		done <- err
	}()
	select {
	case n := <-notices:
		if !strings.Contains(n, "waiting for another layers run") {
			t.Errorf("notice %q", n)
		}
	case err := <-done:
		t.Fatalf("the build ran while another held the lock: %v", err)
	}
	if _, err := os.Stat(manifest.Path(cfg.Root)); err == nil {
		t.Error("the waiting build wrote a manifest")
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(manifest.Path(cfg.Root)); err != nil {
		t.Errorf("no manifest after the wait: %v", err)
	}
}
