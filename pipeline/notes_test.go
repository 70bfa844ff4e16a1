package pipeline

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
)

func planText(t *testing.T, doc *PlanDocument) string {
	t.Helper()
	var b strings.Builder
	if err := doc.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPlanLeftOut checks plan names the folders that look like functions
// and are not planned, and how to plan them: with and without globs.
func TestPlanLeftOut(t *testing.T) {
	files := map[string]string{
		"functions/api/requirements.txt": "six==1.16.0\n",
		"jobs/nightly/requirements.txt":  "six==1.16.0\n",
	}
	doc, err := Plan(context.Background(), repo(t, files))
	if err != nil {
		t.Fatal(err)
	}
	text := planText(t, doc)
	for _, w := range []string{
		"not planned: 1 folder looks like a function, but the default discovery (the uv workspace's members and functions/*) does not find it (no layers for it):\n  jobs/nightly (requirements.txt)\n",
		`to plan it, set in layers.toml: functions = ["functions/*", "jobs/*"]`,
		"(or run `layers init`, which writes globs that find every function)",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("plan text lacks %q:\n%s", w, text)
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"left_out":[{"path":"jobs/nightly","inputs":"requirements.txt"}]`) {
		t.Errorf("plan JSON lacks left_out: %s", data)
	}

	files["layers.toml"] = "functions = [\"functions/*\"]\n"
	doc, err = Plan(context.Background(), repo(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if text := planText(t, doc); !strings.Contains(text, "no glob of functions in layers.toml matches it") || strings.Contains(text, "layers init") {
		t.Errorf("plan text with globs:\n%s", text)
	}

	files["layers.toml"] = "functions = [\"functions/*\", \"jobs/*\"]\n"
	doc, err = Plan(context.Background(), repo(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if text := planText(t, doc); strings.Contains(text, "not planned") {
		t.Errorf("every function is planned, yet:\n%s", text)
	}
}

// TestPlanEstimatesNotice checks the plan says its layers come from
// estimates while some sizes are, and says nothing once all are measured.
func TestPlanEstimatesNotice(t *testing.T) {
	doc, err := Plan(context.Background(), repo(t, map[string]string{
		"functions/api/requirements.txt":  "six==1.16.0\nidna==3.10\n",
		"functions/jobs/requirements.txt": "six==1.16.0\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if doc.EstimatedUnits != 2 || doc.Units != 2 {
		t.Errorf("estimated %d of %d units, want 2 of 2", doc.EstimatedUnits, doc.Units)
	}
	if text := planText(t, doc); !strings.Contains(text, "estimates: 2 of 2 package sizes are not measured") ||
		!strings.Contains(text, "at the first build, expect other layer names and counts than these") {
		t.Errorf("plan text lacks the estimates notice:\n%s", text)
	}

	// The same input with every size measured.
	tg := planner.Target{Runtime: "python3.12", Architecture: "x86_64"}
	in := planner.Input{Sizes: map[planner.Unit]planner.Size{}, Functions: []planner.Function{
		{Name: "api", Target: tg, Closure: planner.Closure{{Name: "six", Version: "1.16.0", Source: "registry"}, {Name: "idna", Version: "3.10", Source: "registry"}}},
		{Name: "jobs", Target: tg, Closure: planner.Closure{{Name: "six", Version: "1.16.0", Source: "registry"}}},
	}}
	in.Sizes[planner.Unit{Target: tg, Name: "six", Version: "1.16.0", Source: "registry"}] = planner.Size{Bytes: 1000, Kind: planner.SizeMeasured}
	in.Sizes[planner.Unit{Target: tg, Name: "idna", Version: "3.10", Source: "registry"}] = planner.Size{Bytes: 1000, Kind: planner.SizeEstimated}
	measured := &PlanDocument{}
	measured.countEstimated(in)
	if measured.EstimatedUnits != 1 || measured.Units != 2 {
		t.Errorf("one estimate: counted %d of %d", measured.EstimatedUnits, measured.Units)
	}
	in.Sizes[planner.Unit{Target: tg, Name: "idna", Version: "3.10", Source: "registry"}] = planner.Size{Bytes: 1000, Kind: planner.SizeMeasured}
	measured = &PlanDocument{}
	measured.countEstimated(in)
	if measured.EstimatedUnits != 0 || strings.Contains(planText(t, measured), "estimates:") {
		t.Errorf("all measured: counted %d, text:\n%s", measured.EstimatedUnits, planText(t, measured))
	}
}

// TestBuildWarnsLeftOut checks build names the function-like folders it
// does not build.
func TestBuildWarnsLeftOut(t *testing.T) {
	files := map[string]string{}
	for k, v := range smallRepo {
		files[k] = v
	}
	files["jobs/nightly/requirements.txt"] = "six==1.16.0\n"
	cfg := repo(t, files)
	var lines []string
	_, err := Build(context.Background(), cfg, BuildOptions{Engine: &pipEngine{}, CacheDir: t.TempDir(), Tool: "test", Jobs: 1,
		Getenv: func(string) string { return "" }, Progress: func(s string) { lines = append(lines, s) }})
	if err != nil {
		t.Fatal(err)
	}
	want := "warning: not built, though they look like functions: jobs/nightly; no functions glob finds them (`layers plan` says how to include them)"
	if !slices.Contains(lines, want) {
		t.Errorf("build progress lacks %q:\n%s", want, strings.Join(lines, "\n"))
	}
}

// TestPlanEstimatesNoticeKept checks layers kept from the last build's plan
// are not called provisional: the notice names only the others, and says
// nothing when every layer is kept.
func TestPlanEstimatesNoticeKept(t *testing.T) {
	doc := &PlanDocument{EstimatedUnits: 3, Units: 3, Targets: []TargetDocument{{Runtime: "python3.12", Architecture: "x86_64",
		Layers: []planner.Layer{{Name: "a-0123456789abcdef", Kept: true}, {Name: "b-0123456789abcdef"}}}}}
	if text := planText(t, doc); !strings.Contains(text, "1 layer marked (kept) is\nthe last build's, the other 1 layer is planned from estimates") ||
		strings.Contains(text, "at the first build") {
		t.Errorf("some kept:\n%s", text)
	}
	doc.Targets[0].Layers[1].Kept = true
	if text := planText(t, doc); strings.Contains(text, "estimates:") {
		t.Errorf("all kept, yet:\n%s", text)
	}
}
