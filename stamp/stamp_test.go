package stamp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/manifest"
)

var repo = map[string]string{
	"layers.toml":                       "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n",
	"functions/api/requirements.txt":    "six==1.16.0\n",
	"functions/api/app.py":              "import six\n",
	"functions/worker/requirements.txt": "../../libs/shared\n",
	"functions/worker/app.py":           "import shared\n",
	"libs/shared/pyproject.toml":        "[project]\nname = \"shared\"\nversion = \"1.0\"\n",
	"libs/shared/shared/__init__.py":    "",
}

func noEnv(string) string { return "" }

// TestStamp checks what the stamp covers: a build's stamp is fresh until
// an input file, a local package's source, the tool or the zip time
// changes, and a function's own code is not part of it.
func TestStamp(t *testing.T) {
	ctx := context.Background()
	dir := testfs.Tree(t, repo)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	built, err := Current(ctx, cfg, "1.0", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.Write(dir, &manifest.Manifest{Format: manifest.Format, Tool: "1.0", InputsSHA256: built}); err != nil {
		t.Fatal(err)
	}
	fresh := func() error { _, err := ReadFresh(ctx, cfg, "1.0", noEnv); return err }
	write := func(rel, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := fresh(); err != nil {
		t.Fatalf("the manifest just written: %v", err)
	}
	write("functions/api/app.py", "import six  # edited\n")
	if err := fresh(); err != nil {
		t.Errorf("a function's own code changed: %v; the stamp covers only what the layers hold", err)
	}
	if other, err := Current(ctx, cfg, "2.0", noEnv); err != nil || other == built {
		t.Errorf("another tool version: stamp %s (%v), want a new one", other, err)
	}
	if other, err := Current(ctx, cfg, "1.0", func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1700000000"
		}
		return ""
	}); err != nil || other == built {
		t.Errorf("another zip time: stamp %s (%v), want a new one", other, err)
	}
	write("libs/shared/shared/__init__.py", "X = 1\n")
	if err := fresh(); !errors.Is(err, ErrStaleManifest) {
		t.Errorf("a local package's source changed: %v, want ErrStaleManifest", err)
	}
	write("libs/shared/shared/__init__.py", "")
	if err := fresh(); err != nil {
		t.Fatalf("the source restored: %v", err)
	}
	write("functions/api/requirements.txt", "six==1.17.0\n")
	if err := fresh(); !errors.Is(err, ErrStaleManifest) {
		t.Errorf("a requirements file changed: %v, want ErrStaleManifest", err)
	}
}
