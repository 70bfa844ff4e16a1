package builder_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"path"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// magic311 starts every pyc of Python 3.11 (importlib.util.MAGIC_NUMBER).
var magic311 = []byte{0xa7, 0x0d, 0x0d, 0x0a}

// checkByteCode checks the byte code of layer zips built in compile mode:
// every pyc is an unchecked-hash pyc (PEP 552: flags 0b01) for Python
// 3.11 beside its source, and every .py outside the metadata and the
// packages' test suites has one, except the files listed in uncompiled
// (paths below python/); no file of a test suite has one. It returns the pycs counted.
func checkByteCode(t *testing.T, zips map[string][]byte, uncompiled ...string) int {
	t.Helper()
	pycs := 0
	for name, data := range zips {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]*zip.File{}
		for _, f := range zr.File {
			files[f.Name] = f
		}
		for n, f := range files {
			switch {
			case strings.HasSuffix(n, ".pyc"):
				rel := strings.TrimPrefix(n, "python/")
				if !prune.IsByteCode(rel) || !strings.HasSuffix(n, ".cpython-311.pyc") {
					t.Errorf("layer %s: %s is no byte code of Python 3.11", name, n)
					continue
				}
				dir := path.Dir(path.Dir(n))
				src := path.Join(dir, strings.TrimSuffix(path.Base(n), ".cpython-311.pyc")+".py")
				if files[src] == nil {
					t.Errorf("layer %s: %s has no source %s", name, n, src)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				head := make([]byte, 8)
				_, err = io.ReadFull(rc, head)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(head[:4], magic311) || binary.LittleEndian.Uint32(head[4:]) != 1 {
					t.Errorf("layer %s: %s starts % x, want an unchecked-hash pyc for 3.11", name, n, head)
				}
				pycs++
			case strings.HasSuffix(n, ".py") && !strings.Contains(n, ".dist-info/"):
				pyc := path.Join(path.Dir(n), "__pycache__", strings.TrimSuffix(path.Base(n), ".py")+".cpython-311.pyc")
				want := !inTestSuite(strings.TrimPrefix(n, "python/"))
				for _, u := range uncompiled {
					want = want && n != "python/"+u
				}
				if got := files[pyc] != nil; got != want {
					t.Errorf("layer %s: %s has byte code: %t, want %t", name, n, got, want)
				}
			}
		}
	}
	if pycs == 0 {
		t.Error("the layers hold no byte code")
	}
	return pycs
}

// inTestSuite reports a file in a package's own test suite, a "tests" or
// "test" folder below a top-level package, whose sources ship without
// byte code.
func inTestSuite(rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts)-1; i++ {
		if parts[i] == "tests" || parts[i] == "test" {
			return true
		}
	}
	return false
}

// importFromByteCode proves that Python imports module from the byte code
// of the layer zips, extracted into /opt as Lambda does: with the
// module's source (python/<module>.py) overwritten, the import still
// works, since an unchecked-hash pyc is never compared with its source.
func importFromByteCode(t *testing.T, d engine.Engine, image string, layers map[string][]byte, module string) {
	t.Helper()
	seen := map[string]bool{}
	var files []archive.File
	for _, data := range layers {
		files = append(files, unzip(t, data, seen)...)
	}
	script := "import sys; sys.path.insert(0, '/opt/python')\n" +
		"open('/opt/python/" + module + ".py', 'w').write('raise ImportError(\"the source was compiled\")')\n" +
		"import " + module + "\n"
	var out bytes.Buffer
	err := d.Run(context.Background(), engine.RunSpec{
		Image: image, Platform: dockertest.Platform,
		Cmd:    []string{"python3", "-I", "-B", "-c", script},
		In:     []engine.CopyIn{{Dir: "/opt", Files: files}},
		Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Errorf("import %s with its source gone: %v\n%s", module, err, out.String())
	}
}

// TestBuildByteCodeNeedsTheRuntimesPython builds for python3.12 in the
// 3.11 stand-in: pip can install a pure wheel for another Python, but byte
// code compiled by 3.11 would not load on 3.12, so the unit fails, saying
// why; with bytecode = "strip" the same build succeeds.
func TestBuildByteCodeNeedsTheRuntimesPython(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	for _, mode := range []string{"compile", "strip"} {
		files := map[string]string{
			"layers.toml":                    "\n[prune]\nbytecode = \"" + mode + "\"\n",
			"functions/api/requirements.txt": "six==1.16.0\n",
			"functions/api/app.py":           "import six\n",
		}
		cfg := writeRepo(t, image, files)
		cfg.Runtime = "python3.12"
		_, err := build(t, d, cfg, t.TempDir())
		var ue *builder.UnitError
		switch {
		case mode == "strip" && err != nil:
			t.Errorf("strip: %v", err)
		case mode == "compile" && !errors.As(err, &ue):
			t.Errorf("compile: error %v, want a *UnitError", err)
		case mode == "compile" && !strings.Contains(ue.Tail, "python3 is Python 3.11, the runtime's is Python 3.12"):
			t.Errorf("compile: %v, want the Python versions named", err)
		}
	}
}
