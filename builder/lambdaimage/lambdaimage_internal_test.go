package lambdaimage

import (
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/resolver"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	return testfs.Tree(t, files)
}

func TestTag(t *testing.T) {
	key := strings.Repeat("ab", 32)
	for name, want := range map[string]string{
		"reports":       "layers/reports:abababababababab",
		"Big_Reports":   "layers/big-reports:abababababababab",
		"--x..y--":      "layers/x-y:abababababababab",
		"___":           "layers/function:abababababababab",
		"api.v2-export": "layers/api-v2-export:abababababababab",
	} {
		if got := Tag(name, key); got != want {
			t.Errorf("Tag(%q) = %s, want %s", name, got, want)
		}
	}
}

// unit returns a cached-unit stand-in holding files.
func unit(t *testing.T, name string, files map[string]string) builder.Unit {
	t.Helper()
	return builder.Unit{
		Spec: builder.UnitSpec{Package: resolver.Package{Name: name, Version: "1.0"}, Target: config.Target{Runtime: "python3.11", Architecture: "x86_64"}},
		Key:  cache.Key{Distribution: name, Version: "1.0", Runtime: "python3.11", Architecture: "x86_64", ImageID: "sha256:b", Prune: "p", Tool: "t"},
		Dir:  writeTree(t, files),
	}
}

func TestTaskFilesAndKey(t *testing.T) {
	six := unit(t, "six", map[string]string{"six.py": "# six", "six-1.0.dist-info/METADATA": "Name: six"})
	idna := unit(t, "idna", map[string]string{"idna/__init__.py": "# idna"})
	src, err := functionFiles(writeTree(t, map[string]string{"app.py": "import six"}))
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Function: "f", Base: builder.Image{ID: "sha256:base", Platform: "linux/amd64"}, Handler: "app.handler",
		Units: []builder.Unit{six, idna}, Source: src}
	files, bytes, err := taskFiles(s)
	if err != nil {
		t.Fatal(err)
	}
	var regular []string
	for _, f := range files {
		if !f.Dir {
			regular = append(regular, f.Name)
		}
	}
	want := []string{"var/task/app.py", "var/task/idna/__init__.py", "var/task/six-1.0.dist-info/METADATA", "var/task/six.py"}
	if !slices.Equal(regular, want) {
		t.Errorf("task files = %v, want %v", regular, want)
	}
	if want := int64(len("# six") + len("Name: six") + len("# idna") + len("import six")); bytes != want {
		t.Errorf("content bytes = %d, want %d", bytes, want)
	}
	six.Bytes, idna.Bytes = int64(len("# six")+len("Name: six")), int64(len("# idna"))
	s.Units = []builder.Unit{six, idna}
	if got := contentBytes(s); got != bytes {
		t.Errorf("content bytes from the cache entries = %d, from the files %d", got, bytes)
	}

	key := func(s Spec) string {
		t.Helper()
		k, err := contentKey(s)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(s)
	reordered := s
	reordered.Units = []builder.Unit{idna, six}
	if key(reordered) != base {
		t.Error("the content key depends on the units' order")
	}
	for what, change := range map[string]func(*Spec){
		"handler":  func(s *Spec) { s.Handler = "app.other" },
		"base":     func(s *Spec) { s.Base.ID = "sha256:other" },
		"platform": func(s *Spec) { s.Base.Platform = "linux/arm64" },
		"units":    func(s *Spec) { s.Units = s.Units[:1] },
		"bytecode": func(s *Spec) { s.StripByteCode = true },
		"source": func(s *Spec) {
			src, err := functionFiles(writeTree(t, map[string]string{"app.py": "import idna"}))
			if err != nil {
				t.Fatal(err)
			}
			s.Source = src
		},
	} {
		c := s
		change(&c)
		if key(c) == base {
			t.Errorf("changing the %s leaves the content key as it was", what)
		}
	}

	clash, err := functionFiles(writeTree(t, map[string]string{"six.py": "mine"}))
	if err != nil {
		t.Fatal(err)
	}
	s.Source = clash
	if _, _, err := taskFiles(s); err == nil || !strings.Contains(err.Error(), "six.py is also in package six") {
		t.Errorf("a function file shadowing a package file: %v", err)
	}
}

// functionFiles is digest.FunctionFiles of a folder that is its own repository.
func functionFiles(dir string) ([]archive.File, error) { return digest.FunctionFiles(dir, dir, nil) }

// TestTaskFilesByteCode checks that an image ships its units' byte code,
// and none of it with StripByteCode, nor the folders that held it.
func TestTaskFilesByteCode(t *testing.T) {
	six := unit(t, "six", map[string]string{"six.py": "# six", "__pycache__/six.cpython-311.pyc": "pyc",
		"six-1.0.dist-info/METADATA": "Name: six"})
	six.Bytes, six.ByteCode = int64(len("# six")+len("pyc")+len("Name: six")), int64(len("pyc"))
	s := Spec{Function: "f", Base: builder.Image{ID: "sha256:base", Platform: "linux/amd64"}, Handler: "app.handler",
		Units: []builder.Unit{six}}
	for _, strip := range []bool{false, true} {
		s.StripByteCode = strip
		files, bytes, err := taskFiles(s)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.Name)
		}
		slices.Sort(got)
		want := []string{"var/task", "var/task", "var/task/__pycache__", "var/task/__pycache__/six.cpython-311.pyc",
			"var/task/six-1.0.dist-info", "var/task/six-1.0.dist-info/METADATA", "var/task/six.py"}
		if strip {
			want = slices.DeleteFunc(want, func(n string) bool { return strings.Contains(n, "__pycache__") })
		}
		if !slices.Equal(got, want) {
			t.Errorf("strip %t: task files %q, want %q", strip, got, want)
		}
		if c := contentBytes(s); c != bytes {
			t.Errorf("strip %t: content bytes from the cache entries = %d, from the files %d", strip, c, bytes)
		}
	}
}

// A unit may not install more than an image could hold.
func TestMaxUnitBytesIsTheImageLimit(t *testing.T) {
	if builder.MaxUnitBytes != MaxImageBytes {
		t.Errorf("builder.MaxUnitBytes = %d, want MaxImageBytes %d", builder.MaxUnitBytes, MaxImageBytes)
	}
}
