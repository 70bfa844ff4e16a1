package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	return testfs.Tree(t, files)
}

func sixRepo(t *testing.T, image string) string {
	return writeFiles(t, map[string]string{
		"layers.toml":                    "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n[build]\nimage = \"" + image + "\"\n",
		"functions/api/requirements.txt": "six==1.16.0\n",
		"functions/api/app.py":           "import six\n",
	})
}

func TestBuildUnreachableEngine(t *testing.T) {
	dir := sixRepo(t, dockertest.DefaultImage)
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	t.Setenv("LAYERS_CACHE", t.TempDir())
	code, stdout, stderr := runCLI(t, "build", "--dir", dir)
	if code != exitFailure || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if want := "layers: cannot reach the Docker engine at tcp://127.0.0.1:1"; !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".layers", "build.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("manifest written: %v", err)
	}
}

func TestBuildBadFlags(t *testing.T) {
	for _, args := range [][]string{{"build", "--jobs", "x"}, {"build", "extra"}, {"cache", "prune", "--older-than", "soon"}} {
		code, _, stderr := runCLI(t, args...)
		if code == exitOK || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestBuildJSON runs the command against the real engine and the stand-in
// image: fails without them when CI is set, skips otherwise.
func TestBuildJSON(t *testing.T) {
	dir := sixRepo(t, needStandin(t))
	code, stdout, stderr := runCLI(t, "build", "--dir", dir, "--json", "--jobs", "1")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var m struct {
		Targets []struct {
			Layers []struct {
				Name, File, SHA256 string
			}
			Functions []struct {
				Name   string
				Layers []string
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || len(m.Targets) != 1 || len(m.Targets[0].Layers) != 1 {
		t.Fatalf("stdout %v:\n%s", err, stdout)
	}
	if f := m.Targets[0].Functions; len(f) != 1 || f[0].Layers[0] != m.Targets[0].Layers[0].Name {
		t.Errorf("functions %+v", f)
	}
	for _, want := range []string{"unit six==1.16.0 (python3.11/x86_64): built", "LAYER", "units: 1 built, 0 from cache"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = runCLI(t, "build", "--dir", dir)
	if code != exitOK || !strings.Contains(stderr, "units: 0 built, 1 from cache") {
		t.Errorf("rebuild: exit %d\n%s", code, stderr)
	}
}

// TestPlanUnsatisfiable runs plan on a requirement no release satisfies,
// with pip in the stand-in image: exit 2, naming the file and line, and
// the same for build.
func TestPlanUnsatisfiable(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"layers.toml":                    "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n[build]\nimage = \"" + needStandin(t) + "\"\n",
		"functions/api/requirements.txt": "idna==3.10\nsix>=9999,<1\n",
	})
	for _, cmd := range []string{"plan", "build"} {
		code, stdout, stderr := runCLI(t, cmd, "--dir", dir)
		if code != exitBadInput || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q", cmd, code, stdout)
		}
		if !strings.Contains(stderr, "functions/api/requirements.txt:2: function api: six>=9999,<1 is not pinned, and pip could not resolve") {
			t.Errorf("%s: stderr does not name the file and line:\n%s", cmd, stderr)
		}
	}
}
