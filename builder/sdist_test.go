package builder_test

import (
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
		"functions/cli/pyproject.toml": "[project]\nname = \"cli\"\nversion = \"1.0\"\ndependencies = [\"docopt\"]\n",
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
}
