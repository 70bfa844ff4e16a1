package builder_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/pipeline"
)

// TestBuildRefusesLocksWithoutWheel builds testdata/wheelcompat (a
// uv.lock pinning numpy 2.4.6 and a poetry.lock pinning pyarrow 26.0.1,
// written against today's index for CPython 3.11) for python3.11 in the
// stand-in, on the real engine: the build must refuse both, naming the
// lock entries and the wheels, before it starts a container (pip would
// build pyarrow from source and end in a compiler's error).
func TestBuildRefusesLocksWithoutWheel(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../testdata/wheelcompat")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(root, "layers.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("\n[build]\nimage = \"" + image + "\"\n")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	e := &dockertest.Counting{Engine: d}
	_, err = build(t, e, cfg, t.TempDir())
	var de *diag.Error
	if !errors.As(err, &de) || de.Path != "functions/stats/uv.lock" || de.Line != 10 ||
		!strings.Contains(err.Error(), "numpy 2.4.6: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); the lock has manylinux_2_27/2_28") ||
		!strings.Contains(err.Error(), "pyarrow 26.0.1: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); the lock has manylinux_2_28") {
		t.Fatalf("build: %v\nwant an input error at functions/stats/uv.lock:10 naming numpy and pyarrow", err)
	}
	if n := e.Runs(); n != 0 {
		t.Errorf("%d containers ran before the refusal", n)
	}
	if _, err := os.Stat(filepath.Join(root, ".layers", "build.json")); err == nil {
		t.Error("a refused build wrote a manifest")
	}
}

// TestBuildRefusesPinnedRequirementWithoutWheel: a pinned requirements
// file lists no files, so the build asks the index (here one on
// 127.0.0.1, which only the host reaches) before it installs the unit.
func TestBuildRefusesPinnedRequirementWithoutWheel(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/simple/pyarrow/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"meta": map[string]string{"api-version": "1.0"}, "name": "pyarrow", "files": []map[string]any{
			{"filename": "pyarrow-20.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "url": "x", "hashes": map[string]string{}},
			{"filename": "pyarrow-26.0.1-cp311-cp311-manylinux_2_28_x86_64.whl", "url": "x", "hashes": map[string]string{}},
			{"filename": "pyarrow-26.0.1.tar.gz", "url": "x", "hashes": map[string]string{}},
		}})
	}))
	defer srv.Close()
	cfg := writeRepo(t, image, map[string]string{
		"functions/export/requirements.txt": "--index-url " + srv.URL + "/simple\npyarrow==26.0.1\n",
		"functions/export/app.py":           "import pyarrow\n",
	})
	e := &dockertest.Counting{Engine: d}
	cacheDir := t.TempDir()
	_, err := pipeline.Build(context.Background(), cfg, pipeline.BuildOptions{Engine: e, CacheDir: cacheDir, Tool: "test",
		Getenv: dockertest.Getenv(cacheDir), Progress: func(line string) { t.Log(line) }})
	var de *diag.Error
	if !errors.As(err, &de) || de.Path != "functions/export/requirements.txt" || de.Line != 2 ||
		!strings.Contains(err.Error(), "pyarrow 26.0.1: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); the index has manylinux_2_28 only") ||
		!strings.Contains(err.Error(), "pyarrow 20.0.0 is the newest release with a wheel it loads") {
		t.Fatalf("build: %v\nwant an input error at requirements.txt:2 naming pyarrow and 20.0.0", err)
	}
	if n := e.Runs(); n != 0 {
		t.Errorf("%d containers ran before the refusal", n)
	}
}
