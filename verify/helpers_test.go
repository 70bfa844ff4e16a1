package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/pipeline"
)

// writeRepo writes files into a new repository whose layers.toml builds
// and verifies python3.11 x86_64 in the stand-in image; the extra config
// comes after those settings.
func writeRepo(t *testing.T, image, extra string, files map[string]string) *config.Config {
	t.Helper()
	all := map[string]string{"layers.toml": "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n\n[build]\nimage = \"" + image +
		"\"\n\n[verify]\nimage = \"" + image + "\"\n" + extra}
	for k, v := range files {
		all[k] = v
	}
	dir := testfs.Tree(t, all)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// readTree returns the files under dir, by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func build(t *testing.T, e engine.Engine, cfg *config.Config, cacheDir string) *pipeline.BuildResult {
	t.Helper()
	res, err := pipeline.Build(context.Background(), cfg, pipeline.BuildOptions{
		Engine: e, CacheDir: cacheDir, Tool: "test", Getenv: dockertest.Getenv(cacheDir),
		Progress: func(line string) { t.Log(line) },
	})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return res
}

// standin returns the engine and the stand-in image, or skips (fails in
// CI) without them.
func standin(t *testing.T) (*engine.Docker, string) {
	t.Helper()
	d := dockertest.Engine(t)
	return d, dockertest.Image(t, d)
}
