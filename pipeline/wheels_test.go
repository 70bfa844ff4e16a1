package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/resolver"
)

// wheelCompatRepo copies testdata/wheelcompat: a uv.lock (numpy 2.4.6)
// and a poetry.lock (pyarrow 26.0.1) that uv and Poetry wrote against
// today's index for CPython 3.11, whose Linux wheels all need glibc 2.27
// or 2.28, built for python3.11 (Amazon Linux 2, glibc 2.26).
func wheelCompatRepo(t *testing.T) *config.Config {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../testdata/wheelcompat")); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const (
	numpyRefused = "numpy 2.4.6: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); " +
		"the lock has manylinux_2_27/2_28, musllinux_1_2 (musl libc, which Lambda does not have) only"
	pyarrowRefused = "pyarrow 26.0.1: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); " +
		"the lock has manylinux_2_28, musllinux_1_2 (musl libc, which Lambda does not have) only"
)

func TestPlanNamesPackagesWithoutWheel(t *testing.T) {
	cfg := wheelCompatRepo(t)
	doc, err := PlanWith(context.Background(), cfg, PlanOptions{Offline: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Targets[0].Wheels
	if len(got) != 2 || got[0].Message != numpyRefused || got[1].Message != pyarrowRefused || !got[0].Refused() || !got[1].Refused() {
		t.Fatalf("wheel problems:\n%+v\nwant numpy and pyarrow refused:\n%s\n%s", got, numpyRefused, pyarrowRefused)
	}
	if got[0].File != "functions/stats/uv.lock" || got[0].Line != 10 || got[1].File != "functions/export/poetry.lock" || got[1].Line != 212 {
		t.Errorf("pins at %s:%d and %s:%d, want the locks' entries", got[0].File, got[0].Line, got[1].File, got[1].Line)
	}
	if strings.Join(got[0].Functions, ",") != "stats" || strings.Join(got[1].Functions, ",") != "export" {
		t.Errorf("functions %v and %v", got[0].Functions, got[1].Functions)
	}
	var text strings.Builder
	if err := doc.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "refused by `layers build`: "+numpyRefused) {
		t.Errorf("the text does not name numpy:\n%s", text.String())
	}
	err = doc.Refused()
	var d *diag.Error
	if !errors.As(err, &d) || d.Path != "functions/stats/uv.lock" || d.Line != 10 || !strings.Contains(d.Msg, pyarrowRefused) {
		t.Errorf("Refused() = %v, want an input error at functions/stats/uv.lock:10 naming both", err)
	}
}

// indexServer serves PEP 691 project pages from 127.0.0.1.
func indexServer(t *testing.T, projects map[string][]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/")
		files, ok := projects[name]
		if !ok || !strings.Contains(r.Header.Get("Accept"), "application/vnd.pypi.simple.v1+json") {
			http.NotFound(w, r)
			return
		}
		type file struct {
			Filename       string `json:"filename"`
			URL            string `json:"url"`
			RequiresPython string `json:"requires-python,omitempty"`
			Yanked         any    `json:"yanked"`
		}
		page := struct {
			Meta  map[string]string `json:"meta"`
			Name  string            `json:"name"`
			Files []file            `json:"files"`
		}{Meta: map[string]string{"api-version": "1.1"}, Name: name}
		for _, f := range files {
			yanked := any(false)
			if n, ok := strings.CutPrefix(f, "yanked:"); ok {
				f, yanked = n, "broken"
			}
			page.Files = append(page.Files, file{Filename: f, URL: "https://files.example.invalid/" + f, RequiresPython: ">=3.9", Yanked: yanked})
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		_ = json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var indexProjects = map[string][]string{
	"numpy": {
		"numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "numpy-2.2.6.tar.gz",
		"numpy-2.3.5-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "numpy-2.3.5.tar.gz",
		"yanked:numpy-2.3.4-cp311-cp311-manylinux_2_17_x86_64.whl",
		"numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "numpy-2.4.6.tar.gz",
		"numpy-2.5.0rc1-cp311-cp311-manylinux_2_17_x86_64.whl",
	},
	"pyarrow": {
		"pyarrow-20.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"pyarrow-21.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", "pyarrow-26.0.1-cp311-cp311-manylinux_2_28_x86_64.whl",
	},
	"six":    {"six-1.16.0-py2.py3-none-any.whl", "six-1.16.0.tar.gz"},
	"docopt": {"docopt-0.6.2.tar.gz"},
	"orjson": {"orjson-3.11.0-cp311-cp311-manylinux_2_28_x86_64.whl", "orjson-3.11.0-cp311-cp311-musllinux_1_2_x86_64.whl", "orjson-3.11.0.tar.gz"},
}

// TestPlanAsksTheIndexForAFix: with an index configured, plan names the
// newest release that has a wheel the runtime loads (not a yanked or a
// pre-release one) and how to pin it.
func TestPlanAsksTheIndexForAFix(t *testing.T) {
	srv := indexServer(t, indexProjects)
	cfg := wheelCompatRepo(t)
	env := map[string]string{"PIP_INDEX_URL": srv.URL + "/simple"}
	doc, err := PlanWith(context.Background(), cfg, PlanOptions{Engine: &pipEngine{}, CacheDir: t.TempDir(),
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	fixes := map[string]WheelFix{}
	for _, p := range doc.Targets[0].Wheels {
		if p.Fix != nil {
			fixes[p.Name] = *p.Fix
		}
	}
	want := map[string]WheelFix{
		"numpy": {Version: "2.2.6", Below: "2.3.5", UV: "uv add 'numpy<2.3.5' (or in [tool.uv] constraint-dependencies)",
			Poetry: "poetry add 'numpy<2.3.5'", Requirements: "numpy==2.2.6"},
		"pyarrow": {Version: "20.0.0", Below: "21.0.0", UV: "uv add 'pyarrow<21.0.0' (or in [tool.uv] constraint-dependencies)",
			Poetry: "poetry add 'pyarrow<21.0.0'", Requirements: "pyarrow==20.0.0"},
	}
	for name, w := range want {
		if fixes[name] != w {
			t.Errorf("%s: fix %+v, want %+v", name, fixes[name], w)
		}
	}
	var text strings.Builder
	_ = doc.WriteText(&text)
	if !strings.Contains(text.String(), "numpy 2.2.6 is the newest release with a wheel it loads; pin it:") {
		t.Errorf("the text has no fix:\n%s", text.String())
	}
}

// TestPinnedRequirementsFromTheIndex: a pinned requirements file lists no
// files; plan asks the index, and classifies what it lists as it does a
// lock's files.
func TestPinnedRequirementsFromTheIndex(t *testing.T) {
	srv := indexServer(t, indexProjects)
	cfg := repo(t, map[string]string{
		"layers.toml":                    "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n",
		"functions/api/requirements.txt": "six==1.16.0\ndocopt==0.6.2\n\norjson==3.11.0\n",
		"functions/api/app.py":           "",
	})
	env := map[string]string{"PIP_INDEX_URL": srv.URL + "/simple/"}
	doc, err := PlanWith(context.Background(), cfg, PlanOptions{Engine: &pipEngine{}, CacheDir: t.TempDir(),
		Getenv: func(k string) string { return env[k] }, Progress: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Targets[0].Wheels
	if len(got) != 2 || got[0].Name != "orjson" || !got[0].Refused() || got[0].Line != 4 || got[0].File != "functions/api/requirements.txt" ||
		!strings.Contains(got[0].Message, "the index has manylinux_2_28, musllinux_1_2") ||
		got[1].Name != "docopt" || got[1].Availability != resolver.AvailableSource {
		t.Errorf("wheel problems %+v, want orjson refused at requirements.txt:4 and docopt built from source", got)
	}
	// Offline, plan asks nothing.
	doc, err = PlanWith(context.Background(), cfg, PlanOptions{Offline: true, CacheDir: t.TempDir(), Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Targets[0].Wheels) != 0 {
		t.Errorf("offline: %+v", doc.Targets[0].Wheels)
	}
}

// TestBuildRefusesBeforeAnyContainer: build stops at the lock's packages
// with no wheel for the runtime before it runs a container.
func TestBuildRefusesBeforeAnyContainer(t *testing.T) {
	cfg := wheelCompatRepo(t)
	e := &pipEngine{}
	_, err := testBuild(t, cfg, e, t.TempDir(), nil)
	var d *diag.Error
	if !errors.As(err, &d) || d.Path != "functions/stats/uv.lock" || d.Line != 10 || !strings.Contains(err.Error(), numpyRefused) ||
		!strings.Contains(err.Error(), pyarrowRefused) {
		t.Fatalf("build: %v, want an input error at functions/stats/uv.lock:10 naming numpy and pyarrow", err)
	}
	if e.runs != 0 {
		t.Errorf("%d containers ran", e.runs)
	}
}

// TestBuildAsksTheIndexForPinnedRequirements: a pinned requirement whose
// release has only wheels for a newer glibc is refused before its unit is
// built, naming the requirement's line.
func TestBuildAsksTheIndexForPinnedRequirements(t *testing.T) {
	srv := indexServer(t, indexProjects)
	cfg := repo(t, map[string]string{
		"layers.toml":                    "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n[build]\nimage = \"standin:1\"\n",
		"functions/api/requirements.txt": "six==1.16.0\norjson==3.11.0\n",
		"functions/api/app.py":           "",
	})
	e := &pipEngine{}
	_, err := testBuild(t, cfg, e, t.TempDir(), map[string]string{"PIP_INDEX_URL": srv.URL + "/simple"})
	var d *diag.Error
	if !errors.As(err, &d) || d.Path != "functions/api/requirements.txt" || d.Line != 2 ||
		!strings.Contains(err.Error(), "orjson 3.11.0: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); the index has manylinux_2_28") {
		t.Fatalf("build: %v, want an input error at requirements.txt:2 naming orjson", err)
	}
	if e.runs != 0 {
		t.Errorf("%d containers ran", e.runs)
	}
}
