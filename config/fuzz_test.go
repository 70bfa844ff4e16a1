package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/layers-dev/layers/internal/diag"
)

// FuzzParse: Parse never panics, fails only with a *diag.Error at the given
// path, and whatever it accepts holds only valid, normalised values.
// Seeds: testdata/fuzz/FuzzParse plus the files under testdata.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	more, _ := filepath.Glob("testdata/invalid/*.toml")
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range starterCases {
		f.Add(uncomment(Starter(tc.in)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("layers.toml", data)
		if err != nil {
			var d *diag.Error
			if !errors.As(err, &d) || d.Path != "layers.toml" || c != nil {
				t.Fatalf("Parse error %T %v (config %v), want only a *diag.Error at layers.toml", err, err, c)
			}
			return
		}
		if !slices.Contains(Runtimes, c.Runtime) || c.Limits.LayersPerFunction < 1 ||
			c.Limits.ReservedLayers >= c.Limits.LayersPerFunction || c.Limits.FunctionUnzippedBytes <= 0 {
			t.Fatalf("accepted invalid globals: %+v", c)
		}
		if m := c.Layers.MaxExtra; m != nil && !(*m >= 0 && *m <= 1) {
			t.Fatalf("accepted max_extra %v", *m)
		}
		for arch, addrs := range c.Build.EnginesByArch {
			if !slices.Contains(Architectures, arch) || len(addrs) == 0 {
				t.Fatalf("accepted engines %v for architecture %q", addrs, arch)
			}
			for _, a := range addrs {
				if engineAddressProblem(a.Address) != "" || a.Line < 1 {
					t.Fatalf("accepted engine address %+v", a)
				}
			}
		}
		for _, d := range c.Exclude {
			if n, ok := normalize(d); !ok || n != d {
				t.Fatalf("exclude holds %q, not a normalised name", d)
			}
		}
		for name := range c.Function {
			targets := c.TargetsFor(name)
			if len(targets) == 0 {
				t.Fatalf("function %q has no targets", name)
			}
			for _, tg := range targets {
				if !slices.Contains(Runtimes, tg.Runtime) || tg.Platform() == "" || tg.Machine() == "" {
					t.Fatalf("function %q has target %+v", name, tg)
				}
			}
		}
	})
}

// FuzzStarter: whatever init found, the starter file parses back to it.
func FuzzStarter(f *testing.F) {
	f.Add(uint8(3), false, true, "functions/*", "functions/a")
	f.Add(uint8(0), true, false, "", "new\nline\x00")
	f.Fuzz(func(t *testing.T, runtime uint8, arm, workspace bool, glob, discovered string) {
		in := StarterInput{
			Runtime:       Runtimes[int(runtime)%len(Runtimes)],
			Architectures: []string{"x86_64"},
			Workspace:     workspace,
			Discovered:    []string{discovered},
		}
		if arm {
			in.Architectures = []string{"arm64"}
		}
		// Only globs that layers.toml accepts (and that are text) round-trip.
		if glob != "" && utf8.ValidString(glob) && doublestar.ValidatePattern(glob) && !strings.HasPrefix(glob, "/") {
			in.Functions = []string{glob}
		}
		data := Starter(in)
		c, err := Parse("layers.toml", data)
		if err != nil {
			t.Fatalf("Parse(Starter(%+v)) = %v\n%s", in, err, data)
		}
		if c.Runtime != in.Runtime || !reflect.DeepEqual(c.Architectures, in.Architectures) ||
			!reflect.DeepEqual(c.Functions, in.Functions) {
			t.Fatalf("Parse(Starter(%+v)) = %+v", in, c)
		}
	})
}
