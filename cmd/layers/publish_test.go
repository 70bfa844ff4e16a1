package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/internal/testkit/motoserver"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/stamp"
)

// builtRepo writes a repository as `layers build` leaves it: one function,
// one layer zip, and a manifest whose inputs digest matches.
func builtRepo(t *testing.T) string {
	t.Helper()
	root := testfs.Tree(t, map[string]string{
		"layers.toml":                       "functions = [\"functions/*\"]\n",
		"functions/orders/requirements.txt": "six==1.16.0\n",
		"functions/orders/app.py":           "def handler(e, c): pass\n",
	})
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := stamp.Current(context.Background(), cfg, buildinfo.Version, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if err := archive.WriteZip(&zip, []archive.File{archive.FromBytes("python/six.py", []byte("# six\n"), false)}, time.Unix(315532800, 0)); err != nil {
		t.Fatal(err)
	}
	rel := manifest.DistDir + "/t-six.zip"
	if err := os.MkdirAll(filepath.Join(root, manifest.DistDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, rel), zip.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zip.Bytes())
	m := &manifest.Manifest{Format: manifest.Format, Tool: buildinfo.Version, InputsSHA256: digest, Targets: []manifest.Target{{
		Runtime: "python3.12", Architecture: "x86_64",
		Layers: []manifest.Layer{{Name: "t-six", File: rel, SHA256: hex.EncodeToString(sum[:]),
			CodeSha256: base64.StdEncoding.EncodeToString(sum[:]), ZippedBytes: int64(zip.Len()),
			Packages: []planner.PackageRef{{Name: "six", Version: "1.16.0"}}, Functions: []string{"orders"}}},
		Functions: []manifest.Function{{Name: "orders", Path: "functions/orders", PackageType: planner.PackageLayers, Layers: []string{"t-six"}}},
	}}}
	if err := manifest.Write(root, m); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestPublishCLI(t *testing.T) {
	s := motoserver.Start(t)
	s.Setenv(t)
	t.Setenv("SOURCE_DATE_EPOCH", "")
	root := builtRepo(t)
	arn := "arn:aws:lambda:us-east-1:123456789012:layer:t-six:1"

	code, stdout, stderr := runCLI(t, "publish", "--dir", root, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "t-six  publish") {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "publish", "--dir", root)
	if code != 0 || !strings.Contains(stdout, "t-six  published") || !strings.Contains(stderr, "layer t-six: published version 1") {
		t.Fatalf("publish: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "publish", "--dir", root)
	if code != 0 || !strings.Contains(stdout, "t-six  reused") || !strings.Contains(stdout, "0 published, 1 reused") {
		t.Fatalf("second publish: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(t, "outputs", "--dir", root, "--format", "env")
	if code != 0 || stdout != "LAYERS_ORDERS_X86_64_LAYERS="+arn+"\n" {
		t.Fatalf("outputs env: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "outputs", "--dir", root)
	if code != 0 || !strings.Contains(stdout, `"`+arn+`"`) {
		t.Fatalf("outputs json: exit %d\n%s", code, stdout)
	}
	code, _, stderr = runCLI(t, "outputs", "--dir", root, "--format", "yaml")
	if code != exitBadInput || !strings.Contains(stderr, "json, tfvars, env, sam") {
		t.Fatalf("outputs yaml: exit %d, stderr %s", code, stderr)
	}

	code, stdout, stderr = runCLI(t, "gc", "--dir", root, "--keep", "0", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "0 versions to delete") {
		t.Fatalf("gc: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	os.WriteFile(filepath.Join(root, "functions/orders/requirements.txt"), []byte("six==1.17.0\n"), 0o644)
	code, _, stderr = runCLI(t, "publish", "--dir", root)
	if code != exitFailure || !strings.Contains(stderr, "run `layers build`") {
		t.Fatalf("stale manifest: exit %d, stderr %s", code, stderr)
	}
}

func TestPublishCLINoManifest(t *testing.T) {
	root := t.TempDir()
	code, stdout, stderr := runCLI(t, "publish", "--dir", root)
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "run `layers build` first") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "outputs", "--dir", root)
	if code != exitFailure || !strings.Contains(stderr, "run `layers publish` first") {
		t.Fatalf("outputs: exit %d, stderr %q", code, stderr)
	}
}
