package stamp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/resolver"
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

// A stale manifest names what changed, with the parts a build records,
// and an old manifest without them still reads.
func TestStaleSaysWhatChanged(t *testing.T) {
	ctx := context.Background()
	dir := testfs.Tree(t, repo)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, parts, err := Compute(cfg, res, "1.0", archive.DefaultTime)
	if err != nil {
		t.Fatal(err)
	}
	if old, err := Inputs(cfg, res, "1.0", archive.DefaultTime); err != nil || old != sum {
		t.Fatalf("Inputs = %s, %v; want Compute's digest %s", old, err, sum)
	}
	write := func(rel, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	epoch := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1700000000"
		}
		return ""
	}
	cases := []struct {
		name   string
		change func() (restore func())
		tool   string
		getenv func(string) string
		want   string
	}{
		{"zip time", nil, "1.0", epoch, "SOURCE_DATE_EPOCH changed (the build used 315532800, now 1700000000)"},
		{"tool", nil, "2.0", noEnv, "the layers version changed (built by 1.0, this is 2.0)"},
		{"config", func() func() {
			write("layers.toml", repo["layers.toml"]+"# edited\n")
			return func() { write("layers.toml", repo["layers.toml"]) }
		}, "1.0", noEnv, "layers.toml changed"},
		{"an input file", func() func() {
			write("functions/api/requirements.txt", "six==1.17.0\n")
			return func() { write("functions/api/requirements.txt", repo["functions/api/requirements.txt"]) }
		}, "1.0", noEnv, "functions/api/requirements.txt changed"},
		{"a local package", func() func() {
			write("libs/shared/shared/__init__.py", "X = 1\n")
			return func() { write("libs/shared/shared/__init__.py", "") }
		}, "1.0", noEnv, "the source of local package libs/shared changed"},
	}
	for _, withParts := range []bool{true, false} {
		m := &manifest.Manifest{Format: manifest.Format, Tool: "1.0", InputsSHA256: sum, SourceDateEpoch: archive.DefaultTime.Unix()}
		if withParts {
			m.Stamp = parts
		}
		if err := manifest.Write(dir, m); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			restore := func() {}
			if c.change != nil {
				restore = c.change()
			}
			_, err := ReadFresh(ctx, cfg, c.tool, c.getenv)
			restore()
			want := c.want
			if !withParts && c.change != nil {
				want = "layers.toml or a function's inputs changed" // all an old manifest can tell
			}
			if !errors.Is(err, ErrStaleManifest) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run `layers build`") {
				t.Errorf("parts %v, %s: err = %v, want ErrStaleManifest saying %q", withParts, c.name, err, want)
			}
			if c.name != "zip time" && strings.Contains(fmt.Sprint(err), "SOURCE_DATE_EPOCH") {
				t.Errorf("parts %v, %s: err = %v blames the zip time", withParts, c.name, err)
			}
		}
	}
}
