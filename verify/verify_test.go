package verify_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/verify"
)

// writeZip writes a layer zip holding files (path -> content).
func writeZip(t *testing.T, p string, files map[string]string) {
	t.Helper()
	var list []archive.File
	for name, data := range files {
		list = append(list, archive.FromBytes(name, []byte(data), false))
	}
	var b bytes.Buffer
	if err := archive.WriteZip(&b, list, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// distFiles returns the files of an installed distribution under root:
// its modules and a .dist-info with METADATA (name, version, requires),
// RECORD listing the modules, and top_level.txt when topLevel is not nil.
func distFiles(root, name, version string, requires []string, topLevel []string, modules ...string) map[string]string {
	info := root + "/" + strings.ReplaceAll(name, "-", "_") + "-" + version + ".dist-info/"
	meta := "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"
	for _, r := range requires {
		meta += "Requires-Dist: " + r + "\n"
	}
	meta += "\nThe description.\nRequires-Dist: not-a-header\n"
	out := map[string]string{info + "METADATA": meta}
	record := ""
	for _, m := range modules {
		if !strings.HasPrefix(m, "../") { // scripts pip put outside the root
			out[root+"/"+m] = "# " + m + "\n"
		}
		record += m + ",sha256=x,1\n"
	}
	record += strings.TrimPrefix(info, root+"/") + "METADATA,,\n"
	out[info+"RECORD"] = record
	if topLevel != nil {
		out[info+"top_level.txt"] = strings.Join(topLevel, "\n") + "\n"
	}
	return out
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func openTree(t *testing.T, layers ...map[string]string) *verify.Tree {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for i, files := range layers {
		name := string(rune('a' + i))
		writeZip(t, filepath.Join(dir, name+".zip"), files)
		names = append(names, name)
	}
	tree, err := verify.OpenTree("3.11", names, func(n string) string { return filepath.Join(dir, n+".zip") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	return tree
}

const sp = "python/lib/python3.11/site-packages"

func TestModules(t *testing.T) {
	tree := openTree(t,
		merge(
			// top_level.txt names a tests folder, a stale name and the package.
			distFiles("python", "PyYAML", "6.0.2", nil, []string{"_yaml", "yaml", "tests", "gone"},
				"yaml/__init__.py", "yaml/constructor.py", "_yaml/__init__.py", "tests/test_x.py"),
			// No top_level.txt: RECORD says what is installed.
			distFiles("python", "six", "1.16.0", nil, nil, "six.py", "../../bin/six-tool", "__pycache__/six.cpython-311.pyc"),
			distFiles("python", "orjson", "3.10.11", nil, nil, "orjson/__init__.py", "orjson/orjson.cpython-311-x86_64-linux-gnu.so"),
			// No top_level.txt, and auditwheel's folder of shared libraries.
			distFiles("python", "numpy", "2.1.3", nil, nil, "numpy/__init__.py", "numpy.libs/libopenblas64_p-r0-0cf96a72.3.23.dev.so",
				"numpy-2.1.3.data/scripts/f2py"),
			distFiles("python", "fastext", "1.0", nil, nil, "fastext.cpython-311-x86_64-linux-gnu.so", "fastext.pth"),
			// A namespace package: google/ has no __init__.py.
			distFiles("python", "protobuf", "5.0", nil, []string{"google"}, "google/protobuf/__init__.py", "google/protobuf/message.py"),
			distFiles("python", "weird", "1.0", nil, []string{"not-a-name", "weird"}, "weird/__init__.py"),
		),
		// A second layer in the other root, whose dist lost its package
		// to pruning: the module stays in the list, its import must fail.
		merge(distFiles(sp, "requests", "2.32.3", nil, []string{"requests"}, "requests/__init__.py"),
			map[string]string{}),
	)
	// Remove requests/ from the tree after the fact: rebuild the layer
	// without it.
	pruned := distFiles(sp, "requests", "2.32.3", nil, []string{"requests"}, "requests/__init__.py")
	delete(pruned, sp+"/requests/__init__.py")
	prunedTree := openTree(t, pruned)

	for _, tc := range []struct {
		tree *verify.Tree
		dist string
		want []string
		left []string
	}{
		{tree, "pyyaml", []string{"_yaml", "yaml"}, []string{"gone", "tests"}},
		{tree, "six", []string{"six"}, nil},
		{tree, "orjson", []string{"orjson"}, nil},
		{tree, "numpy", []string{"numpy"}, nil},
		{tree, "fastext", []string{"fastext"}, nil},
		{tree, "protobuf", []string{"google.protobuf"}, nil},
		{tree, "weird", []string{"weird"}, []string{"not-a-name"}},
		{tree, "requests", []string{"requests"}, nil},
		{prunedTree, "requests", []string{"requests"}, nil},
	} {
		d := tc.tree.Dists[tc.dist]
		if d == nil {
			t.Fatalf("%s: not found in the tree (have %v)", tc.dist, keys(tc.tree.Dists))
		}
		got, left := verify.Modules(d, tc.tree)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: modules %v, want %v", tc.dist, got, tc.want)
		}
		var leftNames []string
		for k := range left {
			leftNames = append(leftNames, k)
		}
		sort.Strings(leftNames)
		if !reflect.DeepEqual(leftNames, tc.left) {
			t.Errorf("%s: left out %v, want %v", tc.dist, leftNames, tc.left)
		}
	}
	if d := tree.Dists["requests"]; d.Root != sp {
		t.Errorf("requests found in %s, want %s", d.Root, sp)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCheckRequirements(t *testing.T) {
	env, err := pep508.TargetEnv("python3.11", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	dist := func(name, version string, requires ...string) *verify.Dist {
		return &verify.Dist{Name: name, Version: version, Requires: requires}
	}
	received := map[string]*verify.Dist{
		"requests": dist("requests", "2.32.3", "charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1",
			"certifi>=2017.4.17", `PySocks!=1.5.7,>=1.5.6; extra == "socks"`, `chardet<6,>=3.0.2; extra == "use-chardet-on-py3"`),
		"idna":               dist("idna", "3.10"),
		"certifi":            dist("certifi", "2024.8.30"),
		"charset-normalizer": dist("charset-normalizer", "3.4.0"),
		"app":                dist("app", "1.0", "requests[socks]>=2", "boto3", `pywin32; sys_platform == "win32"`, "typing-extensions>=4.20", "bad requirement ["),
		"typing-extensions":  dist("typing-extensions", "4.12.2"),
		// Received but not needed: its requirements are not checked.
		"extra-dist": dist("extra-dist", "1.0", "nowhere"),
	}
	got := verify.CheckRequirements([]string{"app", "certifi", "charset-normalizer", "idna", "requests", "typing-extensions", "numpy"},
		received, env, map[string]bool{"boto3": true})
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	want := []string{
		`app 1.0: Requires-Dist "bad requirement [" does not parse`,
		"app 1.0 requires typing-extensions>=4.20, but the function receives 4.12.2",
		"numpy  is in the plan, but no .dist-info of it is in the function's layers",
		"requests 2.32.3 requires pysocks!=1.5.7,>=1.5.6, which the function does not receive",
		"requests 2.32.3 requires urllib3<3,>=1.21.1, which the function does not receive",
	}
	sort.Strings(lines)
	sort.Strings(want)
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseImportTime(t *testing.T) {
	text := "import time: self [us] | cumulative | imported package\n" +
		"import time:       120 |        120 |   _io\n" +
		"import time:      1500 |       1620 | yaml\n" +
		"something the module printed\n" +
		"import time:        30 |         30 |     yaml.error\n" +
		"import time:        40 |         70 |   yaml.reader\n" +
		"import time:       900 |        970 | six\n" +
		"import time: x | y | broken\n"
	got := verify.ParseImportTime(text)
	want := []verify.ImportTime{
		{Name: "_io", Depth: 1, Self: 120, Cumulative: 120},
		{Name: "yaml", Depth: 0, Self: 1500, Cumulative: 1620},
		{Name: "yaml.error", Depth: 2, Self: 30, Cumulative: 30},
		{Name: "yaml.reader", Depth: 1, Self: 40, Cumulative: 70},
		{Name: "six", Depth: 0, Self: 900, Cumulative: 970},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func FuzzParseImportTime(f *testing.F) {
	f.Add("import time:       120 |        120 |   _io\nimport time: 1 | 2 | x\n")
	f.Add("import time: | |")
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range verify.ParseImportTime(s) {
			if l.Name == "" || l.Depth < 0 || l.Self < 0 || l.Cumulative < 0 || strings.ContainsAny(l.Name, "\n") {
				t.Fatalf("bad line %+v from %q", l, s)
			}
		}
	})
}

func TestParseMetadata(t *testing.T) {
	h := verify.ParseMetadata([]byte("Metadata-Version: 2.1\r\nName: PyYAML\nVersion: 6.0.2\nRequires-Dist: a>=1\n" +
		"Requires-Dist: b; extra ==\n  \"x\"\nbroken line\nLicense: MIT\n\nRequires-Dist: body\n"))
	if got := h["requires-dist"]; !reflect.DeepEqual(got, []string{"a>=1", `b; extra == "x"`}) {
		t.Errorf("requires-dist %q", got)
	}
	if h["name"][0] != "PyYAML" || h["license"][0] != "MIT" {
		t.Errorf("headers %v", h)
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("Name: x\nVersion: 1\nRequires-Dist: y\n continued\n\nbody"))
	f.Add([]byte(" leading\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, vs := range verify.ParseMetadata(data) {
			if k == "" || strings.ContainsAny(k, " \t\n") || len(vs) == 0 {
				t.Fatalf("bad field %q: %q", k, vs)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("yaml/__init__.py,sha256=x,12\n\"a,b.py\",,\n../../bin/x,,\n"))
	f.Add([]byte("\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range verify.ParseRecord(data) {
			if p == "" {
				t.Fatal("empty path")
			}
		}
	})
}

// writeBuild writes a build manifest for one python3.11/x86_64 target
// whose functions (name -> layers, in order) attach the layers (name ->
// files), every function needing all its layers' packages (needs, when
// set, overrides that).
func writeBuild(t *testing.T, root string, layers map[string]map[string]string, functions map[string][]string, needs map[string][]string) {
	t.Helper()
	tm := manifest.Target{Runtime: "python3.11", Architecture: "x86_64"}
	for _, name := range keys(layers) {
		rel := manifest.DistDir + "/" + name + ".zip"
		writeZip(t, filepath.Join(root, filepath.FromSlash(rel)), layers[name])
		l := manifest.Layer{Name: name, File: rel}
		for p := range layers[name] {
			if strings.HasSuffix(p, ".dist-info/METADATA") {
				h := verify.ParseMetadata([]byte(layers[name][p]))
				l.Packages = append(l.Packages, planner.PackageRef{Name: pep508.NormalizeName(h["name"][0]), Version: h["version"][0]})
			}
		}
		tm.Layers = append(tm.Layers, l)
	}
	for _, name := range keys(functions) {
		f := manifest.Function{Name: name, Path: "functions/" + name, PackageType: planner.PackageLayers, Layers: functions[name]}
		for _, n := range needs[name] {
			f.Packages = append(f.Packages, planner.PackageRef{Name: n})
		}
		tm.Functions = append(tm.Functions, f)
	}
	m := &manifest.Manifest{Format: manifest.Format, Tool: "test", InputsSHA256: "inputs", Targets: []manifest.Target{tm}}
	if err := manifest.Write(root, m); err != nil {
		t.Fatal(err)
	}
}

// requestsWithoutURLLib3 is a function's layer from a hand-pinned
// requirements file that forgot urllib3, with requests' real metadata.
var requestsWithoutURLLib3 = merge(
	distFiles("python", "requests", "2.32.3", []string{"charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1", "certifi>=2017.4.17",
		`PySocks!=1.5.7,>=1.5.6; extra == "socks"`, `chardet<6,>=3.0.2; extra == "use-chardet-on-py3"`}, []string{"requests"}, "requests/__init__.py"),
	distFiles("python", "idna", "3.10", nil, nil, "idna/__init__.py"),
	distFiles("python", "certifi", "2024.8.30", nil, []string{"certifi"}, "certifi/__init__.py"),
	distFiles("python", "charset-normalizer", "3.4.0", nil, []string{"charset_normalizer"}, "charset_normalizer/__init__.py"),
)

// TestOfflineMissingTransitive checks `layers verify --offline` on the
// layers of a requirements file that forgot a transitive dependency.
func TestOfflineMissingTransitive(t *testing.T) {
	root := t.TempDir()
	writeBuild(t, root, map[string]map[string]string{"web": requestsWithoutURLLib3, "extra": distFiles("python", "six", "1.16.0", []string{"nowhere"}, nil, "six.py")},
		map[string][]string{"api": {"web"}, "other": {"web", "extra"}},
		map[string][]string{"other": {"requests", "idna", "certifi", "charset-normalizer"}})
	cfg := config.Default(root)
	res, err := verify.Run(context.Background(), cfg, verify.Options{Offline: true})
	var fe *verify.FailedError
	if !errors.As(err, &fe) || !reflect.DeepEqual(fe.Functions, []string{"api (python3.11/x86_64)", "other (python3.11/x86_64)"}) {
		t.Fatalf("error %v, want a *FailedError naming api and other", err)
	}
	for _, f := range res.Functions {
		want := []verify.Problem{{Kind: verify.ProblemMissing, Distribution: "requests", Version: "2.32.3", Requirement: "urllib3<3,>=1.21.1"}}
		if !reflect.DeepEqual(f.Problems, want) {
			t.Errorf("function %s: problems %+v, want %+v (six, received but not needed, is not checked)", f.Name, f.Problems, want)
		}
	}
	var b strings.Builder
	if err := res.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	if want := "function api: requests 2.32.3 requires urllib3<3,>=1.21.1, which the function does not receive"; !strings.Contains(b.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, b.String())
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(verify.ResultFile))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an offline run wrote %s (%v): it would hide the last import times", verify.ResultFile, err)
	}

	// [exclude] says the runtime provides urllib3: no problem then.
	cfg.Exclude = []string{"urllib3"}
	if _, err := verify.Run(context.Background(), cfg, verify.Options{Offline: true}); err != nil {
		t.Errorf("with urllib3 excluded: %v", err)
	}
	if _, err := verify.Run(context.Background(), cfg, verify.Options{Offline: true, Function: "nope"}); err == nil || !strings.Contains(err.Error(), `no function "nope"`) {
		t.Errorf("unknown function: %v", err)
	}
}
