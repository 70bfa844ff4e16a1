package digest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

func names(files []archive.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}

var functionTree = map[string]string{
	"app.py":                          "def handler(e, c): return 1\n",
	"lib/util.py":                     "",
	"lib/data.json":                   "{}",
	"requirements.txt":                "six==1.16.0\n",
	"tests/test_app.py":               "",
	"lib/tests/test_util.py":          "",
	".venv/lib/site.py":               "",
	"venv/bin/python":                 "",
	"__pycache__/app.cpython-311.pyc": "",
	"lib/util.pyc":                    "",
	".pytest_cache/v":                 "",
	".mypy_cache/x":                   "",
	"node_modules/x/index.js":         "",
	".git/HEAD":                       "",
	".DS_Store":                       "",
	"pkg.egg-info/PKG-INFO":           "",
}

func TestFunctionFilesDefault(t *testing.T) {
	dir := testfs.Tree(t, functionTree)
	files, err := FunctionFiles(dir, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app.py", "lib/data.json", "lib/util.py", "requirements.txt"}
	if got := names(files); !slices.Equal(got, want) {
		t.Errorf("source files = %v, want %v", got, want)
	}
}

func TestFunctionFilesGlobs(t *testing.T) {
	dir := testfs.Tree(t, functionTree)
	for _, c := range []struct {
		globs []string
		want  []string
	}{
		{[]string{"**/*.py"}, []string{"app.py", "lib/util.py"}},
		{[]string{"app.py", "lib"}, []string{"app.py", "lib/data.json", "lib/util.py"}},
		{[]string{"lib/**"}, []string{"lib/data.json", "lib/util.py"}},
		{[]string{"nothing/*"}, nil},
	} {
		files, err := FunctionFiles(dir, dir, c.globs)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(files); !slices.Equal(got, c.want) {
			t.Errorf("globs %v: %v, want %v", c.globs, got, c.want)
		}
	}
}

func TestFunctionFilesLinks(t *testing.T) {
	dir := testfs.Tree(t, map[string]string{"app.py": "x", "real/shared.py": "y"})
	if err := os.Symlink(filepath.Join(dir, "real", "shared.py"), filepath.Join(dir, "shared.py")); err != nil {
		t.Fatal(err)
	}
	files, err := FunctionFiles(dir, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(files); !slices.Equal(got, []string{"app.py", "real/shared.py", "shared.py"}) {
		t.Errorf("files = %v", got)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling.py")); err != nil {
		t.Fatal(err)
	}
	if _, err := FunctionFiles(dir, dir, nil); err == nil || !strings.Contains(err.Error(), "dangling.py") {
		t.Errorf("a dangling link: %v, want an error naming it", err)
	}
}

// TestFunctionFilesLinkOut: a link in an image function's folder that
// leads out of the repository is an input error naming it, not a file
// copied into the image.
func TestFunctionFilesLinkOut(t *testing.T) {
	base := testfs.Tree(t, map[string]string{"repo/functions/api/app.py": "x", "repo/common/shared.py": "y", "outside/secret.py": "SECRET"})
	root := filepath.Join(base, "repo")
	dir := filepath.Join(root, "functions", "api")
	if err := os.Symlink("../../common/shared.py", filepath.Join(dir, "shared.py")); err != nil {
		t.Fatal(err)
	}
	files, err := FunctionFiles(root, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(files); !slices.Equal(got, []string{"app.py", "shared.py"}) {
		t.Errorf("files = %v", got)
	}
	if err := os.Symlink("../../../outside/secret.py", filepath.Join(dir, "secret.py")); err != nil {
		t.Fatal(err)
	}
	want := "functions/api/secret.py: a symbolic link that leads outside the repository: nothing outside the repository goes into a build"
	if _, err := FunctionFiles(root, dir, nil); err == nil || err.Error() != want || !diag.IsInput(err) {
		t.Errorf("a link out: %v, want %q", err, want)
	}
}
