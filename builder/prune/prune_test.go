package prune

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unit is a site-packages folder shaped like real installs of numpy,
// pandas, botocore and friends; values are file sizes.
var unit = map[string]int{
	"numpy/__init__.py":                           100,
	"numpy/__pycache__/__init__.cpython-311.pyc":  40,
	"numpy/core/__init__.py":                      10,
	"numpy/core/_multiarray_umath.so":             5000,
	"numpy/core/tests/test_core.py":               300,
	"numpy/core/tests/data/x.npy":                 700,
	"numpy/testing/__init__.py":                   20,
	"numpy/tests/test_a.py":                       30,
	"numpy/legacy.pyo":                            7,
	"numpy.libs/libopenblas.so":                   9000,
	"numpy.libs/tests/x":                          1,
	"numpy-1.26.4.dist-info/METADATA":             50,
	"numpy-1.26.4.dist-info/RECORD":               60,
	"numpy-1.26.4.dist-info/tests/x":              1,
	"numpy-1.26.4.dist-info/__pycache__/x.pyc":    2,
	"pandas/_testing/__init__.py":                 30,
	"pandas/tests/frame/test_frame.py":            400,
	"pandas/tests/__pycache__/x.cpython-311.pyc":  80,
	"legacy.egg-info/PKG-INFO":                    5,
	"legacy.egg-info/tests/x.pyc":                 5,
	"tests/test_top.py":                           9,
	"bin/f2py":                                    11,
	"botocore/data/s3/2006-03-01/service-2.json":  600,
	"botocore/data/ec2/2016-11-15/service-2.json": 900,
	"botocore/data/endpoints.json":                70,
	"botocore/README.md":                          12,
	"pkg/test/helpers.py":                         3,
	"pkg/test.py":                                 4,
	// Byte code as compile mode leaves it before pruning.
	"six.py":                          33,
	"__pycache__/six.cpython-311.pyc": 21,
	"numpy/core/__pycache__/__init__.cpython-311.pyc":        8,
	"numpy/core/tests/__pycache__/test_core.cpython-311.pyc": 90,
	"numpy/__pycache__/__init__.cpython-311.opt-1.pyc":       39,
	"numpy/__pycache__/gone.cpython-311.pyc":                 6,
	"numpy/core/__init__.pyc":                                3,
	"botocore/__pycache__/README.cpython-311.pyc":            2,
}

func makeUnit(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, size := range unit {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "emptypkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// listing returns every file and folder under dir.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrune(t *testing.T) {
	// Compile mode keeps the pycs of kept sources and nothing else.
	orphans := []string{
		"numpy/__pycache__/__init__.cpython-311.opt-1.pyc", "numpy/__pycache__/gone.cpython-311.pyc",
		"numpy/core/__init__.pyc", "botocore/__pycache__/", "botocore/__pycache__/README.cpython-311.pyc",
		"numpy/legacy.pyo", "pandas/tests/__pycache__/", "pandas/tests/__pycache__/x.cpython-311.pyc",
	}
	defaults := orphans
	allByteCode := append([]string{
		"numpy/__pycache__/", "numpy/__pycache__/__init__.cpython-311.pyc", "__pycache__/", "__pycache__/six.cpython-311.pyc",
		"numpy/core/__pycache__/", "numpy/core/__pycache__/__init__.cpython-311.pyc",
		"numpy/core/tests/__pycache__/", "numpy/core/tests/__pycache__/test_core.cpython-311.pyc",
	}, orphans...)
	testFolders := append([]string{
		"numpy/core/tests/", "numpy/core/tests/test_core.py", "numpy/core/tests/data/", "numpy/core/tests/data/x.npy",
		"numpy/core/tests/__pycache__/", "numpy/core/tests/__pycache__/test_core.cpython-311.pyc",
		"numpy/tests/", "numpy/tests/test_a.py",
		"pandas/tests/", "pandas/tests/frame/", "pandas/tests/frame/test_frame.py",
		"pkg/test/", "pkg/test/helpers.py",
	}, defaults...)
	tests := []struct {
		name string
		opts Options
		gone []string // files and folders removed
	}{
		{"default", Options{}, defaults},
		{"compile", Options{Bytecode: BytecodeCompile}, defaults},
		{"strip byte code", Options{Bytecode: BytecodeStrip}, allByteCode},
		{"tests", Options{Tests: true}, testFolders},
		{"a pruned source takes its pyc", Options{Patterns: []string{"six.py", "numpy/core/__init__.py"}}, append([]string{
			"six.py", "__pycache__/", "__pycache__/six.cpython-311.pyc",
			"numpy/core/__init__.py", "numpy/core/__pycache__/", "numpy/core/__pycache__/__init__.cpython-311.pyc",
		}, defaults...)},
		{"a kept source keeps its pyc", Options{Patterns: []string{"numpy/core/**"}, Keep: []string{"numpy/core/__init__.py"}}, append([]string{
			"numpy/core/_multiarray_umath.so", "numpy/core/tests/", "numpy/core/tests/test_core.py", "numpy/core/tests/data/",
			"numpy/core/tests/data/x.npy", "numpy/core/tests/__pycache__/", "numpy/core/tests/__pycache__/test_core.cpython-311.pyc",
		}, defaults...)},
		{"patterns with keep", Options{
			Patterns: []string{"botocore/data/**", "**/*.md"},
			Keep:     []string{"botocore/data/s3/**", "botocore/data/endpoints.json"},
		}, append([]string{
			"botocore/data/ec2/", "botocore/data/ec2/2016-11-15/", "botocore/data/ec2/2016-11-15/service-2.json",
			"botocore/README.md",
		}, defaults...)},
		{"keep wins over defaults", Options{Bytecode: BytecodeStrip, Keep: []string{"numpy/__pycache__"}},
			slices.DeleteFunc(slices.Clone(allByteCode), func(p string) bool { return strings.HasPrefix(p, "numpy/__pycache__/") })},
		{"a compiled pyc follows its source, whatever the globs", Options{Patterns: []string{"**/__pycache__"}, Keep: []string{"numpy/__pycache__/gone*"}}, defaults},
		{"folder pattern", Options{Patterns: []string{"numpy/core"}}, append([]string{
			"numpy/core/", "numpy/core/__init__.py", "numpy/core/_multiarray_umath.so",
			"numpy/core/tests/", "numpy/core/tests/test_core.py", "numpy/core/tests/data/", "numpy/core/tests/data/x.npy",
			"numpy/core/tests/__pycache__/", "numpy/core/tests/__pycache__/test_core.cpython-311.pyc",
			"numpy/core/__pycache__/", "numpy/core/__pycache__/__init__.cpython-311.pyc",
		}, defaults...)},
		{"metadata is never pruned", Options{Tests: true, Patterns: []string{"*.dist-info/**", "**/RECORD", "*.egg-info", "**/PKG-INFO"}}, testFolders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := makeUnit(t)
			before := listing(t, dir)
			res, err := Prune(dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			after := listing(t, dir)
			var gone []string
			var bytes int64
			for _, p := range before {
				if !slices.Contains(after, p) {
					gone = append(gone, p)
					bytes += int64(unit[p])
				}
			}
			want := slices.Clone(tt.gone)
			slices.Sort(want)
			if !slices.Equal(gone, want) {
				t.Errorf("removed\n%q\nwant\n%q", gone, want)
			}
			files := 0
			for _, p := range gone {
				if !strings.HasSuffix(p, "/") {
					files++
				}
			}
			if res.Files != files || res.Bytes != bytes {
				t.Errorf("result %+v, want %d files, %d bytes", res, files, bytes)
			}
		})
	}
}

func TestPruneDoesNotFollowLinks(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "__pycache__", "x.pyc")
	if err := os.MkdirAll(filepath.Dir(victim), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := makeUnit(t)
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := Prune(dir, Options{Patterns: []string{"link/**"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("file outside the unit removed: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opts  Options
		field string
		index int
	}{
		{Options{Patterns: []string{"**/*.md", "botocore/data/**"}, Keep: []string{"{a,b}/**"}}, "", 0},
		{Options{Patterns: []string{"ok", "[a-"}}, "patterns", 1},
		{Options{Keep: []string{""}}, "keep", 0},
		{Options{Patterns: []string{"/abs/**"}}, "patterns", 0},
		{Options{Keep: []string{"x", "y", "a/../b"}}, "keep", 2},
		{Options{Patterns: []string{"{a,b"}}, "patterns", 0},
		{Options{Bytecode: BytecodeCompile}, "", 0},
		{Options{Bytecode: BytecodeStrip}, "", 0},
	}
	if err := (Options{Bytecode: "none"}).Validate(); !errors.As(err, new(*BytecodeError)) {
		t.Errorf("bytecode \"none\": error %v, want a *BytecodeError", err)
	}
	for _, tt := range tests {
		err := tt.opts.Validate()
		var pe *PatternError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%+v: %v", tt.opts, err)
		case tt.field != "" && !errors.As(err, &pe):
			t.Errorf("%+v: error %v, want a *PatternError", tt.opts, err)
		case tt.field != "" && (pe.Field != tt.field || pe.Index != tt.index):
			t.Errorf("%+v: %s[%d], want %s[%d]", tt.opts, pe.Field, pe.Index, tt.field, tt.index)
		}
	}
}

func TestKey(t *testing.T) {
	base := Options{Patterns: []string{"a/**", "b/**"}, Keep: []string{"a/x"}}
	same := []Options{
		{Patterns: []string{"a/**", "b/**"}, Keep: []string{"a/x"}, Bytecode: BytecodeCompile},
		{Patterns: []string{"b/**", "a/**"}, Keep: []string{"a/x"}},
		{Patterns: []string{"a/**", "b/**", "a/**"}, Keep: []string{"a/x", "a/x"}},
	}
	different := []Options{
		{Patterns: []string{"a/**"}, Keep: []string{"a/x"}},
		{Patterns: []string{"a/**", "b/**"}},
		{Patterns: []string{"a/**", "b/**"}, Keep: []string{"a/x"}, Tests: true},
		{Patterns: []string{"a/**", "b/**"}, Keep: []string{"a/x"}, Strip: true},
		{Patterns: []string{"a/x"}, Keep: []string{"a/**", "b/**"}},
		{Patterns: []string{"a/**", "b/**"}, Keep: []string{"a/x"}, Bytecode: BytecodeStrip},
	}
	for _, o := range same {
		if o.Key() != base.Key() {
			t.Errorf("%+v: key %s, want %s", o, o.Key(), base.Key())
		}
	}
	for _, o := range different {
		if o.Key() == base.Key() {
			t.Errorf("%+v: same key as %+v", o, base)
		}
	}
	if got, want := (Options{}).Key(), `{"rules":3,"tests":false,"strip":false,"bytecode":"compile","patterns":[],"keep":[]}`; got != want {
		t.Errorf("empty key %s, want %s", got, want)
	}
}

func TestIsByteCode(t *testing.T) {
	for rel, want := range map[string]bool{
		"__pycache__/six.cpython-311.pyc":       true,
		"a/b/__pycache__/c.cpython-39.pyc":      true,
		"a/__pycache__/c.cpython-311.opt-1.pyc": false,
		"a/__pycache__/c.pypy39.pyc":            false,
		"a/c.pyc":                               false,
		"a/__pycache__/.cpython-311.pyc":        false,
		"a/__pycache__/c.cpython-3x.pyc":        false,
		"a/__pycache__/c.cpython-311.py":        false,
		"a/__pycache__/c.cpython-311.pyc.orig":  false,
	} {
		if got := IsByteCode(rel); got != want {
			t.Errorf("IsByteCode(%q) = %t, want %t", rel, got, want)
		}
	}
}
