package pipeline

import (
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/resolver"
)

// TestPlanTextByteCode checks that `layers plan` shows each function's byte
// code and names the image functions byte code alone pushes over the limit.
func TestPlanTextByteCode(t *testing.T) {
	const limit = 250 << 20
	fn := func(name string, kind planner.PackageType, unzipped, byteCode int64) FunctionDocument {
		return FunctionDocument{Name: name, PackageType: kind, UnzippedBytes: &unzipped, ByteCodeBytes: &byteCode, Estimated: true,
			Packages: []PackageDocument{{Name: "x"}}}
	}
	d := &PlanDocument{limit: limit, Targets: []TargetDocument{{Runtime: "python3.11", Architecture: "x86_64", Functions: []FunctionDocument{
		fn("small", planner.PackageLayers, 100<<20, 30<<20),
		fn("pushed", planner.PackageImage, 300<<20, 60<<20),
		fn("huge", planner.PackageImage, 400<<20, 100<<20),
	}}}}
	var b strings.Builder
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"BYTE CODE", "~30.0 MiB", "~60.0 MiB", "~100 MiB",
		"byte code pushes these functions over the size limit", "  pushed: 50.0 MiB over 250 MiB"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan text lacks %q:\n%s", want, text)
		}
	}
	if _, note, _ := strings.Cut(text, "byte code pushes"); strings.Contains(note, "huge") {
		t.Errorf("huge is over the limit even without byte code:\n%s", text)
	}
}

// TestPlanByteCodeEstimate checks the estimate's arithmetic: byte code is
// byteCodeShare of an estimate that includes it, and none when stripped.
func TestPlanByteCodeEstimate(t *testing.T) {
	if got := withByteCode(71, false); got != 71 {
		t.Errorf("strip: %d, want 71", got)
	}
	with := withByteCode(71_000_000, true)
	if bc := estimatedByteCode(with); with-bc < 70_990_000 || with-bc > 71_010_000 {
		t.Errorf("compile: %d with %d of byte code; the rest should be the 71 MB estimated without it", with, bc)
	}
	cfg := config.Default(t.TempDir())
	tgt := planner.Target{Runtime: "python3.11", Architecture: "x86_64"}
	c := resolver.Closure{Packages: []resolver.Package{{Name: "a", Version: "1", Source: resolver.SourceRegistry}}}
	sizes := map[planner.Unit]planner.Size{{Target: tgt, Name: "a", Version: "1", Source: "registry"}: {Bytes: 1000, Kind: planner.SizeEstimated}}
	if got := planByteCode(cfg, c, tgt, sizes); got == nil || *got != 290 {
		t.Errorf("byte code of a 1000-byte estimate: %v, want 290", got)
	}
	cfg.Prune.Bytecode = config.BytecodeStrip
	if got := planByteCode(cfg, c, tgt, sizes); got != nil {
		t.Errorf("strip: byte code %d, want none", *got)
	}
}
