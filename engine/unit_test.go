package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// TestUnitInstall goes the whole way for one real unit, twice, from an
// index: pip installs it in a fresh container, the folder comes out as a
// tar, is pruned and zipped, and both builds give the same bytes.
func TestUnitInstall(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	in, env := dockertest.HostCA(t)
	var sums []string
	var zipped []byte
	for range 2 {
		dst := t.TempDir()
		var stderr bytes.Buffer
		err := d.Run(context.Background(), engine.RunSpec{
			Image:    image,
			Platform: dockertest.Platform,
			Cmd: []string{"python3", "-m", "pip", "install", "--no-deps", "--target", "/out",
				"--root-user-action=ignore", "--disable-pip-version-check", "--no-input", "six==1.16.0"},
			Env:    env,
			In:     in,
			Out:    []engine.CopyOut{{Path: "/out", Extract: extractTo(dst)}},
			Stderr: &stderr,
		})
		if err != nil {
			t.Fatalf("pip install: %v\n%s", err, stderr.String())
		}
		// pip's own pycs carry timestamps; layers compiles the byte code it
		// ships itself (builder/compile.py), so this install strips them.
		res, err := prune.Prune(dst, prune.Options{Bytecode: prune.BytecodeStrip})
		if err != nil {
			t.Fatal(err)
		}
		if res.Files == 0 {
			t.Error("nothing pruned; pip compiles six.py to __pycache__")
		}
		files, err := archive.Collect(os.DirFS(dst), "python")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := archive.WriteZip(&buf, files, archive.DefaultTime); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		sums = append(sums, hex.EncodeToString(sum[:]))
		zipped = buf.Bytes()
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of six 1.16.0 differ: %s and %s", sums[0], sums[1])
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if strings.Contains(f.Name, "__pycache__") {
			t.Errorf("%s survived pruning", f.Name)
		}
	}
	for _, want := range []string{"python/six.py", "python/six-1.16.0.dist-info/METADATA", "python/six-1.16.0.dist-info/RECORD"} {
		if !slices.Contains(names, want) {
			t.Errorf("zip has no %s; it has %q", want, names)
		}
	}
	t.Logf("six 1.16.0 layer: %d bytes, sha256 %s", len(zipped), sums[0])
}
