package builder_test

import (
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// TestBuildFromSdist builds a release that has no wheel at all (docopt
// 0.6.2 ships only an sdist): the lock lists the sdist, so the unit is
// built from it in the image, with the lock's hash required, and imports.
func TestBuildFromSdist(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cfg := writeRepo(t, image, map[string]string{
		"functions/cli/pyproject.toml": "[project]\nname = \"cli\"\nversion = \"1.0\"\ndependencies = [\"docopt\"]\n\n" +
			"[tool.setuptools]\npy-modules = [\"app\", \"legacy\"]\n",
		// A Python 2 leftover: it does not compile, and that is no failure.
		"functions/cli/legacy.py": "print \"python 2\"\n",
		"functions/cli/uv.lock": `version = 1
requires-python = ">=3.11"

[[package]]
name = "cli"
version = "1.0"
source = { editable = "." }
dependencies = [{ name = "docopt" }]

[[package]]
name = "docopt"
version = "0.6.2"
source = { registry = "https://index.example.invalid/simple" }
sdist = { url = "https://files.example.invalid/packages/docopt-0.6.2.tar.gz", hash = "sha256:49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491", size = 25901 }
`,
		"functions/cli/app.py": "import docopt\n",
	})
	res, err := build(t, d, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	importLayers(t, d, image, cfg, res.Manifest, map[string]string{
		"cli": "import docopt; assert docopt.docopt('usage: x [--v]', argv=['--v'])['--v']",
	})
	if res.NotCompiled != 1 {
		t.Errorf("%d files did not compile, want 1 (legacy.py)", res.NotCompiled)
	}
	var summary strings.Builder
	if err := res.WriteSummary(&summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary.String(), "byte code: 1 file of the units built did not compile") {
		t.Errorf("summary does not count the file that did not compile:\n%s", summary.String())
	}
	checkByteCode(t, zips(t, cfg, res.Manifest), "legacy.py")
}
