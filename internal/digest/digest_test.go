package digest

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

// TestLocalPackageSymlinks: links inside the repository are followed (a
// file, a folder), their content is in the digest, and a link that leads
// out is an input error naming it.
func TestLocalPackageSymlinks(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "repo")
	testfs.WriteFiles(t, base, map[string]string{
		"repo/libs/shared/pyproject.toml":         "[project]\nname = \"shared\"\n",
		"repo/libs/shared/src/shared/__init__.py": "",
		"repo/common/helper.py":                   "x = 1\n",
		"repo/common/data/table.csv":              "a,b\n",
		"outside/secret.py":                       "SECRET = 1\n",
	})
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	link("../../../../common/helper.py", "libs/shared/src/shared/helper.py")
	link("../../../../common/data", "libs/shared/src/shared/data")
	link("..", "libs/shared/src/shared/data_loop") // the shared package itself: a loop
	files, err := LocalPackageFiles(root, "libs/shared")
	if err == nil {
		t.Fatalf("a link loop was walked: %q", names(files))
	}
	os.Remove(filepath.Join(root, "libs/shared/src/shared/data_loop"))

	files, err = LocalPackageFiles(root, "libs/shared")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pyproject.toml", "src/shared/__init__.py", "src/shared/data/table.csv", "src/shared/helper.py"}
	if got := names(files); !slices.Equal(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
	for _, f := range files {
		if f.Name == "src/shared/helper.py" {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			if string(data) != "x = 1\n" {
				t.Errorf("helper.py = %q", data)
			}
		}
	}
	before, err := LocalPackage(root, "libs/shared")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "common/helper.py"), []byte("x = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _ := LocalPackage(root, "libs/shared"); after == before {
		t.Error("the digest does not follow the linked file's content")
	}

	link("../../../../../outside/secret.py", "libs/shared/src/shared/secret.py")
	_, err = LocalPackageFiles(root, "libs/shared")
	want1 := "libs/shared/src/shared/secret.py: a symbolic link that leads outside the repository: nothing outside the repository goes into a build"
	if err == nil || err.Error() != want1 || !diag.IsInput(err) {
		t.Errorf("link out: %v, want %q", err, want1)
	}
	os.Remove(filepath.Join(root, "libs/shared/src/shared/secret.py"))
	link("../../outside", "libs/out")
	if _, err := LocalPackageFiles(root, "libs/out"); err == nil || !diag.IsInput(err) {
		t.Errorf("a package folder linking out: %v", err)
	}
}

// TestLocalPackageArchive: a wheel or sdist file is one file, named by its
// base name, not a folder to walk.
func TestLocalPackageArchive(t *testing.T) {
	root := testfs.Tree(t, map[string]string{"dist/six-1.16.0-py2.py3-none-any.whl": "PK", "dist/six-1.16.0.tar.gz": "gz"})
	for _, rel := range []string{"dist/six-1.16.0-py2.py3-none-any.whl", "dist/six-1.16.0.tar.gz"} {
		files, err := LocalPackageFiles(root, rel)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(files); !slices.Equal(got, []string{filepath.Base(rel)}) || !LocalArchive(root, rel) {
			t.Errorf("%s: files = %q", rel, got)
		}
		if _, err := LocalPackage(root, rel); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	if LocalArchive(root, "dist") {
		t.Error("a folder is an archive")
	}
}
