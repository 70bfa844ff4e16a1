package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/manifest"
)

// TestBuildEnginesNotFound: a [build] engines address that names no
// Docker context on this machine is bad input at its line; one that does
// not answer names the line that configured it. Nothing is written.
func TestBuildEnginesNotFound(t *testing.T) {
	for _, tc := range []struct {
		name, engines, want string
		input               bool
	}{
		{"context", "[build.engines]\nx86_64 = [\n  \"unix:///var/run/docker.sock\",\n  \"nosuch\",\n]\n",
			`layers.toml:6: build.engines: no docker context "nosuch" on this machine`, true},
		{"socket", "[build.engines]\nx86_64 = [\"unix:///nonexistent/layers.sock\"]\n",
			`cannot reach the Docker engine at unix:///nonexistent/layers.sock: is it running? (`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range smallRepo {
				files[k] = v
			}
			files["layers.toml"] = "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n" + tc.engines
			cfg := repo(t, files)
			env := map[string]string{"DOCKER_CONFIG": t.TempDir()}
			_, err := testBuild(t, cfg, nil, t.TempDir(), env)
			if err == nil || !strings.Contains(err.Error(), tc.want) || diag.IsInput(err) != tc.input {
				t.Fatalf("build: %v (input error: %v), want %q", err, diag.IsInput(err), tc.want)
			}
			if !tc.input && !strings.Contains(err.Error(), filepath.Join(cfg.Root, "layers.toml")+":4 names it in [build] engines") {
				t.Errorf("build: %v, want the line that names the engine", err)
			}
			if _, serr := os.Stat(manifest.Path(cfg.Root)); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("a failed build wrote its manifest: %v", serr)
			}
		})
	}
}
