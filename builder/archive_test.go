package builder_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// tinyWheel is a wheel of one module: a zip with the package and its
// dist-info.
func tinyWheel(t *testing.T, name, version string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	info := name + "-" + version + ".dist-info/"
	for _, f := range []struct{ name, data string }{
		{name + "/__init__.py", "WHERE = 'wheel'\n"},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{info + "RECORD", name + "/__init__.py,,\n" + info + "METADATA,,\n" + info + "WHEEL,,\n" + info + "RECORD,,\n"},
	} {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// tinySdist is an sdist whose pyproject.toml names an in-tree build
// backend, so that pip builds it without an index: the backend writes the
// wheel itself.
func tinySdist(t *testing.T, name, version string) string {
	t.Helper()
	backend := `import os, zipfile

NAME, VERSION = %q, %q

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    fn = "%%s-%%s-py3-none-any.whl" %% (NAME, VERSION)
    info = "%%s-%%s.dist-info/" %% (NAME, VERSION)
    with zipfile.ZipFile(os.path.join(wheel_directory, fn), "w") as z:
        z.writestr(NAME + "/__init__.py", "WHERE = 'sdist'\n")
        z.writestr(info + "METADATA", "Metadata-Version: 2.1\nName: %%s\nVersion: %%s\n" %% (NAME, VERSION))
        z.writestr(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(info + "RECORD", "")
    return fn
`
	dir := name + "-" + version + "/"
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, data string }{
		{dir + "pyproject.toml", "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n\n[project]\nname = \"" + name + "\"\nversion = \"" + version + "\"\n"},
		{dir + "PKG-INFO", "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"},
		{dir + "backend.py", fmt.Sprintf(backend, name, version)},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.data))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestBuildLocalArchives builds functions whose requirements name a local
// wheel (as a path and as name @ file:) and a local sdist, and imports
// them from the layers.
func TestBuildLocalArchives(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cfg := writeRepo(t, image, map[string]string{
		"functions/api/requirements.txt":                      "./tinywheel-1.0-py3-none-any.whl\n./tinysdist-2.0.tar.gz\n",
		"functions/api/tinywheel-1.0-py3-none-any.whl":        tinyWheel(t, "tinywheel", "1.0"),
		"functions/api/tinysdist-2.0.tar.gz":                  tinySdist(t, "tinysdist", "2.0"),
		"functions/api/app.py":                                "import tinywheel, tinysdist\n",
		"functions/worker/requirements.txt":                   "tinyfile @ file:./dist/tinyfile-3.0-py3-none-any.whl\n",
		"functions/worker/dist/tinyfile-3.0-py3-none-any.whl": tinyWheel(t, "tinyfile", "3.0"),
		"functions/worker/app.py":                             "import tinyfile\n",
	})
	res, err := build(t, d, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	importLayers(t, d, image, cfg, res.Manifest, map[string]string{
		"api":    "import tinywheel, tinysdist; assert tinywheel.WHERE == 'wheel' and tinysdist.WHERE == 'sdist'",
		"worker": "import tinyfile; assert tinyfile.WHERE == 'wheel'",
	})
}
