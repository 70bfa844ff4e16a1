package resolver

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
)

func uvTestEnv(t testing.TB, runtime, arch string) pep508.Env {
	t.Helper()
	env, err := pep508.TargetEnv(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// uvTestSummary renders a closure the way closures.json spells it.
func uvTestSummary(pkgs []Package) []string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		switch p.Source {
		case SourceLocal:
			out[i] = p.Name + " @ " + p.Path
		case SourceURL:
			out[i] = p.Name + "==" + p.Version + " @ " + p.URL
		default:
			out[i] = p.Name + "==" + p.Version
		}
	}
	return out
}

// TestUVLockWorkspaceClosures checks closures of a lock that uv generated
// against what `uv export` says for the same member, extras, groups and
// target (closures.json; markers evaluated with Python's packaging).
func TestUVLockWorkspaceClosures(t *testing.T) {
	lock, err := ParseUVLock("testdata/uvlock/workspace", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/uvlock/workspace/closures.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Project, Runtime, Arch  string
		Extras, Groups, Closure []string
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		name := strings.Join([]string{c.Project, strings.Join(c.Extras, "+"), strings.Join(c.Groups, "+"), c.Runtime, c.Arch}, "/")
		t.Run(name, func(t *testing.T) {
			got, err := lock.Closure(LockRequest{Project: c.Project, Extras: c.Extras, Groups: c.Groups, Env: uvTestEnv(t, c.Runtime, c.Arch)})
			if err != nil {
				t.Fatal(err)
			}
			// closures.json sorts "pydantic-core" before "pydantic"
			// (plain string order); Closure sorts by name.
			want := slices.Clone(c.Closure)
			slices.SortFunc(want, func(a, b string) int { return strings.Compare(uvTestName(a), uvTestName(b)) })
			if s := uvTestSummary(got); !slices.Equal(s, want) {
				t.Errorf("closure\n got %q\nwant %q", s, want)
			}
		})
	}
}

func uvTestName(s string) string {
	if i := strings.IndexAny(s, "=@ "); i >= 0 {
		return s[:i]
	}
	return s
}

func TestUVLockMembersAndPackages(t *testing.T) {
	lock, err := ParseUVLock("testdata/uvlock", "workspace/uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	if lock.Path() != "workspace/uv.lock" {
		t.Errorf("Path() = %q", lock.Path())
	}
	if m := lock.Members(); !slices.Equal(m, []string{"ingest", "orders", "reports", "shared-utils"}) {
		t.Errorf("Members() = %q", m)
	}
	got, err := lock.Closure(LockRequest{Project: "Orders", Env: uvTestEnv(t, "python3.12", "x86_64")})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Package{}
	for _, p := range got {
		byName[p.Name] = p
	}
	boto := byName["boto3"]
	want := Package{
		Name: "boto3", Version: "1.44.8", Source: SourceRegistry, URL: "https://index.example.invalid/simple",
		Hashes: []string{
			"sha256:099caf21553bbbfef118904aa02fadb8776a534704cf00bede0ed9f29a4da88e",
			"sha256:32f646d28ea25820ec210cfa48e2409bf06a4a529c8b243013fd045716e99826",
		},
		Wheels: []Wheel{{Filename: "boto3-1.44.8-py3-none-any.whl", Size: 140158, Hash: "sha256:099caf21553bbbfef118904aa02fadb8776a534704cf00bede0ed9f29a4da88e"}},
	}
	if !uvTestSamePackage(boto, want) {
		t.Errorf("boto3 = %+v\nwant %+v", boto, want)
	}
	// Local paths are rebased from the lock's folder onto the repository root.
	if p := byName["shared-utils"]; p.Source != SourceLocal || p.Path != "workspace/libs/shared-utils" || p.Version != "0.1.0" {
		t.Errorf("shared-utils = %+v", p)
	}
	// orders is a package (editable): uv sync installs it, and so must
	// its layers, .dist-info and all.
	if p, ok := byName["orders"]; !ok || p.Source != SourceLocal || p.Path != "workspace/functions/orders" {
		t.Errorf("the closure lacks the project itself, a package: %+v", p)
	}
	if n := len(byName["charset-normalizer"].Wheels); n < 10 {
		t.Errorf("charset-normalizer has %d wheels, want all the lock lists", n)
	}
}

func uvTestSamePackage(a, b Package) bool {
	return a.Name == b.Name && a.Version == b.Version && a.Source == b.Source && a.URL == b.URL &&
		a.Path == b.Path && slices.Equal(a.Hashes, b.Hashes) && slices.Equal(a.Wheels, b.Wheels)
}

// TestUVLockForked covers a hand-written lock with several versions of one
// name (split by Python version and by index), extras that request other
// extras of the same package, `extra ==` markers on a package's own
// dependencies, and git, URL and path sources.
func TestUVLockForked(t *testing.T) {
	lock, err := ParseUVLock("testdata/uvlock/forked", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	if m := lock.Members(); !slices.Equal(m, []string{"app"}) {
		t.Fatalf("Members() = %q", m)
	}
	const (
		otel   = "opentelemetry-api==1.29.0 @ https://files.example.invalid/packages/bb/cc/opentelemetry_api-1.29.0-py3-none-any.whl"
		trace  = "tracekit==0.3.0 @ git+https://git.example.invalid/acme/tracekit@5cb5ff6b1f19ea05e4d1b2c3a4e5f60718293a4b"
		vendor = "vendored-sdk @ vendor/vendored_sdk-0.9.0-py3-none-any.whl"
	)
	tests := []struct {
		name          string
		runtime, arch string
		extras        []string
		groups        []string
		want          []string
	}{
		{"py312 x86", "python3.12", "x86_64", nil, nil,
			[]string{"fonttools==4.55.3", "numpy==2.2.6", "pillow==11.0.0", "plotkit==3.1.0", "torch==2.5.1+cpu", vendor}},
		{"py312 arm", "python3.12", "arm64", nil, nil,
			[]string{"fonttools==4.55.3", "numpy==2.2.6", "pillow==11.0.0", "plotkit==3.1.0", "torch==2.5.1", vendor}},
		{"py39 has no torch", "python3.9", "x86_64", nil, nil,
			[]string{"fonttools==4.55.3", "numpy==2.0.2", "pillow==11.0.0", "plotkit==3.1.0", "tomli==2.2.1", vendor}},
		{"extra and group", "python3.12", "x86_64", []string{"Tracing"}, []string{"dev"},
			[]string{"fonttools==4.55.3", "numpy==2.2.6", otel, "pillow==11.0.0", "plotkit==3.1.0", "pytest==8.3.4", "torch==2.5.1+cpu", trace, vendor}},
		{"declared extra and group without dependencies", "python3.12", "x86_64", []string{"docs"}, []string{"bench"},
			[]string{"fonttools==4.55.3", "numpy==2.2.6", "pillow==11.0.0", "plotkit==3.1.0", "torch==2.5.1+cpu", vendor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lock.Closure(LockRequest{Project: "app", Extras: tt.extras, Groups: tt.groups, Env: uvTestEnv(t, tt.runtime, tt.arch)})
			if err != nil {
				t.Fatal(err)
			}
			if s := uvTestSummary(got); !slices.Equal(s, tt.want) {
				t.Errorf("closure\n got %q\nwant %q", s, tt.want)
			}
			for _, p := range got {
				if p.Name == "torch" && tt.arch == "x86_64" {
					if w := p.Wheels[0]; w.Filename != "torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl" || w.Size != 174566720 {
						t.Errorf("torch wheel = %+v", w)
					}
					if p.URL != "https://download.example.invalid/whl/cpu" {
						t.Errorf("torch index = %q", p.URL)
					}
				}
				if p.Name == "vendored-sdk" && p.Wheels[0].Filename != "vendored_sdk-0.9.0-py3-none-any.whl" {
					t.Errorf("vendored-sdk wheel = %+v", p.Wheels[0])
				}
			}
		})
	}
}

// TestUVLockConflicts uses a lock uv wrote for conflicting extras and
// groups, whose markers name extras and groups activated anywhere in the
// install; the expectations are `uv export`'s.
func TestUVLockConflicts(t *testing.T) {
	lock, err := ParseUVLock("testdata/uvlock/conflicts", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"certifi==2026.10.19.post1", "charset-normalizer==3.5.3"}
	tests := []struct {
		extras, groups []string
		idna, urllib3  string
	}{
		{nil, nil, "3.10", "2.8.0"},
		{[]string{"old"}, nil, "3.10", "1.26.20"},
		{[]string{"new"}, nil, "3.10", "2.8.0"},
		{nil, []string{"legacy"}, "3.6", "2.8.0"},
		{[]string{"old"}, []string{"legacy"}, "3.6", "1.26.20"},
		{[]string{"new"}, []string{"modern"}, "3.10", "2.8.0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append(slices.Clone(tt.extras), tt.groups...), "+"), func(t *testing.T) {
			got, err := lock.Closure(LockRequest{Project: "proj", Extras: tt.extras, Groups: tt.groups, Env: uvTestEnv(t, "python3.12", "x86_64")})
			if err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(common), "idna=="+tt.idna, "requests==2.34.2", "urllib3=="+tt.urllib3)
			if s := uvTestSummary(got); !slices.Equal(s, want) {
				t.Errorf("closure\n got %q\nwant %q", s, want)
			}
		})
	}
}

const uvTestHeader = `version = 1
revision = 3
requires-python = ">=3.10"
`

func TestUVLockErrors(t *testing.T) {
	app := func(deps string) string {
		return uvTestHeader + `
[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
` + deps + `
]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://index.example.invalid/simple" }

[[package]]
name = "six"
version = "1.16.0"
source = { registry = "https://index.example.invalid/simple" }
`
	}
	py312 := uvTestEnv(t, "python3.12", "x86_64")
	tests := []struct {
		name   string
		file   string // a fixture under testdata/uvlock, or
		text   string // the lock's text
		req    *LockRequest
		want   string // the error's text starts with this
		substr string
	}{
		{name: "missing package", file: "missing/uv.lock", want: "missing/uv.lock:11: ", substr: "depends on requests, which the lock does not have"},
		{name: "bad TOML", file: "badtoml/uv.lock", want: "badtoml/uv.lock:20: ", substr: "invalid TOML"},
		{name: "type mismatch", text: "version = 1\n\n[[package]]\nname = 3\n", want: "uv.lock:4: "},
		{name: "no version", text: "revision = 1\n", want: "uv.lock: ", substr: "no version"},
		{name: "future version", text: "version = 2\nrevision = 1\n", want: "uv.lock:1: ", substr: "unsupported uv.lock version 2"},
		{name: "bad requires-python", text: "version = 1\nrequires-python = \">=three\"\n", want: "uv.lock:2: ", substr: "requires-python"},
		{name: "bad member name", text: "version = 1\n[manifest]\nmembers = [\n  \"ok\",\n  \"not ok\",\n]\n", want: "uv.lock:5: "},
		{name: "ambiguous dependency", text: app(`    { name = "six" },`), want: "uv.lock:10: ", substr: "matches several packages (1.17.0, 1.16.0)"},
		{name: "version not locked", text: app(`    { name = "six", version = "1.15.0" },`), want: "uv.lock:10: ", substr: "depends on six 1.15.0, which the lock does not have"},
		{name: "bad marker", text: app(`    { name = "six", version = "1.17.0", marker = "python_version >> '3'" },`), want: "uv.lock:10: ", substr: "invalid marker"},
		{name: "bad extra", text: app(`    { name = "six", version = "1.17.0", extra = ["a b"] },`), want: "uv.lock:10: ", substr: `bad extra name "a b"`},
		{name: "bad dependency name", text: app(`    { name = "-six" },`), want: "uv.lock:10: ", substr: `bad dependency name "-six"`},
		{name: "no source", text: "version = 1\n\n[[package]]\nname = \"six\"\nversion = \"1\"\n", want: "uv.lock:4: ", substr: "no source"},
		{name: "registry without version", text: "version = 1\n\n[[package]]\nname = \"six\"\nsource = { registry = \"https://index.example.invalid/simple\" }\n", want: "uv.lock:4: ", substr: "no version"},
		{name: "bad git source", text: "version = 1\n\n[[package]]\nname = \"six\"\nsource = { git = \"::nope\" }\n", want: "uv.lock:5: ", substr: "bad git source"},
		{
			name: "bad optional-dependencies", want: "uv.lock:15: ", substr: "depends on nothing",
			text: uvTestHeader + "\n[[package]]\nname = \"app\"\nsource = { virtual = \".\" }\n\n[package.optional-dependencies]\nb = []\na = [\n  { name = \"six\" },\n]\nc = [\n  { name = \"nothing\" },\n]\n\n[[package]]\nname = \"six\"\nversion = \"1\"\nsource = { registry = \"r\" }\n",
		},
		{name: "member without package", text: "version = 1\n[manifest]\nmembers = [\"app\"]\n", req: &LockRequest{Project: "app", Env: py312}, want: "uv.lock: ", substr: `member "app" has no package entry`},
		{name: "not a member", file: "forked/uv.lock", req: &LockRequest{Project: "numpy", Env: py312}, want: "forked/uv.lock: ", substr: `"numpy" is not a member`},
		{name: "unknown extra", text: app(`    { name = "six", version = "1.17.0" },`), req: &LockRequest{Project: "app", Extras: []string{"fast"}, Env: py312}, want: "uv.lock:5: ", substr: `app has no extra "fast"`},
		{name: "unknown group", text: app(`    { name = "six", version = "1.17.0" },`), req: &LockRequest{Project: "app", Groups: []string{"dev"}, Env: py312}, want: "uv.lock:5: ", substr: `app has no dependency group "dev"`},
		{name: "python too old", text: app(`    { name = "six", version = "1.17.0" },`), req: &LockRequest{Project: "app", Env: uvTestEnv(t, "python3.9", "x86_64")}, want: "uv.lock:3: ", substr: "requires-python >=3.10 excludes the target's Python 3.9.23"},
		{
			name: "two versions selected", want: "uv.lock:19: ", substr: "two versions of six",
			text: app("    { name = \"six\", version = \"1.17.0\" },\n    { name = \"six\", version = \"1.16.0\" },"),
			req:  &LockRequest{Project: "app", Env: py312},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				lock *UVLock
				err  error
			)
			if tt.file != "" {
				lock, err = ParseUVLock("testdata/uvlock", tt.file)
			} else {
				lock, err = parseUVLock("/repo", "uv.lock", []byte(tt.text))
			}
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

// TestUVLockConcurrentClosures backs Closure's promise of concurrent use
// (walks are pooled); run it with -race.
func TestUVLockConcurrentClosures(t *testing.T) {
	lock, err := parseUVLock("/repo", "uv.lock", uvGenLock(40, 200))
	if err != nil {
		t.Fatal(err)
	}
	env := uvTestEnv(t, "python3.12", "arm64")
	closures := func() [][]string {
		var out [][]string
		for _, m := range lock.Members() {
			got, err := lock.Closure(LockRequest{Project: m, Extras: []string{"tracing"}, Env: env})
			if err != nil {
				t.Error(err)
			}
			out = append(out, uvTestSummary(got))
		}
		return out
	}
	want := closures()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got := closures(); !slices.EqualFunc(got, want, slices.Equal) {
				t.Error("closures differ when computed concurrently")
			}
		})
	}
	wg.Wait()
}

func TestUVLockReadError(t *testing.T) {
	_, err := ParseUVLock(t.TempDir(), "uv.lock")
	if err == nil || diag.IsInput(err) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v: want a plain not-exist error", err)
	}
}

// uvTestTrim drops a lock's artifact lines: mutating them finds nothing
// the rest of the file does not, and a smaller seed fuzzes faster.
func uvTestTrim(data []byte) []byte {
	var out []byte
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(line, "    { url = ") && !strings.HasPrefix(line, "sdist = ") {
			out = append(out, line...)
		}
	}
	return out
}

// FuzzUVLock feeds arbitrary text to the parser and asks every member's
// closure: no panics, only *diag.Error failures, sorted results.
func FuzzUVLock(f *testing.F) {
	for _, name := range []string{"workspace/uv.lock", "forked/uv.lock", "conflicts/uv.lock", "missing/uv.lock", "badtoml/uv.lock"} {
		data, err := os.ReadFile(filepath.Join("testdata/uvlock", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uvTestTrim(data))
	}
	env, err := pep508.TargetEnv("python3.12", "arm64")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lock, err := parseUVLock("/repo", "functions/uv.lock", data)
		if err != nil {
			if !diag.IsInput(err) {
				t.Fatalf("%v is not a *diag.Error", err)
			}
			return
		}
		for _, m := range lock.Members() {
			// Ask for what the member declares: unknown extras and groups
			// end on the error path, tested elsewhere.
			everything := LockRequest{Project: m, Env: env}
			if i, err := lock.member(m); err == nil {
				everything.Extras = slices.Sorted(maps.Keys(lock.pkgs[i].optional))
				everything.Groups = slices.Sorted(maps.Keys(lock.pkgs[i].dev))
			}
			for _, req := range []LockRequest{{Project: m, Env: env}, everything} {
				got, err := lock.Closure(req)
				if err != nil {
					if !diag.IsInput(err) {
						t.Fatalf("%v is not a *diag.Error", err)
					}
					continue
				}
				if !slices.IsSortedFunc(got, func(a, b Package) int { return strings.Compare(a.Name, b.Name) }) {
					t.Fatalf("closure of %s not sorted", m)
				}
			}
		}
	})
}

// TestUVLockVirtualProject checks a project uv does not install (no build
// system: virtual) stays out of its own closure: it is the function's
// code alone.
func TestUVLockVirtualProject(t *testing.T) {
	lock, err := parseUVLock(t.TempDir(), "uv.lock", []byte(`version = 1
requires-python = ">=3.11"

[[package]]
name = "api"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "six" }]

[[package]]
name = "six"
version = "1.16.0"
source = { registry = "https://index.example.invalid/simple" }
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := lock.Closure(LockRequest{Project: "api", Env: uvTestEnv(t, "python3.12", "x86_64")})
	if err != nil {
		t.Fatal(err)
	}
	if s := uvTestSummary(got); !slices.Equal(s, []string{"six==1.16.0"}) {
		t.Errorf("closure %q, want six alone", s)
	}
}
