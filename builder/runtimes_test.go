package builder_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/pipeline"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/verify"
)

// runtimeSet is the reference set of the runtime-fidelity tests: requests,
// pydantic-core, orjson, numpy and cryptography (with cffi), pinned to
// versions with wheels for python3.11 and python3.13 on x86_64 and
// aarch64. Two functions share the requests stack and orjson.
var runtimeSet = map[string]string{
	"functions/api/requirements.txt": "requests==2.32.3\nurllib3==2.2.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n" +
		"pydantic==2.9.2\npydantic-core==2.23.4\nannotated-types==0.7.0\ntyping-extensions==4.12.2\norjson==3.10.11\n",
	"functions/api/app.py": "import orjson, pydantic, requests\n\n" +
		"def handler(event, context):\n    return orjson.loads(orjson.dumps({'n': pydantic.TypeAdapter(int).validate_python(event.get('n', '1'))}))\n",
	"functions/crypto/requirements.txt": "cryptography==43.0.3\ncffi==1.17.1\npycparser==2.22\nnumpy==2.1.3\norjson==3.10.11\n" +
		"requests==2.32.3\nurllib3==2.2.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n",
	"functions/crypto/app.py": "import numpy\nfrom cryptography.fernet import Fernet\n\n" +
		"def handler(event, context):\n    f = Fernet(Fernet.generate_key())\n    return {'sum': int(numpy.arange(4).sum()), 'plain': f.decrypt(f.encrypt(b'ok')).decode()}\n",
}

// runtimeImports use every compiled extension of runtimeSet, so that an
// extension for the wrong machine or Python fails.
var runtimeImports = map[string]string{
	"api": "import requests, orjson, pydantic, charset_normalizer; " +
		"assert pydantic.TypeAdapter(int).validate_python('7') == 7; assert orjson.loads(orjson.dumps([1])) == [1]",
	"crypto": "import numpy, orjson, requests; from cryptography.fernet import Fernet; " +
		"f = Fernet(Fernet.generate_key()); assert f.decrypt(f.encrypt(b'x')) == b'x'; assert numpy.arange(4).sum() == 6",
}

// writeStandinRepo writes files into a new repository built for s's
// runtime and architecture in its build image.
func writeStandinRepo(t *testing.T, s dockertest.Standin, files map[string]string) *config.Config {
	t.Helper()
	all := copyMap(files)
	all["layers.toml"] = s.Config() + all["layers.toml"]
	dir := testfs.Tree(t, all)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// buildTwiceIdentical builds files for s twice, each time in a new
// repository with an empty unit cache, checks that the layer zips have
// the same sha256 and imports runtimeImports from each function's layers
// in s's build image. It returns the first build's zips and manifest.
func buildTwiceIdentical(t *testing.T, s dockertest.Standin, files map[string]string) (map[string][]byte, *manifest.Manifest) {
	t.Helper()
	d := dockertest.Engine(t)
	var first map[string][]byte
	var firstManifest *manifest.Manifest
	for i := range 2 {
		cfg := writeStandinRepo(t, s, files)
		res, err := build(t, d, cfg, t.TempDir())
		if err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		t.Logf("build %d for %s/%s: %d units in %s", i+1, s.Runtime, s.Architecture, res.UnitsBuilt, res.Took)
		got := zips(t, cfg, res.Manifest)
		if first == nil {
			first, firstManifest = got, res.Manifest
			importLayersOn(t, d, s.Build, s.Platform, cfg, res.Manifest, runtimeImports)
			continue
		}
		if len(got) != len(first) {
			t.Errorf("builds made %d and %d layers", len(first), len(got))
		}
		for name, data := range first {
			if a, b := sha256.Sum256(data), sha256.Sum256(got[name]); a != b {
				t.Errorf("layer %s: sha256 %x, then %x: not byte-identical across two cold builds", name, a, b)
			}
		}
	}
	return first, firstManifest
}

// sharedObjects returns the ELF machine of every shared object in the
// layer zips, by "layer:path".
func sharedObjects(t *testing.T, layers map[string][]byte) map[string]elf.Machine {
	t.Helper()
	out := map[string]elf.Machine{}
	for name, data := range layers {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !isSharedObject(f.Name) {
				continue
			}
			content := readZipFile(t, f)
			ef, err := elf.NewFile(bytes.NewReader(content))
			if err != nil {
				t.Errorf("%s:%s: %v", name, f.Name, err)
				continue
			}
			out[name+":"+f.Name] = ef.Machine
		}
	}
	return out
}

// isSharedObject says whether a path names a shared object: foo.so,
// foo.cpython-311-aarch64-linux-gnu.so, libfoo.so.1.2.
func isSharedObject(p string) bool {
	base := filepath.Base(p)
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.")
}

func readZipFile(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkMachine fails the test unless there are shared objects and every
// one is for want.
func checkMachine(t *testing.T, layers map[string][]byte, want elf.Machine) {
	t.Helper()
	sos := sharedObjects(t, layers)
	if len(sos) == 0 {
		t.Fatal("the layers hold no shared object")
	}
	for p, m := range sos {
		if m != want {
			t.Errorf("%s is for %v (e_machine %d), want %v (%d)", p, m, uint16(m), want, uint16(want))
		}
	}
	t.Logf("%d shared objects, all %v", len(sos), want)
}

// TestBuildArm64ReferenceSet builds the runtime reference set for
// python3.11 on arm64 in the arm64 stand-in (under qemu) twice, with
// empty caches: the zips must be byte-identical, every shared object in
// them must be an aarch64 ELF (e_machine 183), and every function's
// layers must import and work in the arm64 image.
func TestBuildArm64ReferenceSet(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 40 MB of wheels and runs pip under qemu twice; skipped with -short")
	}
	s := dockertest.Arm64(t, dockertest.Engine(t))
	layers, m := buildTwiceIdentical(t, s, runtimeSet)
	if len(m.Targets) != 1 || m.Targets[0].Architecture != "arm64" || m.Targets[0].Runtime != "python3.11" {
		t.Fatalf("manifest targets %+v, want one, python3.11/arm64", m.Targets)
	}
	if elf.EM_AARCH64 != 183 {
		t.Fatal("debug/elf's EM_AARCH64 is not 183")
	}
	checkMachine(t, layers, elf.EM_AARCH64)
}

// TestBuildPython313 builds the runtime reference set for python3.13 on
// x86_64 in the Debian trixie stand-in twice, with empty caches: the zips
// must be byte-identical, every shared object an x86-64 ELF, every
// function's layers must import in the stand-in, and every wheel must be
// for CPython 3.13 (or abi3, or pure) with a platform tag that Amazon
// Linux 2023's glibc 2.34 loads, although the stand-in's own glibc is
// 2.41: the builder's --platform tags, not the image, choose wheels. One
// wheel (cryptography's) must be newer than manylinux2014, proof that
// 3.13 gets the tags above 2_17.
func TestBuildPython313(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 30 MB of wheels twice; skipped with -short")
	}
	s := dockertest.Python313(t, dockertest.Engine(t))
	layers, m := buildTwiceIdentical(t, s, runtimeSet)
	if len(m.Targets) != 1 || m.Targets[0].Runtime != "python3.13" {
		t.Fatalf("manifest targets %+v, want one, python3.13/x86_64", m.Targets)
	}
	checkMachine(t, layers, elf.EM_X86_64)

	tags := wheelTags(t, layers)
	if len(tags) == 0 {
		t.Fatal("no WHEEL file in the layers")
	}
	manylinux := regexp.MustCompile(`^manylinux_2_(\d+)_x86_64$`)
	newest := 0
	for dist, ts := range tags {
		for _, tag := range ts {
			py, abi, plats := splitTag(tag)
			if plats == "any" {
				continue
			}
			if abi != "abi3" && (py != "cp313" || abi != "cp313") {
				t.Errorf("%s: wheel tag %s is not for CPython 3.13", dist, tag)
			}
			// A compressed tag set (manylinux_2_17_x86_64.manylinux2014_x86_64)
			// loads where any of its platforms does.
			glibc := 0
			for _, plat := range strings.Split(plats, ".") {
				n := 0
				if plat == "manylinux2014_x86_64" {
					n = 17
				} else if sub := manylinux.FindStringSubmatch(plat); sub != nil {
					n, _ = strconv.Atoi(sub[1])
				} else {
					t.Errorf("%s: wheel tag %s: platform %s is no manylinux x86_64 tag", dist, tag, plat)
					continue
				}
				if glibc == 0 || n < glibc {
					glibc = n
				}
			}
			if glibc > 34 {
				t.Errorf("%s: wheel tag %s needs glibc 2.%d; python3.13's runtime has 2.34", dist, tag, glibc)
			}
			newest = max(newest, glibc)
		}
	}
	if newest <= 17 {
		t.Errorf("every wheel is manylinux2014 at most (newest glibc 2.%d): tags above 2_17 were not offered for python3.13; tags %v", newest, tags)
	}
	t.Logf("wheel tags: %v", tags)
}

// wheelTags returns the Tag lines of every WHEEL file in the layers, by
// dist-info folder.
func wheelTags(t *testing.T, layers map[string][]byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, data := range layers {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			dir, base := filepath.Split(f.Name)
			if base != "WHEEL" || !strings.HasSuffix(strings.TrimSuffix(dir, "/"), ".dist-info") {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(readZipFile(t, f)))
			for sc.Scan() {
				if tag, ok := strings.CutPrefix(sc.Text(), "Tag: "); ok {
					out[filepath.Base(dir)] = append(out[filepath.Base(dir)], strings.TrimSpace(tag))
				}
			}
		}
	}
	return out
}

// splitTag splits a wheel tag "cp313-cp313-manylinux_2_17_x86_64".
func splitTag(tag string) (py, abi, plat string) {
	parts := strings.SplitN(tag, "-", 3)
	if len(parts) != 3 {
		return tag, "", ""
	}
	return parts[0], parts[1], parts[2]
}

// TestBuildDemoBothArchitectures builds the demo monorepo (testdata/demo,
// python3.12) for each of its architectures, x86_64 in the x86_64
// stand-ins and arm64 in the arm64 ones, with its container-image
// function (reports) on the stand-in Lambda base of that architecture.
// The stand-ins run Python 3.11, which is no obstacle to building: pip
// picks wheels for --python-version 3.12 and the target's platform.
// Every function must be delivered (layers or an image), every shared
// object in the layers must be for the target's machine, the image must
// be for the target's platform, and the metadata check of `layers verify
// --offline` must pass. Importing needs a python3.12 runtime, which no
// stand-in is.
//
// One build per architecture, because one engine tag is one image: the
// demo's [build] image cannot name an amd64 and an arm64 stand-in at once.
// The arm64 build leaves out the x86_64-only function legacy.
func TestBuildDemoBothArchitectures(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the demo's wheels (pandas, pyarrow, numpy, ...) for two architectures; skipped with -short")
	}
	d := dockertest.Engine(t)
	for _, s := range []dockertest.Standin{dockertest.X8664(t, d), dockertest.Arm64(t, d)} {
		t.Run(s.Architecture, func(t *testing.T) {
			cfg := demoFor(t, s)
			cacheDir := t.TempDir()
			res, err := build(t, d, cfg, cacheDir)
			if err != nil {
				t.Fatal(err)
			}
			m := res.Manifest
			t.Logf("demo for %s: %d units, %d layers, %d images in %s", s.Architecture, res.UnitsBuilt, len(zips(t, cfg, m)), res.ImagesBuilt, res.Took)
			if len(m.Targets) != 1 || m.Targets[0].Architecture != s.Architecture || m.Targets[0].Runtime != "python3.12" {
				t.Fatalf("manifest targets %+v, want one, python3.12/%s", m.Targets, s.Architecture)
			}
			tm := m.Targets[0]
			want := map[string]bool{"notify": true, "orders": true, "payments": true, "reports": true, "thumbnails": true, "legacy": s.Architecture == "x86_64"}
			for _, f := range tm.Functions {
				if !want[f.Name] {
					t.Errorf("unexpected function %s", f.Name)
				}
				delete(want, f.Name)
				if f.Name == "reports" {
					if f.PackageType != planner.PackageImage {
						t.Errorf("reports is %s, want an image", f.PackageType)
					}
				} else if f.PackageType != planner.PackageLayers || len(f.Layers) == 0 {
					t.Errorf("function %s: %s with layers %v", f.Name, f.PackageType, f.Layers)
				}
			}
			for name, ok := range want {
				if ok {
					t.Errorf("function %s was not built", name)
				}
			}
			for _, img := range tm.Images {
				t.Cleanup(func() {
					// t.Context() is done by the time cleanups run.
					if err := d.Untag(context.Background(), img.Tag); err != nil {
						t.Logf("remove %s: %v", img.Tag, err)
					}
				})
				info, err := d.ImageInfo(t.Context(), img.Tag)
				if err != nil {
					t.Fatal(err)
				}
				if img.Platform != s.Platform || info.Platform != s.Platform || img.Base != s.Lambda {
					t.Errorf("image %s: platform %s (engine: %s), base %s; want %s on %s", img.Function, img.Platform, info.Platform, img.Base, s.Platform, s.Lambda)
				}
			}
			machine := elf.EM_X86_64
			if s.Architecture == "arm64" {
				machine = elf.EM_AARCH64
			}
			checkMachine(t, zips(t, cfg, m), machine)
			planEqualsBuild(t, d, cfg, cacheDir, m)

			vres, err := verify.Run(t.Context(), cfg, verify.Options{Offline: true})
			if err != nil {
				var text strings.Builder
				if vres != nil {
					vres.WriteText(&text, false)
				}
				t.Errorf("verify --offline: %v\n%s", err, text.String())
			}
		})
	}
}

// demoFor copies testdata/demo into a new repository and points its
// layers.toml at s: s's architecture only, s's build image, and s's
// Lambda base for the image function; byte code stripped, since the
// stand-ins' Python is not the demo's.
func demoFor(t *testing.T, s dockertest.Standin) *config.Config {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../testdata/demo")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "layers.toml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	replace := func(old, new string) {
		t.Helper()
		if !strings.Contains(text, old) {
			t.Fatalf("the demo's layers.toml has no %q", old)
		}
		text = strings.Replace(text, old, new, 1)
	}
	replace(`architectures = ["x86_64", "arm64"]`, `architectures = ["`+s.Architecture+`"]`)
	replace("\n[image]\n", "\n[image]\nbase = \""+s.Lambda+"\"\n")
	if s.Architecture != "x86_64" {
		replace("[function.legacy]\narchitectures = [\"x86_64\"]\n", "")
		if err := os.RemoveAll(filepath.Join(root, "functions", "legacy")); err != nil {
			t.Fatal(err)
		}
	}
	text += "\n[build]\nimage = \"" + s.Build + "\"\n"
	// The demo targets python3.12 and no stand-in has it: byte code
	// compiled by another Python would not load, and layers refuses it.
	text += "\n[prune]\nbytecode = \"strip\"\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// planEqualsBuild checks that `layers plan` after a build, from scratch
// and from the build's plan alike, plans with the units' measured sizes
// and shows the layers the build made: the same names, and each
// function's same layers and size.
func planEqualsBuild(t *testing.T, e engine.Engine, cfg *config.Config, cacheDir string, m *manifest.Manifest) {
	t.Helper()
	built := map[string]bool{}
	fns := map[string]manifest.Function{}
	for _, tm := range m.Targets {
		for _, l := range tm.Layers {
			built[l.Name] = true
		}
		for _, f := range tm.Functions {
			fns[f.Name] = f
		}
	}
	for _, fresh := range []bool{true, false} {
		doc, err := pipeline.PlanWith(context.Background(), cfg, pipeline.PlanOptions{Engine: e, CacheDir: cacheDir, Tool: "test",
			Fresh: fresh, Getenv: dockertest.Getenv(cacheDir)})
		if err != nil {
			t.Fatal(err)
		}
		if doc.Estimated() {
			t.Errorf("plan (fresh %v) after the build still estimates sizes", fresh)
		}
		planned := map[string]bool{}
		for _, td := range doc.Targets {
			for _, u := range td.Units {
				if u.Size != pipeline.SizeMeasured {
					t.Errorf("plan (fresh %v): unit %s %s: size %s", fresh, u.Name, u.Version, u.Size)
				}
			}
			for _, l := range td.Layers {
				planned[l.Name] = true
			}
			for _, f := range td.Functions {
				b := fns[f.Name]
				if !slices.Equal(f.Layers, b.Layers) || f.UnzippedBytes == nil || b.UnzippedBytes == nil || *f.UnzippedBytes != *b.UnzippedBytes {
					t.Errorf("plan (fresh %v): function %s: layers %v, %s; the build made %v, %s", fresh, f.Name,
						f.Layers, sizeOf(f.UnzippedBytes), b.Layers, sizeOf(b.UnzippedBytes))
				}
			}
		}
		if !maps.Equal(planned, built) {
			t.Errorf("plan (fresh %v) shows %d layers %v; the build made %d: %v", fresh, len(planned), slices.Sorted(maps.Keys(planned)),
				len(built), slices.Sorted(maps.Keys(built)))
		}
	}
}

func sizeOf(n *int64) string {
	if n == nil {
		return "size unknown"
	}
	return strconv.FormatInt(*n, 10) + " bytes"
}
