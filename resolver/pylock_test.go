package resolver

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/testkit/testfs"
)

// TestPylockUVExport reads the pylock.toml that `uv export --package orders
// --extra fast --group dev` wrote from the workspace of the uv.lock tests:
// for every target its selection must be the uv.lock closure of the same
// request.
func TestPylockUVExport(t *testing.T) {
	pl, err := ParsePylock("testdata/pylock", "functions/orders/pylock.toml")
	if err != nil {
		t.Fatal(err)
	}
	if pl.Path() != "functions/orders/pylock.toml" {
		t.Errorf("Path() = %q", pl.Path())
	}
	ul, err := ParseUVLock("testdata/uvlock/workspace", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range [][2]string{{"python3.12", "x86_64"}, {"python3.12", "arm64"}, {"python3.10", "x86_64"}, {"python3.11", "arm64"}, {"python3.13", "x86_64"}} {
		t.Run(target[0]+"/"+target[1], func(t *testing.T) {
			env := uvTestEnv(t, target[0], target[1])
			got, err := pl.Closure(LockRequest{Project: "orders", Env: env})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ul.Closure(LockRequest{Project: "orders", Extras: []string{"fast"}, Groups: []string{"dev"}, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := uvTestSummary(got), uvTestSummary(want); !slices.Equal(g, w) {
				t.Errorf("pylock selects\n%q\nuv.lock closure is\n%q", g, w)
			}
			for i := range got {
				if got[i].Source == SourceRegistry && !uvTestSamePackage(got[i], want[i]) {
					t.Errorf("pylock %+v\nuv.lock %+v", got[i], want[i])
				}
			}
		})
	}
}

func TestPylockSelection(t *testing.T) {
	lock, err := ParsePylock("testdata/pylock", "multi/pylock.toml")
	if err != nil {
		t.Fatal(err)
	}
	const (
		trace  = "tracekit==0.3.0 @ git+https://git.example.invalid/acme/tracekit.git@5cb5ff6b1f19ea05e4d1b2c3a4e5f60718293a4b#subdirectory=python"
		vendor = "vendored-sdk==0.9.0 @ https://files.example.invalid/vendor/vendored_sdk-0.9.0.tar.gz"
		auth   = "internal-auth @ multi/wheels/internal_auth-1.2.0-py3-none-any.whl"
		shared = "shared-utils @ libs/shared-utils"
		self   = "report-fn @ multi" // the project, a package: installers install it
	)
	tests := []struct {
		name           string
		runtime        string
		extras, groups []string
		want           []string
	}{
		{"default install", "python3.12", nil, nil,
			[]string{"numpy==2.2.6", "pandas==2.2.3", self, shared, trace, vendor}},
		{"default on 3.10", "python3.10", nil, nil,
			[]string{"numpy==2.0.2", "pandas==2.2.3", self, shared, trace, vendor}},
		{"extras", "python3.12", []string{"XLSX", "s3"}, nil,
			[]string{"boto3==1.35.90", "numpy==2.2.6", "openpyxl==3.1.5", "pandas==2.2.3", self, shared, trace, vendor}},
		{"groups replace the defaults", "python3.12", nil, []string{"lambda"},
			[]string{"boto3==1.35.90", auth, "numpy==2.2.6", "pandas==2.2.3", self, shared}},
		{"dev group", "python3.10", nil, []string{"dev"},
			[]string{"pytest==8.3.4", self, shared, "tomli==2.2.1"}},
		{"the default group asked for by name", "python3.12", []string{"xlsx"}, []string{"default", "dev"},
			[]string{"numpy==2.2.6", "openpyxl==3.1.5", "pandas==2.2.3", "pytest==8.3.4", self, shared, trace, vendor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lock.Closure(LockRequest{Project: "report-fn", Extras: tt.extras, Groups: tt.groups, Env: uvTestEnv(t, tt.runtime, "x86_64")})
			if err != nil {
				t.Fatal(err)
			}
			if s := uvTestSummary(got); !slices.Equal(s, tt.want) {
				t.Errorf("closure\n got %q\nwant %q", s, tt.want)
			}
		})
	}

	got, err := lock.Closure(LockRequest{Groups: []string{"dev"}, Env: uvTestEnv(t, "python3.10", "arm64")})
	if err != nil {
		t.Fatal(err)
	}
	// Without a project every directory package is part of the install.
	if s := uvTestSummary(got); !slices.Contains(s, "report-fn @ multi") {
		t.Errorf("closure without a project %q lacks report-fn", s)
	}
	for _, p := range got {
		if p.Name == "tomli" {
			want := Package{Name: "tomli", Version: "2.2.1", Source: SourceRegistry, URL: "https://index.example.invalid/simple",
				Hashes: []string{"sha256:cb55c73c5f4408779d0cf3eef9f762b9c9f147a77de7b258bef0a5628adc85cc"},
				Wheels: []Wheel{{Filename: "tomli-2.2.1-py3-none-any.whl", Size: 14257, Hash: "sha256:cb55c73c5f4408779d0cf3eef9f762b9c9f147a77de7b258bef0a5628adc85cc"}}}
			if !uvTestSamePackage(p, want) {
				t.Errorf("tomli = %+v\nwant %+v", p, want)
			}
		}
	}
	got, err = lock.Closure(LockRequest{Project: "report-fn", Env: uvTestEnv(t, "python3.12", "arm64")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if p.Name == "pandas" {
			// Every algorithm's hash is kept, sorted by algorithm, per artifact.
			if len(p.Wheels) != 2 || p.Wheels[1].Hash != "sha256:eee3a87076c0756de40b05c5e9a6069c035ba43e8dd71c379e68cab2c20f16ad" ||
				!slices.Contains(p.Hashes, "blake2b:00ff") || len(p.Hashes) != 4 {
				t.Errorf("pandas = %+v", p)
			}
		}
	}
}

func TestPylockErrors(t *testing.T) {
	py312 := uvTestEnv(t, "python3.12", "x86_64")
	const head = "lock-version = \"1.0\"\ncreated-by = \"hand\"\n"
	pkg := func(name, extra string) string {
		return "\n[[packages]]\nname = \"" + name + "\"\nversion = \"1.0\"\n" + extra + "wheels = [{ url = \"https://files.example.invalid/" + name + "-1.0-py3-none-any.whl\", hashes = { sha256 = \"00\" } }]\n"
	}
	tests := []struct {
		name   string
		text   string
		req    *LockRequest
		want   string
		substr string
	}{
		{name: "bad TOML", text: head + "[[packages]\n", want: "pylock.toml:3: ", substr: "invalid TOML"},
		{name: "no lock-version", text: "created-by = \"x\"\n", want: "pylock.toml: ", substr: "no lock-version"},
		{name: "lock-version 2", text: "created-by = \"x\"\nlock-version = \"2.0\"\n", want: "pylock.toml:2: ", substr: `unsupported lock-version "2.0"`},
		{name: "lock-version not a string", text: "lock-version = 1.0\n", want: "pylock.toml:1: "},
		{name: "bad requires-python", text: head + "requires-python = \"3.10+\"\n", want: "pylock.toml:3: ", substr: "bad requires-python"},
		{name: "bad environment", text: head + "environments = [\n  \"sys_platform == 'linux'\",\n  \"os_name ==\",\n]\n", want: "pylock.toml:5: ", substr: "invalid marker"},
		{name: "bad extra name", text: head + "extras = [\"ok\", \"not ok\"]\n", want: "pylock.toml:3: ", substr: `bad name "not ok" in extras`},
		{name: "bad package name", text: head + pkg("a b", ""), want: "pylock.toml:5: ", substr: "bad package name"},
		{name: "bad marker", text: head + pkg("six", "marker = \"python_version <\"\n"), want: "pylock.toml:7: ", substr: "invalid marker"},
		{name: "bad package requires-python", text: head + pkg("six", "requires-python = \"~=\"\n"), want: "pylock.toml:7: ", substr: "bad requires-python"},
		{name: "no source", text: head + "\n[[packages]]\nname = \"six\"\nversion = \"1\"\n", want: "pylock.toml:5: ", substr: "has no source"},
		{name: "two sources", text: head + pkg("six", "directory = { path = \"six\" }\n"), want: "pylock.toml:5: ", substr: "several sources (directory, sdist/wheels)"},
		{name: "index package without version", text: head + "\n[[packages]]\nname = \"six\"\nsdist = { url = \"https://files.example.invalid/six.tar.gz\" }\n", want: "pylock.toml:5: ", substr: "has no version"},
		{name: "vcs without commit", text: head + "\n[[packages]]\nname = \"six\"\nvcs = { type = \"git\", url = \"https://git.example.invalid/six.git\" }\n", want: "pylock.toml:6: ", substr: "no commit-id"},
		{name: "vcs without url or path", text: head + "\n[[packages]]\nname = \"six\"\nvcs = { type = \"git\" }\n", want: "pylock.toml:6: ", substr: "neither url nor path"},
		{name: "archive without url or path", text: head + "\n[[packages]]\nname = \"six\"\narchive = { size = 1 }\n", want: "pylock.toml:6: ", substr: "neither url nor path"},
		{name: "directory without path", text: head + "\n[[packages]]\nname = \"six\"\ndirectory = { editable = true }\n", want: "pylock.toml:6: ", substr: "has no path"},
		{
			name: "two entries apply", want: "pylock.toml:10: ", substr: "two entries for six apply to this target (this one and line 4)",
			text: head + pkg("six", "marker = \"python_full_version >= '3.10'\"\n") + pkg("six", "marker = \"python_full_version >= '3.11'\"\n"),
			req:  &LockRequest{Env: py312},
		},
		{name: "unknown extra", text: head + "extras = [\"s3\"]\n", req: &LockRequest{Extras: []string{"xlsx"}, Env: py312}, want: "pylock.toml:3: ", substr: `extra "xlsx" is not among the lock's extras [s3]`},
		{name: "unknown group", text: head + "dependency-groups = [\"dev\"]\ndefault-groups = [\"default\"]\n", req: &LockRequest{Groups: []string{"lint"}, Env: py312}, want: "pylock.toml:3: ", substr: `dependency group "lint" is not among the lock's groups [dev, default]`},
		{name: "python excluded", text: head + "requires-python = \">=3.13\"\n", req: &LockRequest{Env: py312}, want: "pylock.toml:3: ", substr: "requires-python >=3.13 excludes the target's Python 3.12.11"},
		{name: "no environment matches", text: head + "environments = [\"sys_platform == 'win32'\"]\n", req: &LockRequest{Env: py312}, want: "pylock.toml:3: ", substr: "none of the lock's environments"},
		{name: "package python excluded", text: head + pkg("six", "requires-python = \"<3.12\"\n"), req: &LockRequest{Env: py312}, want: "pylock.toml:7: ", substr: "six 1.0 requires Python <3.12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lock, err := parsePylock("/repo", "pylock.toml", []byte(tt.text))
			if err == nil && tt.req != nil {
				_, err = lock.Closure(*tt.req)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("%v is a %T, not a *diag.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q, want prefix %q containing %q", err, tt.want, tt.substr)
			}
		})
	}
}

func TestPylockReadError(t *testing.T) {
	lock, err := ParsePylock(t.TempDir(), "pylock.toml")
	if err == nil || lock != nil || diag.IsInput(err) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, %v: want a nil Lock and a plain not-exist error", lock, err)
	}
}

// FuzzPylock feeds arbitrary text to the parser and selects packages for a
// few requests: no panics, only *diag.Error failures, sorted results.
func FuzzPylock(f *testing.F) {
	for _, name := range []string{"functions/orders/pylock.toml", "multi/pylock.toml"} {
		data, err := os.ReadFile(filepath.Join("testdata/pylock", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uvTestTrim(data))
	}
	env, err := pep508.TargetEnv("python3.11", "x86_64")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lock, err := parsePylock("/repo", "fn/pylock.toml", data)
		if err != nil {
			if !diag.IsInput(err) {
				t.Fatalf("%v is not a *diag.Error", err)
			}
			return
		}
		// Ask for what the lock declares: unknown extras and groups end on
		// the error path, tested elsewhere.
		everything := LockRequest{Project: "report-fn", Extras: lock.extras, Groups: lock.groups, Env: env}
		for _, req := range []LockRequest{{Env: env}, everything} {
			got, err := lock.Closure(req)
			if err != nil {
				if !diag.IsInput(err) {
					t.Fatalf("%v is not a *diag.Error", err)
				}
				continue
			}
			if !slices.IsSortedFunc(got, func(a, b Package) int { return strings.Compare(a.Name, b.Name) }) {
				t.Fatal("closure not sorted")
			}
		}
	})
}

// TestPylockLocalVersion: PEP 751 leaves a directory package's version
// out; it comes from the folder's own metadata, so that one local package
// is one unit whichever lock names it.
func TestPylockLocalVersion(t *testing.T) {
	root := testfs.Tree(t, map[string]string{
		"pylock.toml": "lock-version = \"1.0\"\ncreated-by = \"uv\"\n\n" +
			"[[packages]]\nname = \"acme-common\"\ndirectory = { path = \"libs/common\", editable = false }\n\n" +
			"[[packages]]\nname = \"acme-legacy\"\ndirectory = { path = \"libs/legacy\" }\n\n" +
			"[[packages]]\nname = \"acme-bare\"\ndirectory = { path = \"libs/bare\" }\n",
		"libs/common/pyproject.toml": "[project]\nname = \"acme-common\"\nversion = \"0.3.0\"\n",
		"libs/legacy/setup.cfg":      "[metadata]\nname = acme-legacy\nversion = 1.2\n",
		"libs/bare/setup.py":         "",
	})
	lock, err := ParsePylock(root, "pylock.toml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := lock.Closure(LockRequest{Env: uvTestEnv(t, "python3.12", "x86_64")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"acme-common": "0.3.0", "acme-legacy": "1.2", "acme-bare": ""}
	for _, p := range got {
		if p.Version != want[p.Name] {
			t.Errorf("%s: version %q, want %q", p.Name, p.Version, want[p.Name])
		}
	}
	if len(got) != 3 {
		t.Errorf("closure %v, want 3 packages", got)
	}
	bad := testfs.Tree(t, map[string]string{
		"pylock.toml":                "lock-version = \"1.0\"\n\n[[packages]]\nname = \"acme-common\"\ndirectory = { path = \"libs/common\" }\n",
		"libs/common/pyproject.toml": "[project]\nname = \"acme-common\"\nversion = \"not a version\"\n",
	})
	if _, err := ParsePylock(bad, "pylock.toml"); err == nil || !strings.Contains(err.Error(), "libs/common/pyproject.toml:3") {
		t.Errorf("a bad local version: %v, want an error at libs/common/pyproject.toml:3", err)
	}
}
