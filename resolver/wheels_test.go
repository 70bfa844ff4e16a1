package resolver

import "testing"

func TestWheelScore(t *testing.T) {
	cases := []struct {
		file, runtime, arch string
		loads               bool
	}{
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "python3.12", "x86_64", true},
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "python3.12", "arm64", false},
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "python3.11", "x86_64", false},
		{"numpy-2.1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "python3.12", "arm64", true},
		{"numpy-2.1.0-cp312-cp312-musllinux_1_2_x86_64.whl", "python3.12", "x86_64", false},
		{"numpy-2.1.0-cp312-cp312-win_amd64.whl", "python3.12", "x86_64", false},
		{"pillow-11.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", "python3.11", "x86_64", false}, // glibc 2.26 on AL2
		{"pillow-11.0.0-cp312-cp312-manylinux_2_28_x86_64.whl", "python3.12", "x86_64", true},
		{"x-1.0-cp312-cp312-manylinux_2_35_x86_64.whl", "python3.12", "x86_64", false},
		{"cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", "python3.13", "x86_64", true},
		{"cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", "python3.9", "x86_64", false},
		{"cryptography-43.0.0-cp39-abi3-manylinux2014_x86_64.whl", "python3.9", "x86_64", true},
		{"requests-2.32.3-py3-none-any.whl", "python3.9", "arm64", true},
		{"six-1.16.0-py2.py3-none-any.whl", "python3.14", "x86_64", true},
		{"x-1.0-cp313-cp313-manylinux1_x86_64.whl", "python3.12", "x86_64", false},
		{"x-1.0.tar.gz", "python3.12", "x86_64", false},
	}
	for _, c := range cases {
		if got := WheelScore(c.file, c.runtime, c.arch) > 0; got != c.loads {
			t.Errorf("WheelScore(%s, %s, %s) loads = %v, want %v", c.file, c.runtime, c.arch, got, c.loads)
		}
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
