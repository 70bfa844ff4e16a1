package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/resolver"
)

func TestPlatformTags(t *testing.T) {
	tests := []struct {
		target      config.Target
		first, last string
		n           int
		has, hasNot []string
	}{
		// Amazon Linux 2's glibc is 2.26.
		{config.Target{Runtime: "python3.11", Architecture: "x86_64"}, "manylinux_2_26_x86_64", "manylinux1_x86_64", 10 + 1 + 4,
			[]string{"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux_2_24_x86_64"}, []string{"manylinux_2_27_x86_64", "manylinux_2_28_x86_64"}},
		{config.Target{Runtime: "python3.9", Architecture: "arm64"}, "manylinux_2_26_aarch64", "manylinux2014_aarch64", 10 + 1,
			nil, []string{"manylinux_2_12_aarch64", "manylinux_2_17_x86_64", "manylinux_2_27_aarch64"}},
		{config.Target{Runtime: "python3.12", Architecture: "x86_64"}, "manylinux_2_34_x86_64", "manylinux1_x86_64", 18 + 1 + 4,
			[]string{"manylinux_2_28_x86_64", "manylinux2014_x86_64"}, []string{"manylinux_2_35_x86_64"}},
		// 3.13's stand-in build image (Debian trixie) has glibc 2.41: the
		// tags, not the image, keep to what Amazon Linux 2023 loads.
		{config.Target{Runtime: "python3.13", Architecture: "x86_64"}, "manylinux_2_34_x86_64", "manylinux1_x86_64", 18 + 1 + 4,
			[]string{"manylinux_2_28_x86_64", "manylinux2014_x86_64"}, []string{"manylinux_2_35_x86_64", "manylinux_2_41_x86_64"}},
		{config.Target{Runtime: "python3.14", Architecture: "arm64"}, "manylinux_2_34_aarch64", "manylinux2014_aarch64", 18 + 1,
			[]string{"manylinux_2_28_aarch64"}, []string{"manylinux1_aarch64"}},
	}
	for _, tt := range tests {
		got, err := PlatformTags(tt.target)
		if err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		if got[0] != tt.first || got[len(got)-1] != tt.last || len(got) != tt.n {
			t.Errorf("%s: %d tags %q..%q, want %d %q..%q", tt.target, len(got), got[0], got[len(got)-1], tt.n, tt.first, tt.last)
		}
		for _, h := range tt.has {
			if !slices.Contains(got, h) {
				t.Errorf("%s: no %s", tt.target, h)
			}
		}
		for _, h := range tt.hasNot {
			if slices.Contains(got, h) {
				t.Errorf("%s: %s would not load", tt.target, h)
			}
		}
	}
	for _, bad := range []config.Target{{Runtime: "python3.11", Architecture: "sparc"}, {Runtime: "node20", Architecture: "x86_64"}} {
		if _, err := PlatformTags(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func newTestBuilder(t *testing.T, o Options) *Builder {
	t.Helper()
	if o.Cache == nil {
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		o.Cache = c
	}
	if o.Engine == nil {
		o.Engine = &fakeEngine{}
	}
	o.Tool = "test"
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var py311 = config.Target{Runtime: "python3.11", Architecture: "x86_64"}
var img = Image{Ref: "build:1", ID: "sha256:abc", Platform: "linux/amd64"}

// TestRunSpec checks what reaches the container: hashes in a requirements
// file, index URLs (and their credentials) only in the environment, the
// target's tags on pip's command line.
func TestRunSpec(t *testing.T) {
	b := newTestBuilder(t, Options{Installer: config.InstallerPip, CABundle: []byte("-----BEGIN CERTIFICATE-----\n"), Env: []string{"PIP_INDEX_URL=https://host.example.invalid/simple", "HTTPS_PROXY=http://proxy:3128"}})
	secret := "https://ci:t0ken@index.example.invalid/simple"
	batch := []*job{
		{spec: UnitSpec{Package: resolver.Package{Name: "six", Version: "1.16.0", Source: resolver.SourceRegistry}, Target: py311, Image: img,
			Index: resolver.IndexOptions{IndexURL: secret, ExtraIndexURLs: []string{"https://extra.example.invalid/simple"}}}},
		{spec: UnitSpec{Package: resolver.Package{Name: "idna", Version: "3.10", Source: resolver.SourceRegistry, Hashes: []string{"sha256:aa", "sha256:bb"}}, Target: py311, Image: img}},
	}
	spec, err := b.runSpec(context.Background(), batch, false)
	if err != nil {
		t.Fatal(err)
	}
	script := scriptOf(t, spec)
	for _, want := range []string{"'--target' '/out/0'", "'--platform' 'manylinux2014_x86_64'", "'--python-version' '3.11'", "'--abi' 'cp311'", "'--abi' 'abi3'",
		"'--only-binary=:all:'", "'six==1.16.0'", "'--require-hashes' '-r' '/layers-in/req-1.txt'", failMarker, "xargs -P 1 ",
		"PYTHONHASHSEED=0 python3 -s /layers-in/compile.py /out/0 0 '3.11' ||", "python3 -s /layers-in/compile.py /out/1 1 '3.11' ||"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s:\n%s", want, script)
		}
	}
	if strings.Contains(script, "t0ken") || strings.Contains(script, "index.example.invalid") {
		t.Errorf("an index URL is on the command line:\n%s", script)
	}
	wantEnv := []string{"HTTPS_PROXY=http://proxy:3128", "PIP_CERT=/layers-ca/ca.crt", "PIP_INDEX_URL=" + secret, "PIP_EXTRA_INDEX_URL=https://extra.example.invalid/simple",
		"TMPDIR=/out/.layers-scratch", "PIP_CACHE_DIR=/out/.layers-scratch/pip-cache"}
	if !slices.Equal(spec.Env, wantEnv) {
		t.Errorf("env %q, want %q", spec.Env, wantEnv)
	}
	if spec.Image != img.ID || spec.Platform != "linux/amd64" {
		t.Errorf("image %s %s", spec.Image, spec.Platform)
	}
	var names []string
	for _, f := range spec.In[0].Files {
		names = append(names, f.Name)
		if f.Name == "layers-in/req-1.txt" {
			rc, _ := f.Open()
			data := make([]byte, f.Size)
			rc.Read(data)
			rc.Close()
			if want := "idna==3.10 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"; string(data) != want {
				t.Errorf("requirements file %q, want %q", data, want)
			}
		}
	}
	if !slices.Equal(names, []string{"layers-in/unit-0.sh", "layers-in/compile-0.sh", "layers-in/req-1.txt", "layers-in/unit-1.sh", "layers-in/compile-1.sh", "layers-in/compile.py", "layers-in/tarout.py", "layers-ca/ca.crt"}) {
		t.Errorf("files copied in: %q", names)
	}
	// Wheels install in memory, with either installer.
	if !slices.Equal(spec.Memory, []string{"/out"}) || spec.Scratch != nil {
		t.Errorf("memory %q, volumes %q; want /out in memory", spec.Memory, spec.Scratch)
	}
	if !strings.Contains(script, "python3 -I /layers-in/tarout.py 2 /layers-log >&3 &") || !strings.Contains(script, "exec 3>&1 1>&2") ||
		!strings.Contains(script, "&& touch /layers-log/$0.done ||") {
		t.Errorf("the units do not stream out on stdout, the rest on stderr:\n%s", script)
	}
}

func TestRunSpecLocalAndStrip(t *testing.T) {
	root := t.TempDir()
	testfs.WriteFiles(t, root, map[string]string{
		"libs/common/pyproject.toml":            "[project]\nname = \"common\"\n",
		"libs/common/common/__init__.py":        "",
		"libs/common/.venv/lib/x.py":            "",
		"libs/common/common/__pycache__/a.pyc":  "",
		"libs/common/build/lib/common/stale.py": "",
	})
	b := newTestBuilder(t, Options{Root: root, Prune: prune.Options{Strip: true, Bytecode: prune.BytecodeStrip}})
	spec, err := b.runSpec(context.Background(), []*job{{spec: UnitSpec{Package: resolver.Package{Name: "common", Version: "0.1.0", Source: resolver.SourceLocal, Path: "libs/common"}, Target: py311, Image: img}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	script := scriptOf(t, spec)
	// A local source is built by pip, maybe with a large build tree: on a
	// volume, not in memory.
	if spec.Memory != nil || !slices.Equal(spec.Scratch, []string{"/out"}) {
		t.Errorf("memory %q, volumes %q; want /out on a volume", spec.Memory, spec.Scratch)
	}
	if strings.Contains(script, "--platform") || !strings.Contains(script, "'/layers-in/src-0'") || !strings.Contains(script, "strip --strip-unneeded") ||
		strings.Contains(script, "compile.py") {
		t.Errorf("script:\n%s", script)
	}
	var names []string
	for _, f := range spec.In[0].Files {
		names = append(names, f.Name)
	}
	if want := []string{"layers-in/src-0/common/__init__.py", "layers-in/src-0/pyproject.toml", "layers-in/unit-0.sh", "layers-in/tarout.py"}; !slices.Equal(names, want) {
		t.Errorf("copied %q, want %q", names, want)
	}

	k1, err := b.Key(UnitSpec{Package: resolver.Package{Name: "common", Version: "0.1.0", Source: resolver.SourceLocal, Path: "libs/common"}, Target: py311, Image: img})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "libs/common/common/__init__.py"), []byte("x = 1\n"), 0o644)
	k2, _ := b.Key(UnitSpec{Package: resolver.Package{Name: "common", Version: "0.1.0", Source: resolver.SourceLocal, Path: "libs/common"}, Target: py311, Image: img})
	if k1 == k2 || !strings.HasPrefix(k1.Version, "0.1.0+src.") {
		t.Errorf("local key does not follow the source: %+v %+v", k1, k2)
	}
}

// scriptOf returns what a run executes: its command and every unit's
// script copied in.
func scriptOf(t *testing.T, spec engine.RunSpec) string {
	t.Helper()
	all := strings.Join(spec.Cmd, " ")
	for _, in := range spec.In {
		for _, f := range in.Files {
			if !strings.HasSuffix(f.Name, ".sh") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			all += "\n" + string(data)
		}
	}
	return all
}

// TestRunSpecUV checks the uv installer's run: uv streamed in from the
// unit cache, the runtime's platform and Python version (not the image's),
// hashes, index URLs in uv's environment only, units in parallel, and the
// fall back to pip when uv can name no tag of the release's wheels.
func TestRunSpecUV(t *testing.T) {
	b := newTestBuilder(t, Options{CABundle: []byte("-----BEGIN CERTIFICATE-----\n")})
	secret := "https://ci:t0ken@index.example.invalid/simple"
	six := UnitSpec{Package: resolver.Package{Name: "six", Version: "1.16.0", Source: resolver.SourceRegistry, Hashes: []string{"sha256:aa"}}, Target: py311, Image: img,
		Index: resolver.IndexOptions{IndexURL: secret, ExtraIndexURLs: []string{"https://extra.example.invalid/simple"}}}
	if _, err := b.o.Cache.Put(b.uvKey(six), func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "uv"), []byte("#!/bin/sh\n"), 0o755)
	}); err != nil {
		t.Fatal(err)
	}
	batch := []*job{{spec: six}, {spec: UnitSpec{Package: resolver.Package{Name: "idna", Version: "3.10", Source: resolver.SourceRegistry}, Target: py311, Image: img}}}
	spec, err := b.runSpec(context.Background(), batch, false)
	if err != nil {
		t.Fatal(err)
	}
	// uv's batches write in memory, its cache beside the units (hard
	// links); one that outgrew it runs on a volume.
	if !slices.Equal(spec.Memory, []string{"/out"}) || spec.Scratch != nil {
		t.Errorf("memory %q, volumes %q; want /out in memory", spec.Memory, spec.Scratch)
	}
	if onDisk, err := b.runSpec(context.Background(), batch, true); err != nil || onDisk.Memory != nil || !slices.Equal(onDisk.Scratch, []string{"/out"}) {
		t.Errorf("on disk: memory %q, volumes %q, %v; want /out on a volume", onDisk.Memory, onDisk.Scratch, err)
	}
	script := scriptOf(t, spec)
	for _, want := range []string{"xargs -P 8 ", "'/layers-uv/uv' 'pip' 'install' '--no-deps'", "'--target' '/out/0'", "'--python-platform' 'x86_64-manylinux_2_17'",
		"'--python-version' '3.11'", "'--only-binary' ':all:'", "'--cert' '/layers-ca/ca.crt'", "'--index-strategy' 'unsafe-best-match'",
		"'--require-hashes' '-r' '/layers-in/req-0.txt'", "'idna==3.10'", "rm -f /out/1/.lock", uvFallback,
		"'python3' '-m' 'pip' 'install' '--no-deps' '--target' '/out/1'"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s:\n%s", want, script)
		}
	}
	if strings.Contains(script, "t0ken") {
		t.Errorf("an index URL is on the command line:\n%s", script)
	}
	for _, want := range []string{"UV_DEFAULT_INDEX=" + secret, "UV_INDEX=https://extra.example.invalid/simple", "PIP_INDEX_URL=" + secret, "UV_PYTHON_DOWNLOADS=never",
		"UV_CACHE_DIR=/out/.layers-scratch/uv-cache", "UV_LINK_MODE=hardlink"} {
		if !slices.Contains(spec.Env, want) {
			t.Errorf("env %q lacks %q", spec.Env, want)
		}
	}
	// One uv run fetches every wheel of the batch first, with its hashes;
	// then each unit installs offline, online when that fails.
	if !strings.Contains(script, "'--offline'") || !strings.Contains(script, "[ -e "+prefetchedFlag+" ]") {
		t.Errorf("the units do not install offline after the prefetch:\n%s", script)
	}
	var bin *archive.File
	prefetch := ""
	for _, f := range spec.In[0].Files {
		switch f.Name {
		case "layers-uv/uv":
			bin = &f
		case "layers-in/prefetch.txt", "layers-in/prefetch.sh":
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			prefetch += string(data)
		}
	}
	if want := "six==1.16.0 \\\n    --hash=sha256:aa\nidna==3.10\n"; !strings.HasPrefix(prefetch, want) ||
		!strings.Contains(prefetch, "'-r' '/layers-in/prefetch.txt'") || !strings.Contains(prefetch, "'--target' '/out/.layers-scratch/prefetch'") {
		t.Errorf("prefetch %q, want the requirements %q and a run of uv over them", prefetch, want)
	}
	if bin == nil || !bin.Exec {
		t.Errorf("uv not copied in as an executable: %+v", bin)
	}
	// A find-links page stays with pip: uv takes it only on its command line.
	flat := six
	flat.Index = resolver.IndexOptions{FindLinks: []string{"https://u:p@links.example.invalid/"}}
	if b.usesUV(flat) {
		t.Error("a find-links unit is installed by uv")
	}
}

func TestKeyHoldsNoCredentials(t *testing.T) {
	b := newTestBuilder(t, Options{})
	for _, p := range []resolver.Package{
		{Name: "x", Version: "1", Source: resolver.SourceURL, URL: "https://u:secret@files.example.invalid/x-1.tar.gz"},
		{Name: "x", Version: "1", Source: resolver.SourceRegistry, URL: "https://u:secret@index.example.invalid/simple"},
	} {
		k, err := b.Key(UnitSpec{Package: p, Target: py311, Image: img})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(k.String()+k.Version+k.Digest(), "secret") || k.Version == "1" {
			t.Errorf("key %+v", k)
		}
	}
}

func TestBatches(t *testing.T) {
	mk := func(name string, src resolver.Source, index string) *job {
		return &job{spec: UnitSpec{Package: resolver.Package{Name: name, Version: "1", Source: src, Path: "p"}, Target: py311, Image: img,
			Index: resolver.IndexOptions{IndexURL: index}}}
	}
	var todo []*job
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		todo = append(todo, mk(n, resolver.SourceRegistry, ""))
	}
	todo = append(todo, mk("f", resolver.SourceRegistry, "https://private.example.invalid/simple"), mk("g", resolver.SourceLocal, ""))
	pip := func(UnitSpec) bool { return false }
	got := batches(todo, 2, pip)
	var shape []string
	for _, b := range got {
		var names []string
		for _, j := range b {
			names = append(names, j.spec.Package.Name)
		}
		shape = append(shape, strings.Join(names, ""))
	}
	if want := []string{"abc", "de", "f", "g"}; !slices.Equal(shape, want) {
		t.Errorf("batches %q, want %q", shape, want)
	}
	if n := len(batches(todo[:5], 1, pip)); n != 1 {
		t.Errorf("one job: %d batches", n)
	}
	// uv installs a group in parallel in one container.
	uv := newTestBuilder(t, Options{}).usesUV
	if got := batches(todo, 2, uv); len(got) != 3 || len(got[0]) != 5 {
		t.Errorf("uv: %d batches, the first of %d units; want 3, the first of 5", len(got), len(got[0]))
	}
}

// fakeEngine plays pip: it writes a module per unit into the out folder
// and streams the tar a container would on its stdout.
type fakeEngine struct {
	runs int
	fail bool
}

func (f *fakeEngine) ImageID(context.Context, string, string) (string, error) { return img.ID, nil }
func (f *fakeEngine) Pull(context.Context, string, string) error              { return nil }
func (f *fakeEngine) RemoveLeftovers(context.Context) (int, error)            { return 0, nil }
func (f *fakeEngine) Run(_ context.Context, spec engine.RunSpec) error {
	f.runs++
	if f.fail {
		spec.Stderr.Write([]byte("Collecting x\nERROR: https://u:pw@index.example.invalid/simple said no\n\n" + failMarker + "1\n"))
		return &engine.ExitError{Code: 3}
	}
	n := 0
	for _, f := range spec.In[0].Files {
		if strings.HasPrefix(f.Name, "layers-in/unit-") {
			n++
		}
	}
	var files []archive.File
	for i := range n {
		dir := "out/" + string(rune('0'+i))
		files = append(files, archive.FromBytes(dir+"/m"+string(rune('0'+i))+".py", []byte("x = 1\n"), false),
			archive.FromBytes(dir+"/__pycache__/m.cpython-311.pyc", []byte("junk"), false))
	}
	return archive.WriteTar(spec.Stdout, files, archive.DefaultTime)
}

func TestUnitsCacheAndFailure(t *testing.T) {
	fe := &fakeEngine{}
	b := newTestBuilder(t, Options{Engine: fe, Jobs: 1, Installer: config.InstallerPip})
	specs := []UnitSpec{
		{Package: resolver.Package{Name: "a", Version: "1", Source: resolver.SourceRegistry}, Target: py311, Image: img},
		{Package: resolver.Package{Name: "b", Version: "1", Source: resolver.SourceRegistry}, Target: py311, Image: img},
		{Package: resolver.Package{Name: "a", Version: "1", Source: resolver.SourceRegistry}, Target: py311, Image: img},
	}
	units, err := b.Units(context.Background(), specs)
	if err != nil {
		t.Fatal(err)
	}
	if fe.runs != 1 {
		t.Errorf("%d containers for one batch", fe.runs)
	}
	for i, u := range units {
		if u.Dir == "" || u.Files != 1 || u.Bytes != 6 {
			t.Errorf("unit %d: %+v", i, u)
		}
	}
	if units[0].Saved.Files != 1 || units[0].Saved.Bytes != 4 {
		t.Errorf("pruning saved %+v, want the .pyc", units[0].Saved)
	}
	again, err := b.Units(context.Background(), specs)
	if err != nil || fe.runs != 1 || !again[0].Cached || !again[2].Cached {
		t.Errorf("second run: %v, %d containers, %+v", err, fe.runs, again)
	}

	fe.fail = true
	specs = append(specs, UnitSpec{Package: resolver.Package{Name: "c", Version: "2", Source: resolver.SourceRegistry}, Target: py311, Image: img},
		UnitSpec{Package: resolver.Package{Name: "d", Version: "3", Source: resolver.SourceRegistry}, Target: py311, Image: img})
	_, err = b.Units(context.Background(), specs)
	var ue *UnitError
	if !errors.As(err, &ue) || ue.Unit != "d==3 (python3.11/x86_64)" || strings.Contains(ue.Tail, "pw@") || !strings.Contains(ue.Tail, "said no") {
		t.Errorf("error %v", err)
	}
}

func TestWriteLayer(t *testing.T) {
	dir := t.TempDir()
	mkUnit := func(name string, files map[string]string) Unit {
		d := filepath.Join(dir, name)
		testfs.WriteFiles(t, d, files)
		return Unit{Spec: UnitSpec{Package: resolver.Package{Name: name, Version: "1"}, Target: py311}, Dir: d}
	}
	a := mkUnit("a", map[string]string{"google/a/__init__.py": "a", "a-1.dist-info/METADATA": "m"})
	b := mkUnit("b", map[string]string{"google/b/__init__.py": "bb"})
	out := filepath.Join(dir, "l.zip")
	lf, err := WriteLayer(out, []Unit{b, a}, archive.DefaultTime)
	if err != nil {
		t.Fatal(err)
	}
	if lf.UnzippedBytes != 4 || lf.ZippedBytes == 0 || len(lf.SHA256) != 64 || len(lf.CodeSHA256) != 44 {
		t.Errorf("%+v", lf)
	}
	if sum, b64, size, err := digest.File(out); err != nil || sum != lf.SHA256 || b64 != lf.CodeSHA256 || size != lf.ZippedBytes {
		t.Errorf("digest.File %s %s %d %v", sum, b64, size, err)
	}
	again, _ := WriteLayer(out, []Unit{a, b}, archive.DefaultTime)
	if again.SHA256 != lf.SHA256 {
		t.Error("unit order changes the zip")
	}
	c := mkUnit("c", map[string]string{"google/a/__init__.py": "other"})
	if _, err := WriteLayer(out, []Unit{a, c}, archive.DefaultTime); err == nil || !strings.Contains(err.Error(), "google/a/__init__.py is in two units") {
		t.Errorf("clash: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".l.zip.*")); len(entries) != 0 {
		t.Errorf("temporary files left: %q", entries)
	}
}

func TestResolveImage(t *testing.T) {
	fe := &pullEngine{}
	got, err := ResolveImage(context.Background(), fe, "img", config.Target{Runtime: "python3.12", Architecture: "arm64"}, false)
	if err != nil || got.ID != "sha256:pulled" || got.Platform != "linux/arm64" || fe.pulls != 1 {
		t.Errorf("%+v %v pulls %d", got, err, fe.pulls)
	}
	arm := config.Target{Runtime: "python3.12", Architecture: "arm64"}
	if _, err := ResolveImage(context.Background(), fe, "img", arm, false); err != nil || fe.pulls != 1 {
		t.Errorf("present image pulled again: %v %d", err, fe.pulls)
	}
	if _, err := ResolveImage(context.Background(), fe, "img", arm, true); err != nil || fe.pulls != 2 {
		t.Errorf("--pull did not pull: %v %d", err, fe.pulls)
	}
	if got := DefaultImage(config.Target{Runtime: "python3.13", Architecture: "arm64"}); got != "public.ecr.aws/sam/build-python3.13:latest-arm64" {
		t.Errorf("DefaultImage %s", got)
	}
}

type pullEngine struct {
	fakeEngine
	pulls  int
	pulled map[string]bool
}

func (p *pullEngine) ImageID(_ context.Context, ref, plat string) (string, error) {
	if !p.pulled[plat] {
		return "", engine.ErrImageNotFound
	}
	return "sha256:pulled", nil
}

func (p *pullEngine) Pull(_ context.Context, ref, plat string) error {
	p.pulls++
	if p.pulled == nil {
		p.pulled = map[string]bool{}
	}
	p.pulled[plat] = true
	return nil
}

func TestMarkerWatcher(t *testing.T) {
	w := &markerWatcher{}
	for _, chunk := range []string{"Collecting x\n" + stripMarker + "0 12", "34\n", stripMarker + "2 -5\nnoise " + stripMarker + "1 9\n" + stripMarker + "3 7\n",
		compileMarker + "0 120 3\n" + compileMarker + "2 4", "0 0\nnoise " + compileMarker + "1 5 5\n" + compileMarker + "3 1 1"} {
		w.Write([]byte(chunk))
	}
	for n, want := range map[int]int64{0: 1234, 1: 0, 2: -5, 3: 7} {
		if got := w.stripped(n); got != want {
			t.Errorf("unit %d: stripped %d, want %d", n, got, want)
		}
	}
	for n, want := range map[int][2]int{0: {120, 3}, 1: {0, 0}, 2: {40, 0}, 3: {0, 0}} {
		if ok, failed := w.compiledFiles(n); ok != want[0] || failed != want[1] {
			t.Errorf("unit %d: compiled %d, %d failed; want %d, %d", n, ok, failed, want[0], want[1])
		}
	}
}

// TestUVPlatform checks uv's platform for each runtime family: the newest
// manylinux uv can name that the runtime's glibc loads.
func TestUVPlatform(t *testing.T) {
	for _, c := range []struct {
		target config.Target
		want   string
	}{
		{config.Target{Runtime: "python3.11", Architecture: "x86_64"}, "x86_64-manylinux_2_17"},
		{config.Target{Runtime: "python3.9", Architecture: "arm64"}, "aarch64-manylinux_2_17"},
		{config.Target{Runtime: "python3.12", Architecture: "x86_64"}, "x86_64-manylinux_2_34"},
		{config.Target{Runtime: "python3.13", Architecture: "arm64"}, "aarch64-manylinux_2_34"},
	} {
		if got, err := uvPlatform(c.target); err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.target, got, err, c.want)
		}
	}
}

// TestMarkerPhases feeds a container's marker lines, split across writes,
// and reads where its time went; a date(1) without %N prints seconds,
// which must not count.
func TestMarkerPhases(t *testing.T) {
	w := &markerWatcher{}
	const s = int64(time.Second)
	base := int64(1_796_000_000) * s
	out := fmt.Sprintf("%sstart %d\n%sprefetched %d\nuv says hi\n%sinstalled %d\n%scompiled %d\n%sstreamed %d\n%sstart 1796000000N\n",
		phaseMarker, base, phaseMarker, base+2*s, phaseMarker, base+3*s, phaseMarker, base+10*s, phaseMarker, base+11*s, phaseMarker)
	for len(out) > 0 {
		n := min(7, len(out))
		w.Write([]byte(out[:n]))
		out = out[n:]
	}
	want := Phases{Install: 3 * time.Second, Download: 2 * time.Second, Compile: 7 * time.Second, Stream: time.Second}
	if got := w.phaseTimes(); got != want {
		t.Errorf("phases %+v, want %+v", got, want)
	}
}
