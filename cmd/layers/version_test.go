package main

import (
	"testing"

	"github.com/layers-dev/layers/internal/buildinfo"
)

func TestVersionFlag(t *testing.T) {
	for _, tt := range []struct{ version, commit, want string }{
		{"1.2.3", "abc1234", "layers 1.2.3 (commit abc1234)\n"},
		{"dev", "", "layers dev\n"},
	} {
		v, c := buildinfo.Version, buildinfo.Commit
		buildinfo.Version, buildinfo.Commit = tt.version, tt.commit
		code, stdout, stderr := runCLI(t, "--version")
		buildinfo.Version, buildinfo.Commit = v, c
		if code != 0 || stdout != tt.want {
			t.Errorf("layers --version = %d, %q (stderr %q); want 0, %q", code, stdout, stderr, tt.want)
		}
	}
}
