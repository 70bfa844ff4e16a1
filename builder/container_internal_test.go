package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/resolver"
)

// TestBatchOutgrowsMemory builds two real wheels with uv twice, each time
// from an empty unit cache: with the engine's share of memory, where the
// batch's files stay in memory and stream out, then with a 1 MiB memory
// folder that PyYAML (2.5 MiB installed) overflows, so that the batch runs
// again on disk. Both must give the same files, and only the second may
// say it was built on disk.
func TestBatchOutgrowsMemory(t *testing.T) {
	d := dockertest.Engine(t)
	ref := dockertest.Image(t, d)
	id, err := d.ImageID(context.Background(), ref, dockertest.Platform)
	if err != nil {
		t.Fatal(err)
	}
	var ca []byte
	if p := dockertest.HostCABundle(); p != "" {
		if ca, err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	image := Image{Ref: ref, ID: id, Platform: dockertest.Platform}
	specs := []UnitSpec{
		{Package: resolver.Package{Name: "pyyaml", Version: "6.0.2", Source: resolver.SourceRegistry}, Target: py311, Image: image},
		{Package: resolver.Package{Name: "six", Version: "1.16.0", Source: resolver.SourceRegistry}, Target: py311, Image: image},
	}
	build := func(memory int64) (files [][]string, onDisk []bool) {
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		b := newTestBuilder(t, Options{Engine: d, Cache: c, CABundle: ca, Jobs: 1, MemoryBytes: memory, Progress: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			onDisk = append(onDisk, e.OnDisk)
		}})
		units, err := b.Units(context.Background(), specs)
		if err != nil {
			t.Fatalf("memory %d: %v", memory, err)
		}
		for _, u := range units {
			var names []string
			err := filepath.WalkDir(u.Dir, func(p string, e os.DirEntry, err error) error {
				if err == nil && e.Type().IsRegular() {
					info, _ := e.Info()
					rel, _ := filepath.Rel(u.Dir, p)
					names = append(names, fmt.Sprintf("%s %d", filepath.ToSlash(rel), info.Size()))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, names)
		}
		return files, onDisk
	}
	inMemory, disk := build(0)
	if len(disk) != 2 || slices.Contains(disk, true) {
		t.Errorf("in memory: events say on disk %v; want two, both false", disk)
	}
	if len(inMemory) != 2 || !slices.ContainsFunc(inMemory[0], func(s string) bool { return strings.HasPrefix(s, "yaml/__init__.py ") }) {
		t.Fatalf("in memory: PyYAML's files %q", inMemory)
	}
	spilled, disk := build(1 << 20)
	if len(disk) != 2 || slices.Contains(disk, false) {
		t.Errorf("a batch that outgrew 1 MiB: events say on disk %v; want two, both true", disk)
	}
	for i := range inMemory {
		if !slices.Equal(inMemory[i], spilled[i]) {
			t.Errorf("unit %d: in memory %q, on disk %q", i, inMemory[i], spilled[i])
		}
	}
}

// TestCompileFullFileSystem compiles a module whose byte code does not
// fit in the in-memory folder it was installed to: compile.py must fail,
// saying the file system is full, so that the batch runs again on disk,
// never ship the unit without its byte code.
func TestCompileFullFileSystem(t *testing.T) {
	d := dockertest.Engine(t)
	ref := dockertest.Image(t, d)
	var src strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&src, "name_%d = %d\n", i, i)
	}
	var out strings.Builder
	err := d.Run(context.Background(), engine.RunSpec{
		Image: ref, Platform: dockertest.Platform,
		Cmd: []string{"sh", "-c", "mkdir -p /out/0 && cp /layers-in/big.py /out/0/ && python3 -I /layers-in/compile.py /out/0 0 3.11"},
		In: []engine.CopyIn{{Dir: "/", Files: []archive.File{inFile("compile.py", compileScript),
			inFile("big.py", []byte(src.String()))}}},
		Memory: []string{"/out"}, MemoryBytes: int64(src.Len()) + 16<<10,
		Stdout: &out, Stderr: &out,
	})
	var exit *engine.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out.String(), noSpace) {
		t.Errorf("compile into a full folder: %v, want an exit status and %q:\n%s", err, noSpace, out.String())
	}
}

// TestCompileSkipsTestSuites runs compile.py on a unit with a package's
// test suite: its modules ship without byte code, everything else gets
// some, look-alikes and a top-level tests package included.
func TestCompileSkipsTestSuites(t *testing.T) {
	d := dockertest.Engine(t)
	ref := dockertest.Image(t, d)
	sources := []string{"pkg/__init__.py", "pkg/testing/util.py", "pkg/_testing.py", "pkg/tests/test_a.py",
		"pkg/sub/test/test_b.py", "pkg/sub/test/data/helper.py", "tests/__init__.py"}
	files := []archive.File{inFile("compile.py", compileScript)}
	for _, s := range sources {
		files = append(files, inFile("unit/"+s, []byte("x = 1\n")))
	}
	var out strings.Builder
	err := d.Run(context.Background(), engine.RunSpec{
		Image: ref, Platform: dockertest.Platform,
		Cmd:    []string{"sh", "-c", "python3 -I /layers-in/compile.py /layers-in/unit 0 3.11 && cd /layers-in/unit && find . -name '*.pyc' | sort"},
		In:     []engine.CopyIn{{Dir: "/", Files: files}},
		Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "layers-compiled-unit: 0 4 0\n" +
		"./pkg/__pycache__/__init__.cpython-311.pyc\n./pkg/__pycache__/_testing.cpython-311.pyc\n" +
		"./pkg/testing/__pycache__/util.cpython-311.pyc\n./tests/__pycache__/__init__.cpython-311.pyc\n"
	if out.String() != want {
		t.Errorf("compiled:\n%s\nwant:\n%s", out.String(), want)
	}
}
