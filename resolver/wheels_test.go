package resolver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tag logic itself is internal/wheeltag's; these check what the
// resolver makes of it.

func TestBestWheel(t *testing.T) {
	if WheelScore("numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "python3.11", "x86_64") != 0 ||
		WheelScore("numpy-2.4.6-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "python3.12", "x86_64") == 0 ||
		WheelScore("x-1.0.tar.gz", "python3.12", "x86_64") != 0 || WheelScore("x-1-py3-none-any.whl", "node20", "x86_64") != 0 {
		t.Error("WheelScore does not follow the runtimes' glibc")
	}
	w, ok := BestWheel([]Wheel{
		{Filename: "c-43.0-cp39-abi3-manylinux2014_x86_64.whl", Size: 1},
		{Filename: "c-43.0-cp39-abi3-manylinux_2_28_x86_64.whl", Size: 2},
		{Filename: "c-43.0-cp39-abi3-manylinux_2_28_aarch64.whl", Size: 3},
	}, "python3.12", "x86_64")
	if !ok || w.Size != 2 {
		t.Errorf("BestWheel picked %+v, want the manylinux_2_28 x86_64 wheel", w)
	}
}

func TestCheckWheels(t *testing.T) {
	reg := func(sdist bool, wheels ...string) Package {
		p := Package{Name: "x", Version: "1.0", Source: SourceRegistry, Sdist: sdist}
		for _, w := range wheels {
			p.Wheels = append(p.Wheels, Wheel{Filename: w})
		}
		return p
	}
	tests := []struct {
		name    string
		p       Package
		runtime string
		want    Availability
		reason  string
	}{
		{"a wheel loads", reg(true, "x-1.0-cp311-cp311-manylinux2014_x86_64.whl"), "python3.11", AvailableWheel, ""},
		{"compiled, glibc too new, with an sdist", reg(true, "x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"), "python3.11", AvailableNone,
			"x 1.0: no wheel for python3.11/x86_64 on Lambda (glibc 2.26, needs manylinux_2_26 or older); the lock has manylinux_2_28 only"},
		{"compiled for other Pythons", reg(false, "x-1.0-cp313-cp313-manylinux2014_x86_64.whl"), "python3.11", AvailableNone,
			"x 1.0: no wheel for python3.11/x86_64 on Lambda (CPython 3.11, needs cp311, abi3 or py3 wheels); the lock has wheels for cp313 only"},
		{"sdist only", reg(true), "python3.11", AvailableSource, "x 1.0: no wheel for python3.11/x86_64 on Lambda; it will be built from source (fine for pure Python)"},
		{"pure wheels for Python 2 and an sdist", reg(true, "x-1.0-py2-none-any.whl"), "python3.11", AvailableSource, "built from source"},
		{"nothing listed", reg(false), "python3.11", AvailableUnknown, ""},
		{"a local folder", Package{Name: "x", Source: SourceLocal, Path: "libs/x"}, "python3.11", AvailableSource, ""},
	}
	for _, tt := range tests {
		got := CheckWheels(tt.p, tt.runtime, "x86_64")
		if got.Availability != tt.want || !strings.Contains(got.Reason, tt.reason) || tt.reason == "" && got.Reason != "" {
			t.Errorf("%s: %+v, want %s %q", tt.name, got, tt.want, tt.reason)
		}
	}
	got := CheckIndexFiles(Package{Name: "x", Version: "1.0", Source: SourceRegistry},
		[]string{"x-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", "x-1.0.tar.gz"}, "python3.11", "x86_64")
	if got.Availability != AvailableNone || !strings.Contains(got.Reason, "the index has musllinux_1_2") {
		t.Errorf("CheckIndexFiles: %+v", got)
	}
}

func TestPinPosition(t *testing.T) {
	lock, err := ParseUVLock("testdata/uvlock/workspace", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	got, err := lock.Closure(LockRequest{Project: "orders", Env: uvTestEnv(t, "python3.12", "x86_64")})
	if err != nil || len(got) == 0 {
		t.Fatal(err, got)
	}
	for _, p := range got {
		file, line := PinPosition("testdata/uvlock/workspace", p)
		data, _ := os.ReadFile(filepath.Join("testdata/uvlock/workspace", file))
		lines := strings.Split(string(data), "\n")
		if file != "uv.lock" || line <= 0 || line > len(lines) || lines[line-1] != `name = "`+p.Name+`"` {
			t.Errorf("%s: pinned at %s:%d", p.Name, file, line)
		}
	}
}
