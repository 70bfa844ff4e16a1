package builder

import (
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/resolver"
)

// TestFailureNamesMissingWheel: a unit installed as a wheel (a pinned
// requirement, no file list) that pip finds none for fails naming what
// the runtime loads, not only pip's words.
func TestFailureNamesMissingWheel(t *testing.T) {
	t11 := config.Target{Runtime: "python3.11", Architecture: "x86_64"}
	batch := []*job{
		{spec: UnitSpec{Package: resolver.Package{Name: "six", Version: "1.16.0", Source: resolver.SourceRegistry}, Target: t11}},
		{spec: UnitSpec{Package: resolver.Package{Name: "pyarrow", Version: "26.0.1", Source: resolver.SourceRegistry}, Target: t11}},
	}
	out := "ERROR: Could not find a version that satisfies the requirement pyarrow==26.0.1 (from versions: 19.0.1, 20.0.0)\n" +
		"ERROR: No matching distribution found for pyarrow==26.0.1\n\n" + failMarker + "1\n"
	err := (&Builder{}).failure(batch, &engine.ExitError{Code: 3}, out)
	want := "install pyarrow==26.0.1 (python3.11/x86_64): no wheel of this release on the index loads on Lambda's python3.11/x86_64 " +
		"(it needs cp311, abi3 or py3 wheels for manylinux_2_26 or older on x86_64 (glibc 2.26)): pin a release that has one: pip failed (exit status 3)"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "No matching distribution found for pyarrow==26.0.1") {
		t.Errorf("failure = %v\nwant it to start with %s", err, want)
	}
	// Another failure keeps pip's words alone.
	err = (&Builder{}).failure(batch, &engine.ExitError{Code: 3}, "error: subprocess-exited-with-error\n\n"+failMarker+"0\n")
	if err == nil || strings.Contains(err.Error(), "no wheel") {
		t.Errorf("failure = %v", err)
	}
}
