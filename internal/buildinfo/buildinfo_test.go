package buildinfo_test

import (
	"testing"

	"github.com/layers-dev/layers/internal/buildinfo"
)

func TestTool(t *testing.T) {
	for v, want := range map[string]string{"": buildinfo.DevVersion, "v1.2.3": "v1.2.3", "dev": "dev"} {
		if got := buildinfo.Tool(v); got != want {
			t.Errorf("Tool(%q) = %q, want %q", v, got, want)
		}
	}
	if buildinfo.Version != buildinfo.DevVersion {
		t.Errorf("Version %q in a test binary, want %q", buildinfo.Version, buildinfo.DevVersion)
	}
}
