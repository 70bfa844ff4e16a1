package wheeltag

import (
	"strconv"
	"testing"
)

func runtime(t *testing.T, name, arch string) Runtime {
	t.Helper()
	r, err := RuntimeFor(name, arch)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRuntimeFor(t *testing.T) {
	for _, tt := range []struct {
		runtime, arch string
		glibc         int
		machine       string
	}{
		{"python3.9", "x86_64", 26, "x86_64"},
		{"python3.11", "arm64", 26, "aarch64"},
		{"python3.12", "x86_64", 34, "x86_64"},
		{"python3.13", "arm64", 34, "aarch64"},
		{"python3.14", "x86_64", 34, "x86_64"},
	} {
		r := runtime(t, tt.runtime, tt.arch)
		if r.Glibc != tt.glibc || r.Machine != tt.machine {
			t.Errorf("%s/%s: glibc 2.%d on %s, want 2.%d on %s", tt.runtime, tt.arch, r.Glibc, r.Machine, tt.glibc, tt.machine)
		}
	}
	for _, bad := range [][2]string{{"python3.8", "x86_64"}, {"python3.11", "sparc"}, {"node20", "x86_64"}, {"python3.011", "x86_64"}, {"python3.", "arm64"}} {
		if _, err := RuntimeFor(bad[0], bad[1]); err == nil {
			t.Errorf("RuntimeFor(%s, %s): no error", bad[0], bad[1])
		}
	}
}

func TestScore(t *testing.T) {
	cases := []struct {
		file, runtime, arch string
		loads               bool
	}{
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "python3.12", "x86_64", true},
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "python3.12", "arm64", false},
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "python3.11", "x86_64", false},
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "python3.12", "arm64", true},
		{"numpy-2.1.0-cp312-cp312-musllinux_1_2_x86_64.whl", "python3.12", "x86_64", false},
		{"numpy-2.1.0-cp312-cp312-linux_x86_64.whl", "python3.12", "x86_64", false},
		{"numpy-2.1.0-cp312-cp312-win_amd64.whl", "python3.12", "x86_64", false},
		// Amazon Linux 2: glibc 2.26.
		{"numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "python3.11", "x86_64", false},
		{"x-1.0-cp311-cp311-manylinux_2_26_x86_64.whl", "python3.11", "x86_64", true},
		{"x-1.0-cp311-cp311-manylinux_2_24_aarch64.whl", "python3.10", "arm64", false},
		{"x-1.0-cp310-cp310-manylinux_2_24_aarch64.whl", "python3.10", "arm64", true},
		{"pillow-11.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", "python3.11", "x86_64", false},
		// Amazon Linux 2023: glibc 2.34.
		{"pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl", "python3.12", "x86_64", true},
		{"x-1.0-cp312-cp312-manylinux_2_34_x86_64.whl", "python3.12", "x86_64", true},
		{"x-1.0-cp312-cp312-manylinux_2_35_x86_64.whl", "python3.12", "x86_64", false},
		{"x-1.0-cp313-cp313-manylinux_2_39_aarch64.whl", "python3.13", "arm64", false},
		// Legacy names: manylinux1 = 2.5, manylinux2010 = 2.12, manylinux2014 = 2.17.
		{"x-1.0-cp39-cp39-manylinux1_x86_64.whl", "python3.9", "x86_64", true},
		{"x-1.0-cp39-cp39-manylinux2010_x86_64.whl", "python3.9", "x86_64", true},
		{"x-1.0-cp313-cp313-manylinux1_x86_64.whl", "python3.12", "x86_64", false},
		{"cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", "python3.13", "x86_64", true},
		{"cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", "python3.9", "x86_64", false},
		{"cryptography-43.0.0-cp39-abi3-manylinux2014_x86_64.whl", "python3.9", "x86_64", true},
		{"x-1.0-cp312-abi3-manylinux2014_x86_64.whl", "python3.11", "x86_64", false},
		{"requests-2.32.3-py3-none-any.whl", "python3.9", "arm64", true},
		{"six-1.16.0-py2.py3-none-any.whl", "python3.14", "x86_64", true},
		{"old-1.0-py2-none-any.whl", "python3.11", "x86_64", false},
		{"x-1.0-py313-none-any.whl", "python3.12", "x86_64", false},
		{"x-1.0-1build-cp311-cp311-manylinux2014_x86_64.whl", "python3.11", "x86_64", true},
		{"x-1.0-pp310-pypy310_pp73-manylinux2014_x86_64.whl", "python3.10", "x86_64", false},
	}
	for _, c := range cases {
		f, err := Parse(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := runtime(t, c.runtime, c.arch).Score(f) > 0; got != c.loads {
			t.Errorf("%s on %s/%s: loads = %v, want %v", c.file, c.runtime, c.arch, got, c.loads)
		}
	}
	r := runtime(t, "python3.12", "x86_64")
	abi3, _ := Parse("c-43.0-cp39-abi3-manylinux_2_28_x86_64.whl")
	own, _ := Parse("c-43.0-cp312-cp312-manylinux2014_x86_64.whl")
	pure, _ := Parse("c-43.0-py3-none-any.whl")
	if !(r.Score(own) > r.Score(abi3) && r.Score(abi3) > r.Score(pure)) {
		t.Errorf("scores cp312 %d, abi3 %d, pure %d: want them in that order", r.Score(own), r.Score(abi3), r.Score(pure))
	}
}

func TestParse(t *testing.T) {
	f, err := Parse("numpy-2.4.6-1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "numpy" || f.Version != "2.4.6" || f.Build != "1" || len(f.Platform) != 2 || f.Pure() {
		t.Errorf("Parse: %+v", f)
	}
	for _, bad := range []string{"numpy-2.4.6.tar.gz", "numpy-cp311-cp311-any.whl", "a-1-py3--any.whl", "a-1-py3-none-.whl", "a-1-py3.-none-any.whl", "a-1-b-c-py3-none-any.whl"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestPlatformTags(t *testing.T) {
	al2 := runtime(t, "python3.11", "x86_64").PlatformTags()
	if al2[0] != "manylinux_2_26_x86_64" || al2[len(al2)-1] != "manylinux1_x86_64" || len(al2) != 10+1+4 {
		t.Errorf("python3.11/x86_64: %q", al2)
	}
	arm := runtime(t, "python3.13", "arm64").PlatformTags()
	if arm[0] != "manylinux_2_34_aarch64" || arm[len(arm)-1] != "manylinux2014_aarch64" || len(arm) != 18+1 {
		t.Errorf("python3.13/arm64: %q", arm)
	}
	// Every tag pip gets must load by Score, and the one above must not.
	for _, rt := range []Runtime{runtime(t, "python3.11", "x86_64"), runtime(t, "python3.12", "arm64")} {
		for _, tag := range rt.PlatformTags() {
			f, _ := Parse("x-1-py3-none-" + tag + ".whl")
			if rt.Score(f) == 0 {
				t.Errorf("%s: pip may pick %s, which Score refuses", rt, tag)
			}
		}
		above, _ := Parse("x-1-py3-none-manylinux_2_" + itoa(rt.Glibc+1) + "_" + rt.Machine + ".whl")
		if rt.Score(above) != 0 {
			t.Errorf("%s loads %v", rt, above.Platform)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRefusal(t *testing.T) {
	parse := func(names ...string) []Filename {
		var out []Filename
		for _, n := range names {
			f, err := Parse(n)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, f)
		}
		return out
	}
	tests := []struct {
		runtime, arch string
		wheels        []string
		needs, has    string
	}{
		{"python3.11", "x86_64", []string{
			"numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
			"numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
			"numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl",
			"numpy-2.4.6-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
			"numpy-2.4.6-cp311-cp311-win_amd64.whl",
		}, "glibc 2.26, needs manylinux_2_26 or older", "manylinux_2_27/2_28, musllinux_1_2 (musl libc, which Lambda does not have) only"},
		{"python3.13", "x86_64", []string{"old-1.0-cp311-cp311-manylinux2014_x86_64.whl", "old-1.0-cp312-cp312-manylinux2014_x86_64.whl"},
			"CPython 3.13, needs cp313, abi3 or py3 wheels", "wheels for cp311, cp312 only"},
		{"python3.12", "arm64", []string{"x-1.0-cp312-cp312-manylinux2014_x86_64.whl", "x-1.0-cp312-cp312-macosx_11_0_arm64.whl"},
			"needs a manylinux wheel for aarch64", "cp312 wheels for x86_64, macosx only"},
	}
	for _, tt := range tests {
		needs, has := runtime(t, tt.runtime, tt.arch).Refusal(parse(tt.wheels...))
		if needs != tt.needs || has != tt.has {
			t.Errorf("%s/%s:\n got (%s); %s\nwant (%s); %s", tt.runtime, tt.arch, needs, has, tt.needs, tt.has)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
		"six-1.16.0-py2.py3-none-any.whl", "x-1.0-1b-cp39-abi3-musllinux_1_2_aarch64.whl",
		"x-1.0-cp39-cp39-manylinux2010_x86_64.whl", "a-b-c.whl", "--.whl", "x-1-py3-none-linux_.whl",
	} {
		f.Add(s)
	}
	r11, _ := RuntimeFor("python3.11", "x86_64")
	r13, _ := RuntimeFor("python3.13", "arm64")
	f.Fuzz(func(t *testing.T, name string) {
		w, err := Parse(name)
		if err != nil {
			return
		}
		if w.Name == "" || w.Version == "" || len(w.Python) == 0 || len(w.ABI) == 0 || len(w.Platform) == 0 {
			t.Fatalf("Parse(%q) = %+v: an empty part", name, w)
		}
		for _, r := range []Runtime{r11, r13} {
			if s := r.Score(w); s > 0 && !r.Interpreter(w) {
				t.Fatalf("%q scores %d on %s without a matching interpreter", name, s, r)
			}
			needs, has := r.Refusal([]Filename{w})
			if needs == "" || has == "" {
				t.Fatalf("Refusal(%q) on %s is empty", name, r)
			}
		}
		for _, p := range w.Platform {
			if pl, ok := ParsePlatform(p); ok && pl.Machine == "" {
				t.Fatalf("ParsePlatform(%q) has no machine", p)
			}
		}
	})
}
