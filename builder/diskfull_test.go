//go:build linux

package builder_test

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// TestBuildDiskFull builds into a unit cache on a 1 MiB tmpfs, which
// PyYAML (about 2.5 MiB installed) fills: the error names the unit, says
// what failed, and shows none of the lines of a pip that succeeded.
func TestBuildDiskFull(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cacheDir := t.TempDir()
	if err := syscall.Mount("tmpfs", cacheDir, "tmpfs", 0, "size=1m"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount a small tmpfs (CI runs as root): %v", err)
		}
		t.Skipf("cannot mount a small tmpfs here (root only): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(cacheDir, syscall.MNT_DETACH) })
	cfg := writeRepo(t, image, map[string]string{
		// pip: the uv binary alone would fill the disk before any unit.
		"layers.toml":                    "installer = \"pip\"\n",
		"functions/api/requirements.txt": "PyYAML==6.0.2\n",
	})
	_, err := build(t, d, cfg, cacheDir)
	if err == nil {
		t.Fatal("a build into a full disk succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "pyyaml==6.0.2 (python3.11/x86_64)") || !strings.Contains(msg, "no space left on device") {
		t.Errorf("the error does not name the unit and the full disk:\n%s", msg)
	}
	if strings.Contains(msg, "pip's last lines") {
		t.Errorf("the error shows the lines of a pip that succeeded:\n%s", msg)
	}
}
