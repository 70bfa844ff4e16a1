package builder_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/pipeline"
)

// monorepo is a small repository with two functions sharing six (its
// hashes pinned, so pip runs with --require-hashes): one with the requests
// stack, one with PyYAML's binary wheel.
var monorepo = map[string]string{
	"functions/api/requirements.txt": "six==1.16.0 \\\n    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254 \\\n" +
		"    --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926\nrequests==2.32.3\nurllib3==2.2.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n",
	"functions/api/app.py":              "import requests\n",
	"functions/worker/requirements.txt": "six==1.16.0\nPyYAML==6.0.2\n",
	"functions/worker/app.py":           "import yaml\n",
}

// imports are what each function of monorepo must be able to import from
// its layers alone.
var imports = map[string]string{"api": "import six, requests, urllib3, idna, certifi, charset_normalizer", "worker": "import six, yaml; yaml.CLoader"}

func writeRepo(t *testing.T, image string, files map[string]string) *config.Config {
	t.Helper()
	return writeRepoTB(t, image, files)
}

func writeRepoTB(t testing.TB, image string, files map[string]string) *config.Config {
	t.Helper()
	files["layers.toml"] = "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n\n[build]\nimage = \"" + image + "\"\n" + files["layers.toml"]
	dir := testfs.Tree(t, files)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func build(t *testing.T, e engine.Engine, cfg *config.Config, cacheDir string) (*pipeline.BuildResult, error) {
	t.Helper()
	return pipeline.Build(context.Background(), cfg, pipeline.BuildOptions{
		Engine: e, CacheDir: cacheDir, Tool: "test", Getenv: dockertest.Getenv(cacheDir),
		Progress: func(line string) { t.Log(line) },
	})
}

func zips(t *testing.T, cfg *config.Config, m *manifest.Manifest) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, tm := range m.Targets {
		for _, l := range tm.Layers {
			data, err := os.ReadFile(filepath.Join(cfg.Root, filepath.FromSlash(l.File)))
			if err != nil {
				t.Fatal(err)
			}
			out[l.Name] = data
		}
	}
	return out
}

// TestBuildEndToEnd builds a real monorepo twice with empty caches, checks
// the zips are byte-identical, rebuilds with nothing changed (no
// container), and imports every function's packages from its layers in
// the build image.
func TestBuildEndToEnd(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)

	var first map[string][]byte
	var last *pipeline.BuildResult
	var lastCfg *config.Config
	var lastCache string
	for i := range 2 {
		cfg := writeRepo(t, image, copyMap(monorepo))
		cacheDir := t.TempDir()
		res, err := build(t, d, cfg, cacheDir)
		if err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		if res.UnitsBuilt != 7 || res.UnitsCached != 0 {
			t.Errorf("build %d: %d units built, %d cached; want 7 and 0", i+1, res.UnitsBuilt, res.UnitsCached)
		}
		got := zips(t, cfg, res.Manifest)
		if first == nil {
			first = got
		} else {
			if len(got) != len(first) {
				t.Errorf("builds made %d and %d layers", len(first), len(got))
			}
			for name, data := range first {
				if !bytes.Equal(got[name], data) {
					t.Errorf("layer %s differs between two builds with empty caches", name)
				}
			}
		}
		last, lastCfg, lastCache = res, cfg, cacheDir
	}

	counting := &dockertest.Counting{Engine: d}
	again, err := build(t, counting, lastCfg, lastCache)
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.Runs(); n != 0 {
		t.Errorf("a rebuild with nothing changed started %d containers", n)
	}
	if again.UnitsBuilt != 0 || again.LayersWritten != 0 || again.LayersReused != len(first) {
		t.Errorf("rebuild: %d units built, %d layers written, %d reused", again.UnitsBuilt, again.LayersWritten, again.LayersReused)
	}
	if again.Manifest.InputsSHA256 != last.Manifest.InputsSHA256 {
		t.Error("inputs digest changed without a change")
	}

	importLayers(t, d, image, lastCfg, last.Manifest, imports)
	// Byte code is compiled by default, and identical across the two
	// cold builds above; Python loads it without reading the source.
	t.Logf("%d pycs in the layers", checkByteCode(t, first))
	importFromByteCode(t, d, image, first, "six")
	for _, l := range last.Manifest.Targets[0].Layers {
		if l.ByteCodeBytes <= 0 || l.ByteCodeBytes >= l.UnzippedBytes {
			t.Errorf("layer %s: %d bytes of byte code of %d", l.Name, l.ByteCodeBytes, l.UnzippedBytes)
		}
	}
}

// importLayers runs each function's import statement in the build image
// with only its layers, extracted in order, on PYTHONPATH.
func importLayers(t *testing.T, d engine.Engine, image string, cfg *config.Config, m *manifest.Manifest, imports map[string]string) {
	t.Helper()
	importLayersOn(t, d, image, dockertest.Platform, cfg, m, imports)
}

// importLayersOn is importLayers in an image of platform plat.
func importLayersOn(t *testing.T, d engine.Engine, image, plat string, cfg *config.Config, m *manifest.Manifest, imports map[string]string) {
	t.Helper()
	layers := zips(t, cfg, m)
	for _, f := range m.Targets[0].Functions {
		var files []archive.File
		seen := map[string]bool{}
		for _, name := range f.Layers {
			files = append(files, unzip(t, layers[name], seen)...)
		}
		var out bytes.Buffer
		err := d.Run(context.Background(), engine.RunSpec{
			Image: image, Platform: plat,
			Cmd:    []string{"python3", "-c", imports[f.Name]},
			Env:    []string{"PYTHONPATH=/opt/python", "PYTHONDONTWRITEBYTECODE=1"},
			In:     []engine.CopyIn{{Dir: "/opt", Files: files}},
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Errorf("function %s: %q from its layers %v: %v\n%s", f.Name, imports[f.Name], f.Layers, err, out.String())
		}
	}
}

// TestBuildFailedPip checks that a package the installer (uv, the
// default) cannot install is named, with uv's last lines, and that no
// manifest is written.
func TestBuildFailedPip(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cfg := writeRepo(t, image, map[string]string{
		"functions/api/requirements.txt": "six==1.16.0\nno-such-distribution-layers-test==9.9.9\n",
		"functions/api/app.py":           "",
	})
	cacheDir := t.TempDir()
	_, err := build(t, d, cfg, cacheDir)
	var ue *builder.UnitError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want a *builder.UnitError", err)
	}
	if !strings.Contains(ue.Unit, "no-such-distribution-layers-test==9.9.9") || !strings.Contains(ue.Tail, "not found in the package registry") ||
		!strings.Contains(err.Error(), "uv's last lines") {
		t.Errorf("error does not name the package or show pip's lines:\n%v", err)
	}
	if _, err := os.Stat(manifest.Path(cfg.Root)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build left a manifest (%v)", err)
	}
}

// unzip returns a layer zip's files for copying into /opt; files another
// layer already gave are skipped, as the later layer would win anyway.
func unzip(t *testing.T, data []byte, seen map[string]bool) []archive.File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var files []archive.File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || seen[f.Name] {
			continue
		}
		seen[f.Name] = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, archive.FromBytes(f.Name, content, f.Mode()&0o111 != 0))
	}
	return files
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// BenchmarkNoChangeRebuild times `layers build` of the monorepo with
// nothing changed: resolve, cache look-ups, zip checks and the manifest,
// with no container (reported as containers/op).
func BenchmarkNoChangeRebuild(b *testing.B) {
	d := dockertest.Engine(b)
	image := dockertest.Image(b, d)
	cfg := writeRepoTB(b, image, copyMap(monorepo))
	cacheDir := b.TempDir()
	opts := pipeline.BuildOptions{Engine: d, CacheDir: cacheDir, Tool: "bench", Getenv: dockertest.Getenv(cacheDir)}
	if _, err := pipeline.Build(context.Background(), cfg, opts); err != nil {
		b.Fatal(err)
	}
	counting := &dockertest.Counting{Engine: d}
	opts.Engine = counting
	for b.Loop() {
		res, err := pipeline.Build(context.Background(), cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		if res.UnitsBuilt != 0 || res.LayersWritten != 0 {
			b.Fatalf("rebuild built %d units, wrote %d layers", res.UnitsBuilt, res.LayersWritten)
		}
	}
	b.ReportMetric(float64(counting.Runs())/float64(b.N), "containers/op")
}

// TestBuildHeavyStripped builds packages with large compiled extensions
// with every opt-in prune rule on, strip included, and checks that they
// still import and work: strip and test removal are the rules that break
// layers in today's tools.
func TestBuildHeavyStripped(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cfg := writeRepo(t, image, map[string]string{
		"layers.toml": "\n[prune]\ntests = true\nstrip = true\npatterns = [\"**/*.pyi\"]\n",
		"functions/science/requirements.txt": "numpy==2.1.3\npydantic==2.9.2\npydantic-core==2.23.4\nannotated-types==0.7.0\n" +
			"typing-extensions==4.12.2\nPyYAML==6.0.2\n",
		"functions/science/app.py": "",
	})
	cacheDir := t.TempDir()
	res, err := build(t, d, cfg, cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if res.SavedBytes == 0 {
		t.Error("pruning numpy's tests saved nothing")
	}
	var numpy *manifest.Layer
	for i, l := range res.Manifest.Targets[0].Layers {
		for _, p := range l.Packages {
			if p.Name == "numpy" {
				numpy = &res.Manifest.Targets[0].Layers[i]
			}
		}
	}
	if numpy == nil {
		t.Fatal("no layer holds numpy")
	}
	t.Logf("stripped, pruned layers: %d bytes unzipped for numpy's layer, %d bytes pruned", numpy.UnzippedBytes, res.SavedBytes)
	importLayers(t, d, image, cfg, res.Manifest, map[string]string{
		"science": "import numpy, pydantic, yaml; assert numpy.linalg.inv(numpy.eye(3)).sum() == 3; " +
			"assert pydantic.TypeAdapter(int).validate_python('7') == 7; yaml.load('a: 1', Loader=yaml.CLoader)",
	})
}

// TestBuildCancel stops a build while pip runs, as Ctrl-C does: the build
// returns the cancellation, writes no manifest and leaves no container.
func TestBuildCancel(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cfg := writeRepo(t, image, map[string]string{
		"functions/science/requirements.txt": "numpy==2.1.3\n",
		"functions/science/app.py":           "",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := &cancellingEngine{Engine: d, cancel: cancel}
	cacheDir := t.TempDir()
	_, err := pipeline.Build(ctx, cfg, pipeline.BuildOptions{Engine: e, CacheDir: cacheDir, Tool: "test", Getenv: dockertest.Getenv(cacheDir)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(manifest.Path(cfg.Root)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cancelled build left a manifest (%v)", err)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	host, _ := os.Hostname()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", engine.LabelOwner+"="+host+":"+strconv.Itoa(os.Getpid())))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("%d containers left after cancelling", len(list))
	}
}

// cancellingEngine cancels the build a moment after its first container
// starts.
type cancellingEngine struct {
	engine.Engine
	cancel func()
}

func (c *cancellingEngine) Run(ctx context.Context, spec engine.RunSpec) error {
	time.AfterFunc(time.Second, c.cancel)
	return c.Engine.Run(ctx, spec)
}

// TestBuildInstallersSameFiles builds one monorepo cold with uv (the
// default) and with pip: every layer holds the same files with the same
// bytes, but for each distribution's INSTALLER (the installer's name) and
// RECORD (each installer lists the files it wrote in its own order and
// form). That difference is why the installer is part of a unit's key.
func TestBuildInstallersSameFiles(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	files := func(installer string) map[string]string {
		cfg := writeRepo(t, image, map[string]string{
			"layers.toml":                    "installer = \"" + installer + "\"\n",
			"functions/api/requirements.txt": "six==1.16.0\nidna==3.10\nPyYAML==6.0.2\n",
			"functions/api/app.py":           "",
		})
		res, err := build(t, d, cfg, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", installer, err)
		}
		out := map[string]string{}
		for _, data := range zips(t, cfg, res.Manifest) {
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				out[f.Name] = string(b)
			}
		}
		return out
	}
	uv, pip := files("uv"), files("pip")
	differ := 0
	for name, content := range uv {
		other, ok := pip[name]
		switch {
		case !ok:
			t.Errorf("only uv installs %s", name)
		case strings.HasSuffix(name, ".dist-info/INSTALLER"):
			if content != "uv\n" && content != "uv" || other != "pip\n" {
				t.Errorf("%s: uv wrote %q, pip %q", name, content, other)
			}
			differ++
		case strings.HasSuffix(name, ".dist-info/RECORD"):
		case content != other:
			t.Errorf("%s differs between the installers", name)
		}
	}
	for name := range pip {
		if _, ok := uv[name]; !ok {
			t.Errorf("only pip installs %s", name)
		}
	}
	if differ != 3 {
		t.Errorf("%d INSTALLER files, want one per distribution (3)", differ)
	}
}
