package resolver

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
)

// poetryRequest builds the request the resolver makes for a pyproject: its
// dependencies plus those of the extras and groups asked for.
func poetryRequest(t testing.TB, p *Pyproject, runtime, arch string, extras, groups []string) LockRequest {
	t.Helper()
	env, err := pep508.TargetEnv(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	req := LockRequest{Project: p.Name, Extras: extras, Groups: groups, Env: env}
	req.Roots = append(req.Roots, p.Dependencies...)
	for _, x := range extras {
		req.Roots = append(req.Roots, p.Optional[x]...)
	}
	for _, g := range groups {
		req.Roots = append(req.Roots, p.Groups[g]...)
	}
	return req
}

func poetryClosure(t *testing.T, root, dir, runtime, arch string, extras, groups []string) []Package {
	t.Helper()
	p, err := ParsePyproject(root, path.Join(dir, "pyproject.toml"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParsePoetryLock(root, path.Join(dir, "poetry.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Path() != path.Join(dir, "poetry.lock") {
		t.Errorf("Path() = %q", l.Path())
	}
	pkgs, err := l.Closure(poetryRequest(t, p, runtime, arch, extras, groups))
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestPoetryLockClosure checks closures of locks written by Poetry itself
// against `poetry export` of the same locks (testdata/poetry/closures).
func TestPoetryLockClosure(t *testing.T) {
	cases := []struct {
		dir, golden     string
		runtime         string
		extras, groups  []string
		lockVersionNote string
	}{
		{"functions/orders", "orders.txt", "python3.12", nil, nil, "2.1"},
		{"functions/orders", "orders-excel-dev.txt", "python3.12", []string{"excel"}, []string{"dev"}, "2.1"},
		{"functions/billing", "billing.txt", "python3.12", nil, nil, "2.0"},
		{"functions/billing", "billing-payments-py311.txt", "python3.11", []string{"payments"}, nil, "2.0"},
		{"functions/reports", "reports-dev.txt", "python3.12", nil, []string{"dev"}, "1.1"},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			pkgs := poetryClosure(t, "testdata/poetry/monorepo", c.dir, c.runtime, "arm64", c.extras, c.groups)
			var got []string
			for _, p := range pkgs {
				got = append(got, p.Name+" "+p.Version)
			}
			want := readGolden(t, "testdata/poetry/closures/"+c.golden)
			if !slices.Equal(got, want) {
				t.Errorf("lock %s closure differs from poetry export:\ngot  %v\nwant %v", c.lockVersionNote, got, want)
			}
			for _, p := range pkgs {
				if p.Source == SourceRegistry && (len(p.Hashes) == 0 || len(p.Wheels) == 0) {
					t.Errorf("%s has no hashes or wheels", p.Name)
				}
				for _, h := range p.Hashes {
					if !strings.HasPrefix(h, "sha256:") {
						t.Errorf("%s: hash %q", p.Name, h)
					}
				}
			}
		})
	}
}

func readGolden(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for s := bufio.NewScanner(f); s.Scan(); {
		if line := s.Text(); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func TestPoetryLockSources(t *testing.T) {
	byName := func(pkgs []Package) map[string]Package {
		m := map[string]Package{}
		for _, p := range pkgs {
			m[p.Name] = p
		}
		return m
	}
	billing := byName(poetryClosure(t, "testdata/poetry/monorepo", "functions/billing", "python3.12", "x86_64", []string{"payments"}, nil))
	features := byName(poetryClosure(t, "testdata/poetry/features", "svc", "python3.12", "arm64", nil, nil))
	cases := []struct {
		got  Package
		want Package
	}{
		{billing["shared-models"], Package{Name: "shared-models", Version: "0.2.0", Source: SourceLocal, Path: "libs/shared-models"}},
		{billing["stripe"], Package{Name: "stripe", Version: "11.6.1", Source: SourceRegistry, URL: "https://index.example.invalid/simple", Sdist: true}},
		{features["app-lib"], Package{Name: "app-lib", Version: "1.0.0", Source: SourceLocal, Path: "libs/app-lib"}},
		{features["vendored"], Package{Name: "vendored", Version: "0.3.0", Source: SourceLocal, Path: "vendor/vendored-0.3.0-py3-none-any.whl"}},
		{features["signing"], Package{Name: "signing", Version: "1.4.0", Source: SourceURL, URL: "git+https://git.example.invalid/payments/signing.git@5d3c2b1a0f9e8d7c6b5a49382716f5e4d3c2b1a0"}},
		{features["codec"], Package{Name: "codec", Version: "1.0", Source: SourceURL, URL: "https://files.example.invalid/codec-1.0.tar.gz", Sdist: true}},
	}
	for _, c := range cases {
		g := c.got
		g.Hashes, g.Wheels, g.Pin = nil, nil, Pin{}
		if fmt.Sprint(g) != fmt.Sprint(c.want) {
			t.Errorf("got  %+v\nwant %+v", g, c.want)
		}
	}
	n := features["numpy"]
	if n.Version != "2.1.3" || len(n.Hashes) != 3 || len(n.Wheels) != 2 ||
		n.Wheels[0] != (Wheel{Filename: "numpy-2.1.3-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", Hash: "sha256:13138eadd4f4da03074851a698ffa7e405f41a0845a6b1ad135b81596e4e9958"}) {
		t.Errorf("numpy: %+v", n)
	}
	// Lock 1.1 keeps files under [metadata.files].
	reports := byName(poetryClosure(t, "testdata/poetry/monorepo", "functions/reports", "python3.12", "x86_64", nil, nil))
	if r := reports["requests"]; len(r.Hashes) != 2 || len(r.Wheels) != 1 || r.Wheels[0].Filename != "requests-2.34.2-py3-none-any.whl" {
		t.Errorf("requests from a 1.1 lock: %+v", r)
	}
}

// TestPoetryLockSelection covers lock 2.1's package markers (plain, per
// group, on the project's extras), groups, duplicate versions, optional
// dependencies selected by extras, and list-form dependencies.
func TestPoetryLockSelection(t *testing.T) {
	cases := []struct {
		runtime, arch  string
		extras, groups []string
		want           string
	}{
		{"python3.12", "arm64", nil, nil,
			// colorama: click wants it on aarch64, but the lock keeps it for main only on Windows.
			"app-lib click codec numpy==2.1.3 pysocks requests signing urllib3 vendored"},
		{"python3.11", "x86_64", nil, nil,
			"app-lib click codec numpy==1.26.4 pysocks requests signing urllib3 vendored"},
		{"python3.12", "arm64", []string{"aws"}, []string{"dev"},
			"app-lib boto3 click codec colorama iniconfig numpy==2.1.3 pysocks pytest requests signing urllib3 vendored"},
		{"python3.12", "x86_64", []string{"aws"}, []string{"dev"},
			"app-lib boto3 click codec iniconfig numpy==2.1.3 pysocks pytest requests signing urllib3 vendored"},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s-%s-%v-%v", c.runtime, c.arch, c.extras, c.groups)
		t.Run(name, func(t *testing.T) {
			pkgs := poetryClosure(t, "testdata/poetry/features", "svc", c.runtime, c.arch, c.extras, c.groups)
			var got []string
			for _, p := range pkgs {
				s := p.Name
				if p.Name == "numpy" {
					s += "==" + p.Version
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), c.want)
			}
		})
	}
}

func TestPoetryLockOutOfDate(t *testing.T) {
	lock, err := os.ReadFile("testdata/poetry/features/svc/poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, pyproject string
		lock            func(string) string
		want            string
	}{
		{"root missing from the lock", `[project]
name = "svc"
dependencies = [
    "click",
    "flask>=3",
]
`, nil, "svc/pyproject.toml:5: flask is not in svc/poetry.lock: the lock is out of date (run poetry lock)"},
		{"root version excluded", `[project]
name = "svc"
dependencies = [
    "click>=8.2",
]
`, nil, "svc/pyproject.toml:4: svc/poetry.lock is out of date: the pyproject asks for click>=8.2, it locks click 8.1.7 (run poetry lock)"},
		{"path dependency locked from the index", `[project]
name = "svc"
dependencies = ["requests @ file:../libs/requests"]
`, nil, "svc/pyproject.toml:3: svc/poetry.lock is out of date: the pyproject asks for requests @ file:../libs/requests, it locks requests 2.32.3 (run poetry lock)"},
		{"dependency missing from the lock", `[project]
name = "svc"
dependencies = ["requests"]
`, func(l string) string {
			return strings.Replace(l, "urllib3 = \">=1.21.1,<3\"", "urllib3 = \">=1.21.1,<3\"\nidna = \">=2.5,<4\"", 1)
		}, "svc/poetry.lock:163: requests 2.32.3 needs idna, which is not in the lock: the lock is out of date (run poetry lock)"},
		{"list-form dependency missing from the lock", `[project]
name = "svc"
dependencies = ["app-lib"]
[tool.poetry.dependencies]
app-lib = { path = "../libs/app-lib" }
`, func(l string) string {
			return strings.ReplaceAll(l, "name = \"numpy\"", "name = \"numpy-legacy\"")
		}, "svc/poetry.lock:16: app-lib 1.0.0 needs numpy, which is not in the lock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := parsePyproject("testdata/poetry/features", "svc/pyproject.toml", []byte(c.pyproject))
			if err != nil {
				t.Fatal(err)
			}
			data := string(lock)
			if c.lock != nil {
				data = c.lock(data)
			}
			l, err := parsePoetryLock("testdata/poetry/features", "svc/poetry.lock", []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Closure(poetryRequest(t, p, "python3.12", "x86_64", nil, nil))
			var d *diag.Error
			if !errors.As(err, &d) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestParsePoetryLockErrors(t *testing.T) {
	pkg := "[[package]]\nname = \"requests\"\nversion = \"2.32.3\"\n"
	cases := []struct{ name, doc, want string }{
		{"toml syntax", pkg + "files = [\n  {file = \"a.whl\", hash = \"sha256:00\"\n]\n", "poetry.lock:6: invalid TOML"},
		{"wrong type", pkg + "files = \"requests.whl\"\n", "poetry.lock:4: package.files has the wrong type (a TOML string)"},
		{"unsupported lock-version", pkg + "\n[metadata]\nlock-version = \"3.0\"\n", `poetry.lock:6: unsupported lock-version "3.0"`},
		{"bad name", "[[package]]\nname = \"\"\nversion = \"1.0\"\n", `poetry.lock:2: package 1: "" is not a valid project name`},
		{"bad version", pkg + pkg[:len(pkg)-len("version = \"2.32.3\"\n")] + "version = \"two\"\n", `poetry.lock:6: requests: invalid version "two"`},
		{"bad package marker", pkg + "markers = \"python_version >> '3'\"\n", "poetry.lock:4: requests: invalid marker"},
		{"bad group marker", pkg + "markers = {main = \"os_name == 'posix'\", dev = 3}\n", "poetry.lock:4: requests: markers.dev must be a string, found an integer"},
		{"bad markers type", pkg + "markers = [\"os_name == 'posix'\"]\n", "poetry.lock:4: requests: markers must be a string or a table of strings, found an array"},
		{"bad source type", pkg + "\n[package.source]\ntype = \"hg\"\nurl = \"https://hg.example.invalid/requests\"\n", `poetry.lock:6: requests: unknown source type "hg"`},
		{"source outside the repository", pkg + "\n[package.source]\ntype = \"directory\"\nurl = \"../../requests\"\n", `poetry.lock:7: requests: source url "../../requests": ../../requests is outside the repository`},
		{"bad dependency value", pkg + "\n[package.dependencies]\nurllib3 = 3\n", "poetry.lock:6: requests: dependency urllib3: expected a version constraint, a table or a list of tables, found an integer"},
		{"bad dependency marker", pkg + "\n[package.dependencies]\nurllib3 = [\n  {version = \">=1\", markers = \"os_name = 'nt'\"},\n]\n", "poetry.lock:6: requests: dependency urllib3: invalid marker"},
		{"bad dependency name", pkg + "\n[package.dependencies]\n\"-x\" = \"*\"\n", `poetry.lock:6: requests: dependency "-x" is not a valid project name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parsePoetryLock(".", "poetry.lock", []byte(c.doc))
			var d *diag.Error
			if !errors.As(err, &d) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %v\nwant %s…", err, c.want)
			}
		})
	}
}

func FuzzPoetryLock(f *testing.F) {
	for _, p := range []string{
		"testdata/poetry/features/svc/poetry.lock",
		"testdata/poetry/monorepo/functions/reports/poetry.lock",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	env, err := pep508.TargetEnv("python3.12", "arm64")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parsePoetryLock("/repo", "svc/poetry.lock", data)
		if err != nil {
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("not a *diag.Error: %v", err)
			}
			return
		}
		// Ask for every package the lock has, with the extras it declares.
		req := LockRequest{Env: env, Extras: []string{"aws"}, Groups: []string{"dev"}}
		for i, p := range l.pkgs {
			r := Requirement{Path: "svc/pyproject.toml", Line: i + 1}
			r.Name = p.Name
			r.Extras = pyprojectSortedKeys(p.extras)
			req.Roots = append(req.Roots, r)
		}
		pkgs, err := l.Closure(req)
		if err != nil {
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("not a *diag.Error: %v", err)
			}
			return
		}
		for i := 1; i < len(pkgs); i++ {
			if pkgs[i-1].Name >= pkgs[i].Name {
				t.Fatalf("closure not sorted or not unique: %s, %s", pkgs[i-1].Name, pkgs[i].Name)
			}
		}
	})
}

func BenchmarkPoetryLock(b *testing.B) {
	const root, dir = "testdata/poetry/monorepo", "functions/orders"
	data, err := os.ReadFile(path.Join(root, dir, "poetry.lock"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := parsePoetryLock(root, path.Join(dir, "poetry.lock"), data); err != nil {
				b.Fatal(err)
			}
		}
	})
	l, err := parsePoetryLock(root, path.Join(dir, "poetry.lock"), data)
	if err != nil {
		b.Fatal(err)
	}
	p, err := ParsePyproject(root, path.Join(dir, "pyproject.toml"))
	if err != nil {
		b.Fatal(err)
	}
	req := poetryRequest(b, p, "python3.12", "arm64", []string{"excel"}, []string{"dev"})
	b.Run("closure", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.Closure(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
