package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/layers-dev/layers/internal/diag"
)

func ptr[T any](v T) *T { return &v }

func TestDefault(t *testing.T) {
	c := Default("repo")
	want := &Config{
		Root:          "repo",
		Runtime:       "python3.12",
		Architectures: []string{"x86_64"},
		Limits:        Limits{LayersPerFunction: 5, ReservedLayers: 1, FunctionUnzippedBytes: 262144000},
		Layers:        Layers{PlanFile: ".layers/plan.json"},
		Build:         Build{Installer: "uv"},
		Prune:         Prune{Bytecode: "compile"},
		Publish:       Publish{InlineMaxBytes: 50_000_000, Outputs: ".layers/outputs.json"},
		Cache:         Cache{Write: true},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Default = %+v\nwant %+v", c, want)
	}
	if !slices.Contains(Runtimes, DefaultRuntime) {
		t.Errorf("DefaultRuntime %q not in Runtimes", DefaultRuntime)
	}
}

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("testdata/full.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path:          "testdata/full.toml",
		Root:          "testdata",
		Runtime:       "python3.11",
		Architectures: []string{"arm64", "x86_64"},
		Functions:     []string{"services/*/lambda", "jobs/**/handler"},
		Exclude:       []string{"boto3", "botocore", "typing-extensions", "foo-bar"},
		Function: map[string]Function{
			"orders": {
				Runtime:       "python3.13",
				Architectures: []string{"arm64"},
				Requirements:  "requirements/prod.txt",
				Extras:        []string{"aws", "fast-json"},
				Groups:        []string{"prod"},
				Package:       "image",
				Handler:       "orders.api/app.handler",
				Source:        []string{"src/**/*.py", "templates/*"},
				Bytecode:      "strip",
			},
			"billing.v2": {Package: "layers", Handler: "main.lambda_handler"},
		},
		Limits: Limits{LayersPerFunction: 4, ReservedLayers: 1, FunctionUnzippedBytes: 200000000},
		Layers: Layers{
			Prefix:   "acme-prod_",
			MaxExtra: ptr(0.25),
			Groups: map[string][]string{
				"data": {"numpy", "pandas"},
				"aws":  {"aws-lambda-powertools", "aws-xray-sdk"},
			},
			LocalInCode: true,
			PlanFile:    "deploy/layers-plan.json",
		},
		Build: Build{Installer: "uv"},
		Prune: Prune{Bytecode: "compile"},
		Publish: Publish{
			Region: "eu-west-1", Profile: "ci", S3Bucket: "acme-artifacts", S3Prefix: "layers/",
			InlineMaxBytes: 10_000_000, ShareWith: []string{"123456789012", "o-abcdef1234"},
			LicenseInfo: "MIT", Outputs: "deploy/layers.json",
		},
		Image: Image{
			Base: "registry.example.invalid/lambda/python:3.11", Repository: "acme/functions",
			ScanOnPush: true, TagImmutability: true, Registry: "127.0.0.1:5000",
		},
		Verify: Verify{Image: "registry.example.invalid/lambda/python:3.11"},
		Cache:  Cache{URL: "s3://acme-cache/layers", Write: false},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse(full.toml) =\n%+v\nwant\n%+v", c, want)
	}
}

// TestParseKeys sets one key at a time and checks where it lands; every
// other field must keep its default.
func TestParseKeys(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		edit func(c *Config) // turns Default into the expected config
	}{
		{"empty file", ``, func(c *Config) {}},
		{"comments only", "# nothing\n\n", func(c *Config) {}},
		{"runtime", `runtime = "python3.9"`, func(c *Config) { c.Runtime = "python3.9" }},
		{"runtime newest", `runtime = "python3.14"`, func(c *Config) { c.Runtime = "python3.14" }},
		{"architectures arm64", `architectures = ["arm64"]`, func(c *Config) { c.Architectures = []string{"arm64"} }},
		{"architectures both", `architectures = ["arm64", "x86_64"]`, func(c *Config) { c.Architectures = []string{"arm64", "x86_64"} }},
		{"functions", `functions = ["functions/*", "src/**/lambda_*"]`, func(c *Config) { c.Functions = []string{"functions/*", "src/**/lambda_*"} }},
		{"functions empty", `functions = []`, func(c *Config) { c.Functions = []string{} }},
		{"exclude normalised", `exclude = ["Django", "zope.interface", "a__b--c"]`, func(c *Config) { c.Exclude = []string{"django", "zope-interface", "a-b-c"} }},
		{"function override", "[function.api]\nruntime = \"python3.10\"", func(c *Config) {
			c.Function = map[string]Function{"api": {Runtime: "python3.10"}}
		}},
		{"function dotted key", `function.api.architectures = ["arm64"]`, func(c *Config) {
			c.Function = map[string]Function{"api": {Architectures: []string{"arm64"}}}
		}},
		{"function inline table", `function = { api = { extras = ["S3"], groups = ["dev_tools"] } }`, func(c *Config) {
			c.Function = map[string]Function{"api": {Extras: []string{"s3"}, Groups: []string{"dev-tools"}}}
		}},
		{"function requirements", "[function.api]\nrequirements = \"../shared/requirements.txt\"", func(c *Config) {
			c.Function = map[string]Function{"api": {Requirements: "../shared/requirements.txt"}}
		}},
		{"function package image", "[function.api]\npackage = \"image\"\nhandler = \"app.handler\"\nsource = [\"**/*.py\"]", func(c *Config) {
			c.Function = map[string]Function{"api": {Package: "image", Handler: "app.handler", Source: []string{"**/*.py"}}}
		}},
		{"function empty table", "[function.api]", func(c *Config) { c.Function = map[string]Function{"api": {}} }},
		{"limits", "[limits]\nlayers_per_function = 1\nreserved_layers = 0\nfunction_unzipped_bytes = 1", func(c *Config) {
			c.Limits = Limits{LayersPerFunction: 1, FunctionUnzippedBytes: 1}
		}},
		{"limits reserved", "[limits]\nreserved_layers = 4", func(c *Config) { c.Limits.ReservedLayers = 4 }},
		{"layers prefix", "[layers]\nprefix = \"" + strings.Repeat("a", 64) + "\"", func(c *Config) { c.Layers.Prefix = strings.Repeat("a", 64) }},
		{"layers max_extra 0", "[layers]\nmax_extra = 0", func(c *Config) { c.Layers.MaxExtra = ptr(0.0) }},
		{"layers max_extra 1", "[layers]\nmax_extra = 1", func(c *Config) { c.Layers.MaxExtra = ptr(1.0) }},
		{"layers max_extra float", "[layers]\nmax_extra = 0.5", func(c *Config) { c.Layers.MaxExtra = ptr(0.5) }},
		{"layers local_in_code", "[layers]\nlocal_in_code = true", func(c *Config) { c.Layers.LocalInCode = true }},
		{"layers groups", "[layers.groups]\nsci = [\"SciPy\", \"numpy\"]\nweb = [\"Flask\"]", func(c *Config) {
			c.Layers.Groups = map[string][]string{"sci": {"scipy", "numpy"}, "web": {"flask"}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("layers.toml", []byte(tc.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default(".")
			want.Path = "layers.toml"
			tc.edit(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q) =\n%+v\nwant\n%+v", tc.doc, got, want)
			}
		})
	}
}

func TestFor(t *testing.T) {
	doc := `
runtime = "python3.11"
architectures = ["x86_64", "arm64"]
handler = "app.handler"

[function.api]
runtime = "python3.13"

[function.worker]
architectures = ["arm64"]
package = "image"
bytecode = "strip"
handler = "worker.main"
`
	c, err := Parse("layers.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		want Function
	}{
		{"api", Function{Runtime: "python3.13", Architectures: []string{"x86_64", "arm64"}, Package: "layers", Bytecode: "compile", Handler: "app.handler"}},
		{"worker", Function{Runtime: "python3.11", Architectures: []string{"arm64"}, Package: "image", Bytecode: "strip", Handler: "worker.main"}},
		{"plain", Function{Runtime: "python3.11", Architectures: []string{"x86_64", "arm64"}, Package: "layers", Bytecode: "compile", Handler: "app.handler"}},
	}
	for _, tc := range cases {
		if got := c.For(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("For(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
	}

	// For must not hand out the config's own slices.
	f := c.For("plain")
	f.Architectures[0] = "changed"
	if c.Architectures[0] != "x86_64" {
		t.Errorf("For shares Architectures with the config")
	}

	targets := map[string][]string{
		"api":    {"python3.13/x86_64", "python3.13/arm64"},
		"worker": {"python3.11/arm64"},
		"plain":  {"python3.11/x86_64", "python3.11/arm64"},
	}
	for name, want := range targets {
		var got []string
		for _, tg := range c.TargetsFor(name) {
			got = append(got, tg.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("TargetsFor(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestTarget(t *testing.T) {
	cases := []struct {
		t                               Target
		str, version, platform, machine string
	}{
		{Target{"python3.12", "x86_64"}, "python3.12/x86_64", "3.12", "linux/amd64", "x86_64"},
		{Target{"python3.9", "arm64"}, "python3.9/arm64", "3.9", "linux/arm64", "aarch64"},
		{Target{"python3.14", "arm64"}, "python3.14/arm64", "3.14", "linux/arm64", "aarch64"},
		{Target{"python3.12", "mips"}, "python3.12/mips", "3.12", "", ""},
	}
	for _, tc := range cases {
		if got := tc.t.String(); got != tc.str {
			t.Errorf("%#v.String() = %q, want %q", tc.t, got, tc.str)
		}
		if got := tc.t.PythonVersion(); got != tc.version {
			t.Errorf("%#v.PythonVersion() = %q, want %q", tc.t, got, tc.version)
		}
		if got := tc.t.Platform(); got != tc.platform {
			t.Errorf("%#v.Platform() = %q, want %q", tc.t, got, tc.platform)
		}
		if got := tc.t.Machine(); got != tc.machine {
			t.Errorf("%#v.Machine() = %q, want %q", tc.t, got, tc.machine)
		}
	}
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{"python3.11", "x86_64"}, "public.ecr.aws/lambda/python:3.11"},
		{Target{"python3.12", "arm64"}, "public.ecr.aws/lambda/python:3.12-arm64"},
	} {
		if got := tc.t.LambdaImage(); got != tc.want {
			t.Errorf("%#v.LambdaImage() = %q, want %q", tc.t, got, tc.want)
		}
	}
	// Every supported architecture must have a platform and a machine.
	for _, a := range Architectures {
		if tg := (Target{DefaultRuntime, a}); tg.Platform() == "" || tg.Machine() == "" {
			t.Errorf("architecture %q has no platform or machine", a)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("no file gives defaults", func(t *testing.T) {
		c, err := Load(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, Default(dir)) || c.Path != "" {
			t.Errorf("Load without layers.toml = %+v, want Default", c)
		}
	})

	t.Run("root layers.toml", func(t *testing.T) {
		p := write("layers.toml", `runtime = "python3.13"`)
		defer os.Remove(p)
		c, err := Load(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.Path != p || c.Root != dir || c.Runtime != "python3.13" {
			t.Errorf("Load = Path %q Root %q Runtime %q", c.Path, c.Root, c.Runtime)
		}
	})

	t.Run("explicit file", func(t *testing.T) {
		p := write("ci/prod.toml", `architectures = ["arm64"]`)
		c, err := Load(dir, p)
		if err != nil {
			t.Fatal(err)
		}
		if c.Path != p || c.Root != filepath.Dir(p) || c.Architectures[0] != "arm64" {
			t.Errorf("Load = Path %q Root %q Architectures %v", c.Path, c.Root, c.Architectures)
		}
	})

	t.Run("explicit file must exist", func(t *testing.T) {
		p := filepath.Join(dir, "missing.toml")
		_, err := Load(dir, p)
		if !diag.IsInput(err) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Load(missing) = %v, want an input error wrapping fs.ErrNotExist", err)
		}
		if want := p + ": config file does not exist"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	})

	t.Run("relative path in messages", func(t *testing.T) {
		write("rel/layers.toml", "\nruntime = \"python2.7\"\n")
		t.Chdir(dir)
		_, err := Load("rel", "")
		want := `rel/layers.toml:2: runtime: unsupported runtime "python2.7"`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Load = %v, want %s...", err, want)
		}
	})

	t.Run("unreadable config is not an input error", func(t *testing.T) {
		p := filepath.Join(dir, "adir")
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir, p)
		if err == nil || diag.IsInput(err) || !strings.HasPrefix(err.Error(), "read config: ") {
			t.Errorf("Load(a folder) = %v, want a plain read error", err)
		}
	})
}

// A UTF-8 byte order mark, which some editors write, is accepted.
func TestParseByteOrderMark(t *testing.T) {
	c, err := Parse("layers.toml", []byte("\ufeffruntime = \"python3.13\"\n"))
	if err != nil || c.Runtime != "python3.13" {
		t.Fatalf("Parse with a BOM = %+v, %v", c, err)
	}
}

// TestLoadBounded: a named pipe or an oversized layers.toml is refused at
// once, naming it, instead of hanging or filling the memory.
func TestLoadBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, make([]byte, 9<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		fifo: fifo + ": a named pipe, not a regular file: layers reads only regular files",
		big:  big + ": larger than 8 MiB: layers reads input files up to that size",
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(dir, file); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want || !diag.IsInput(err) {
				t.Errorf("Load(%s) = %v, want %q", file, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Load(%s) hangs", file)
		}
	}
}

// TestReservedLayersDefault checks one layer slot is kept free for an
// extension unless the file says otherwise, and that the default reserve
// never makes a smaller layers_per_function invalid.
func TestReservedLayersDefault(t *testing.T) {
	for _, c := range []struct {
		limits string
		want   int
	}{
		{"", 1},
		{"[limits]\nlayers_per_function = 3\n", 1},
		{"[limits]\nlayers_per_function = 1\n", 0},
		{"[limits]\nreserved_layers = 0\n", 0},
		{"[limits]\nreserved_layers = 2\n", 2},
	} {
		cfg, err := Parse("layers.toml", []byte("runtime = \"python3.12\"\n"+c.limits))
		if err != nil {
			t.Errorf("%q: %v", c.limits, err)
			continue
		}
		if got := cfg.Limits.ReservedLayers; got != c.want {
			t.Errorf("%q: reserved_layers = %d, want %d", c.limits, got, c.want)
		}
	}
}
